"""Webhooks: every event of the chosen types reaches a real receiver, in log order, signed, once per webhook-id.

The receiver (tests/integration/webhook_receiver.py) checks signatures with its own
HMAC code and dedupes by webhook-id, as Standard Webhooks receivers do; the tests
read what it accepted. Retry and give-up run on an injected clock; the crash test
kills a real `custody webhook run` process while the receiver holds a request.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from api.rest.notices import notice
from ledger.audit_log import read_audit
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import register_staff
from ledger.webhooks import KNOWN_TYPES, add_webhook
from ledger.webhooks_run import deliver_all
from ledger.webhooks_secrets import SecretUnsealable, open_secret
from ledger.webhooks_status import all_status
from tests.integration.journeys import IDENTITY, PATIENT, enrolled, identified, team
from tests.integration.webhook_receiver import Receiver, running

KEY = bytes(range(1, 33))  # the 32 secret bytes every test webhook signs with
SECRET_TEXT = "whsec_" + base64.b64encode(KEY).decode()
NOTICE_KEYS = {"position", "type", "aggregate_kind", "aggregate_id", "version", "occurred_at", "recorded_at",
               "signed_by", "hash"}  # fmt: skip
REPO = Path(__file__).resolve().parents[2]
FAST_KDF_ENV = {"CUSTODY_KDF_MEMORY_KIB": "1024", "CUSTODY_KDF_TIME_COST": "1", "CUSTODY_KDF_PARALLELISM": "1"}


class ManualClock:
    """The injectable clock, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment


def environment(settings: Settings) -> dict[str, str]:
    env = {**FAST_KDF_ENV, "CUSTODY_HOME": str(settings.home)}
    if settings.database_url:
        env["CUSTODY_DATABASE_URL"] = settings.database_url
    return env


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`custody …` in-process against the test ledger: exit code, stdout, stderr."""
    for name in [name for name in os.environ if name.startswith("CUSTODY_")]:
        monkeypatch.delenv(name)
    for name, value in environment(ledger.settings).items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook.secret"
    path.write_text(SECRET_TEXT + "\n")
    return path


def grow(ledger: CustodyLedger, *usernames: str) -> None:
    """Register people: three events each (StaffMemberRegistered, PrintedNameClaimed, SigningKeyRegistered)."""
    for username in usernames:
        register_staff(ledger, username, f"Nurse {username}", "nurse", "nurse-password", registrar="ledger")


def webhook_rows(ledger: CustodyLedger) -> list[dict[str, Any]]:
    with ledger.store.side_transaction() as cursor:
        cursor.execute("SELECT * FROM webhooks")
        return cursor.fetchall()


def test_deliveries_arrive_in_log_order_signed_and_only_of_the_chosen_types(
    ledger: CustodyLedger, cli: Cli, secret_file: Path
) -> None:
    grow(ledger, "before")  # recorded before the webhook: not told
    with running(Receiver(KEY)) as receiver:
        code, out, err = cli("webhook", "add", receiver.url, "--events", "StaffMemberRegistered",
                             "SigningKeyRegistered", "--secret-file", str(secret_file), "--json")  # fmt: skip
        assert code == 0, out + err
        hook = json.loads(out)
        start = ledger.store.size()
        grow(ledger, "ann", "bob", "cid")
        assert cli("webhook", "run", "--once")[0] == 0
    wanted = [start + 1, start + 3, start + 4, start + 6, start + 7, start + 9]  # registrations and keys, not names
    assert receiver.accepted == [f"{hook['id']}:{position}" for position in wanted]
    assert all(request.signature_valid for request in receiver.requests)
    assert len(receiver.requests) == 6
    for request in receiver.requests:
        assert abs(int(request.timestamp) - time.time()) < 120
        body = json.loads(request.body)
        assert set(body) == NOTICE_KEYS
        assert request.message_id == f"{hook['id']}:{body['position']}"
    types = [json.loads(receiver.bodies[m])["type"] for m in receiver.accepted]
    assert types == ["StaffMemberRegistered", "SigningKeyRegistered"] * 3
    status = all_status(ledger.store)[0]
    assert (status["position"], status["delivered"], status["pending"], status["given_up"]) == (
        start + 9, 6, [], []
    )  # fmt: skip


def test_the_secret_is_stored_sealed_and_never_printed(ledger: CustodyLedger, cli: Cli, secret_file: Path) -> None:
    code, out, _ = cli("webhook", "add", "https://receiver.example/hook", "--events", "StaffMemberRegistered",
                       "--secret-file", str(secret_file), "--json")  # fmt: skip
    assert code == 0
    hook_id = json.loads(out)["id"]
    [row] = webhook_rows(ledger)
    sealed = bytes(row["sealed_secret"])
    assert KEY not in sealed and SECRET_TEXT.encode() not in sealed
    assert open_secret(ledger.settings.home, hook_id, sealed) == KEY
    with pytest.raises(SecretUnsealable):
        open_secret(ledger.settings.home, "wh_another", sealed)  # bound to its webhook
    for args in (("webhook", "list", "--json"), ("webhook", "status", "--json"), ("audit", "--json")):
        code, printed, _ = cli(*args)
        assert SECRET_TEXT[6:] not in printed and "whsec_" not in printed
    [added] = read_audit(ledger.store, action="webhook_added")
    assert (added.actor, added.subject, added.detail["events"]) == ("admin", hook_id, ["StaffMemberRegistered"])


def test_no_payload_nor_patient_identity_leaves_in_a_delivery(ledger: CustodyLedger) -> None:
    clock_start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    rec = team(ledger)
    identified(ledger)
    with running(Receiver(KEY)) as receiver:
        hook = add_webhook(ledger, receiver.url, sorted(KNOWN_TYPES), KEY, by="admin")  # told of everything
        start = ledger.store.size()
        enrolled(rec, clock_start)
        deliver_all(ledger, notice)
    assert len(receiver.accepted) == ledger.store.size() - start  # every event of the journey was told
    everything = b"".join(request.body for request in receiver.requests)
    for secret in (IDENTITY.family_name, IDENTITY.given_name, IDENTITY.birth_date, IDENTITY.hospital_number, PATIENT):
        assert secret.encode() not in everything
    for message_id in receiver.accepted:
        assert set(json.loads(receiver.bodies[message_id])) == NOTICE_KEYS
        assert message_id.startswith(hook.id + ":")


@pytest.fixture
def clocked(ledger: CustodyLedger) -> Iterator[tuple[CustodyLedger, ManualClock]]:
    """The same store, opened with a clock the test moves and a 10-minute give-up."""
    clock = ManualClock(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    settings = ledger.settings.model_copy(update={"webhook_give_up_minutes": 10.0})
    instance = CustodyLedger(settings, clock=clock)
    try:
        yield instance, clock
    finally:
        instance.close()


def test_a_failed_delivery_is_retried_with_backoff_and_holds_back_later_events(
    clocked: tuple[CustodyLedger, ManualClock],
) -> None:
    ledger, clock = clocked
    statuses = [500]
    receiver = Receiver(KEY, answer=lambda message_id: statuses.pop(0) if statuses else 200)
    with running(receiver):
        hook = add_webhook(ledger, receiver.url, ["StaffMemberRegistered"], KEY, by="admin")
        start = ledger.store.size()
        grow(ledger, "ann", "bob")
        first, second = f"{hook.id}:{start + 1}", f"{hook.id}:{start + 4}"
        [outcome] = deliver_all(ledger, notice)
        assert (outcome.message_id, outcome.result, outcome.reason) == (first, "retry", "HTTP 500")
        assert outcome.next_attempt_at == "2026-05-04T10:00:01.000000Z"  # 1 s after the first failure
        [pending] = all_status(ledger.store)[0]["pending"]
        assert (pending["webhook_id"], pending["attempts"], pending["reason"]) == (first, 1, "HTTP 500")
        assert deliver_all(ledger, notice) == []  # not due yet: nothing sent, the later event waits too
        assert receiver.arrivals(second) == 0
        clock.moment += timedelta(seconds=1)
        assert [o.result for o in deliver_all(ledger, notice)] == ["delivered", "delivered"]
    assert receiver.accepted == [first, second]
    assert receiver.arrivals(first) == 2
    status = all_status(ledger.store)[0]
    assert (status["pending"], status["delivered"], status["position"]) == ([], 2, start + 6)


def test_a_delivery_failing_past_the_give_up_time_is_given_up_reported_and_passed(
    clocked: tuple[CustodyLedger, ManualClock],
) -> None:
    ledger, clock = clocked
    doomed: list[str] = []
    receiver = Receiver(KEY, answer=lambda message_id: 503 if message_id in doomed else 200)
    with running(receiver):
        hook = add_webhook(ledger, receiver.url, ["StaffMemberRegistered"], KEY, by="admin")
        start = ledger.store.size()
        grow(ledger, "ann", "bob")
        first, second = f"{hook.id}:{start + 1}", f"{hook.id}:{start + 4}"
        doomed.append(first)
        assert [o.result for o in deliver_all(ledger, notice)] == ["retry"]
        clock.moment += timedelta(minutes=9, seconds=59)  # not yet ten minutes since the first attempt
        assert [o.result for o in deliver_all(ledger, notice)] == ["retry"]
        clock.moment += timedelta(seconds=1)  # ten minutes: CUSTODY_WEBHOOK_GIVE_UP_MINUTES=10
        assert [(o.message_id, o.result) for o in deliver_all(ledger, notice)] == [
            (first, "given_up"), (second, "delivered")
        ]  # fmt: skip
    assert receiver.accepted == [second]
    status = all_status(ledger.store)[0]
    [given_up] = status["given_up"]
    assert (given_up["webhook_id"], given_up["attempts"], given_up["reason"]) == (first, 3, "HTTP 503")
    assert given_up["given_up_at"] == "2026-05-04T10:10:00.000000Z"
    assert status["pending"] == [] and status["position"] == start + 6
    [audited] = read_audit(ledger.store, action="webhook_gave_up")
    assert (audited.subject, audited.detail["webhook_id"], audited.detail["reason"]) == (hook.id, first, "HTTP 503")


def test_a_disabled_webhook_is_told_nothing_more(ledger: CustodyLedger, cli: Cli, secret_file: Path) -> None:
    with running(Receiver(KEY)) as receiver:
        code, out, _ = cli("webhook", "add", receiver.url, "--events", "StaffMemberRegistered",
                           "--secret-file", str(secret_file), "--json")  # fmt: skip
        hook_id = json.loads(out)["id"]
        assert cli("webhook", "disable", hook_id)[0] == 0
        grow(ledger, "ann")
        assert cli("webhook", "run", "--once")[0] == 0
        code, _, err = cli("webhook", "disable", hook_id)
    assert receiver.requests == []
    assert code == 2 and "rule: already_disabled" in err
    [disabled] = read_audit(ledger.store, action="webhook_disabled")
    assert (disabled.actor, disabled.subject) == ("admin", hook_id)
    assert json.loads(cli("webhook", "list", "--json")[1])[0]["enabled"] is False


@pytest.mark.parametrize(
    ("args", "field", "rule"),
    [
        (("ftp://receiver.example/hook", "--events", "StaffMemberRegistered"), "url", "invalid_url"),
        (("not a url", "--events", "StaffMemberRegistered"), "url", "invalid_url"),
        (("https://u:p@receiver.example/", "--events", "StaffMemberRegistered"), "url", "credentials_in_url"),
        (("https://receiver.example/", "--events", "StaffMemberRegistred"), "--events", "unknown_event_type"),
        (("https://receiver.example/", "--events", "StaffMemberRegistered", "--user", "nurse1"),
         "--user", "role_not_allowed"),
        (("https://receiver.example/", "--events", "StaffMemberRegistered", "--user", "nobody"), "user", None),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_field_and_rule_and_stores_nothing(
    ledger: CustodyLedger, cli: Cli, secret_file: Path, args: tuple[str, ...], field: str, rule: str | None
) -> None:
    grow(ledger, "nurse1")
    audit_before = len(read_audit(ledger.store))
    code, _, err = cli("webhook", "add", *args, "--secret-file", str(secret_file))
    assert code == 2
    assert f"field: {field}" in err and (rule is None or f"rule: {rule}" in err)
    assert webhook_rows(ledger) == []
    assert len(read_audit(ledger.store)) == audit_before


@pytest.mark.parametrize(
    ("content", "rule"),
    [(None, "unreadable_file"), ("short secret", "secret_too_short"), ("whsec_!!notbase64", "malformed_secret"),
     ("whsec_" + base64.b64encode(b"x" * 8).decode(), "secret_too_short")],
)  # fmt: skip
def test_a_missing_or_weak_secret_file_is_refused_and_stores_nothing(
    ledger: CustodyLedger, cli: Cli, tmp_path: Path, content: str | None, rule: str
) -> None:
    path = tmp_path / "secret"
    if content is not None:
        path.write_text(content)
    code, _, err = cli("webhook", "add", "https://receiver.example/", "--events", "StaffMemberRegistered",
                       "--secret-file", str(path))  # fmt: skip
    assert code == 2 and f"field: --secret-file; rule: {rule}" in err
    assert webhook_rows(ledger) == []
    assert read_audit(ledger.store, action="webhook_added") == []


def test_a_sender_killed_mid_delivery_loses_nothing_and_the_receiver_applies_each_event_once(
    ledger: CustodyLedger, cli: Cli, secret_file: Path
) -> None:
    receiver = Receiver(KEY, hold_seconds=4.0)
    env = {name: value for name, value in os.environ.items() if not name.startswith("CUSTODY_")}
    env.update(environment(ledger.settings))
    command = [sys.executable, "-m", "api.cli", "webhook", "run"]
    with running(receiver):
        code, out, _ = cli("webhook", "add", receiver.url, "--events", "StaffMemberRegistered",
                           "SigningKeyRegistered", "--secret-file", str(secret_file), "--json")  # fmt: skip
        assert code == 0
        hook_id = json.loads(out)["id"]
        start = ledger.store.size()
        grow(ledger, "ann", "bob")
        expected = [f"{hook_id}:{start + offset}" for offset in (1, 3, 4, 6)]
        receiver.hold = expected[1]  # accepted, then the answer is held while the sender is killed
        sender = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert receiver.held.wait(90), "the sender never reached the held delivery"
        finally:
            sender.send_signal(signal.SIGKILL)
            sender.wait(30)
        assert receiver.accepted == expected[:2]
        [pending] = all_status(ledger.store)[0]["pending"]
        assert (pending["webhook_id"], pending["attempts"]) == (expected[1], 1)  # recorded before it was sent
        restarted = subprocess.run(
            [*command, "--once"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert restarted.returncode == 0, restarted.stderr
    assert receiver.accepted == expected  # nothing lost, in log order, each applied once
    assert receiver.arrivals(expected[1]) == 2  # the redelivery carried the same webhook-id
    assert [receiver.arrivals(m) for m in (expected[0], expected[2], expected[3])] == [1, 1, 1]
    assert all(request.signature_valid for request in receiver.requests)
    status = all_status(ledger.store)[0]
    assert (status["pending"], status["delivered"], status["position"]) == ([], 4, start + 6)
