"""Web forms count wrong signature passwords like every channel; the audit page shows the log of people."""

from __future__ import annotations

import re
import uuid
from typing import Any

from ledger.audit_log import read_audit
from ledger.service import CustodyLedger
from tests.api.conftest import password

WRONG = "not-the-password-123"


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found
    return found.group(1)


def test_wrong_passwords_in_web_forms_lock_signing(browser_of: Any, ledger: CustodyLedger) -> None:
    client = browser_of("nurse")
    url = f"/ui/products/{uuid.uuid4()}/steps/AnnotationAdded"
    token = csrf(client.get("/ui/").text)
    form = {"csrf": token, "text": "checked", "meaning": "authored"}
    pages = [client.post(url, data={**form, "password": WRONG}) for _ in range(5)]
    assert [page.status_code for page in pages] == [401] * 5
    assert "signature_authentication" in pages[0].text and "signing_locked" in pages[4].text
    right = client.post(url, data={**form, "password": password("nurse")})
    assert right.status_code == 401 and "signing_locked" in right.text
    assert "custody staff unlock-signing nurse" in right.text
    assert [e.detail["channel"] for e in read_audit(ledger.store, action="signature_failed")] == ["web"] * 5


def test_the_audit_page_shows_the_log_of_people_to_auditors_and_administrators_only(
    browser_of: Any, ledger: CustodyLedger
) -> None:
    ledger.signing_lockout.failed("nurse", "cli")
    for reader in ("auditor", "admin"):
        page = browser_of(reader).get("/ui/audit")
        assert page.status_code == 200
        table = page.text.split('id="security-log-table"')[1].split("</table>")[0]
        assert "signature_failed" in table and "nurse" in table and "channel: cli" in table
    assert 'id="security-log"' not in browser_of("pharmacist").get("/ui/audit").text
    assert browser_of("sponsor").get("/ui/audit").status_code == 403


def test_an_empty_log_of_people_says_so(browser_of: Any) -> None:
    client = browser_of("auditor")
    client.cookies.set("lang", "en")
    page = client.get("/ui/audit").text
    assert 'id="security-log"' in page and "Nothing recorded yet." in page
