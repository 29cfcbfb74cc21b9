"""Browser tests: the web interface served by a real `custody serve`, driven by headless Chromium (Playwright).

Each test gets a fresh store (SQLite in its temporary directory, or a fresh
PostgreSQL schema), prepared through the ledger itself: the staff registered
and the products enrolled, before `custody serve` starts on a free port. The
browser is Debian's Chromium (/usr/bin/chromium, or CUSTODY_CHROMIUM), never a
Playwright download; each test gets fresh browser contexts, one per person, as
at separate workstations, each signed in through the sign-in form.

Without Playwright or Chromium the tests skip with the reason outside CI, and
fail with CI=true. A PNG of the page is kept after each major step under
CUSTODY_TEST_ARTEFACTS (default tests/artefacts/browser/), one folder per test,
with a last screenshot of every open page when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from api.rest_bench import free_port
from api.web.session import COOKIE
from ledger.service import CustodyLedger
from ledger.setup import initialise
from tests.browser.accessibility import assert_accessible
from tests.conftest import make_settings, postgres_url
from tests.integration.journeys import (
    Journey,
    Recorder,
    conditioned,
    enrolled,
    identified,
    register_qualified,
    released_and_stored,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CUSTODY_CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = Path(os.environ.get("CUSTODY_TEST_ARTEFACTS") or REPO / "tests" / "artefacts" / "browser")
FAST_KDF_ENV = {"CUSTODY_KDF_TIME_COST": "1", "CUSTODY_KDF_MEMORY_KIB": "1024", "CUSTODY_KDF_PARALLELISM": "1"}
ADMIN_PASSWORD = "browser-admin-password"
START_SECONDS = 60.0
STOP_SECONDS = 20.0
TIMEOUT_MS = 30_000  # generous: a loaded CI runner may take seconds for a page; a healthy one takes milliseconds

# username: (printed name, role, password, browser locale: the hospital in French, the manufacturer in English)
STAFF: dict[str, tuple[str, str, str, str]] = {
    "nurse": ("Nina Nurse", "nurse", "nurse-browser-pass", "fr-FR"),
    "physician": ("Dr Paul Physician", "physician", "physician-browser-pass", "fr-FR"),
    "pharmacist": ("Phil Pharmacist", "pharmacist", "pharmacist-browser-pass", "fr-FR"),
    "qp": ("Quentin Qp", "qp", "qp-browser-password", "en-GB"),
    "qc": ("Quinn Qc", "qp", "qc-browser-password", "en-GB"),  # records QC, so that "qp" may release (four eyes)
    "courier": ("Carl Courier", "courier", "courier-browser-pass", "en-GB"),
    "auditor": ("Audrey Auditor", "auditor", "auditor-browser-pass", "en-GB"),
}
PATIENT = "PSN-BROWSER-0001"
STORED_PATIENT = "PSN-BROWSER-0002"
OTHER_PATIENT = "PSN-BROWSER-0003"


# -- availability: skip outside CI, fail in CI -----------------------------------------------------


def in_ci() -> bool:
    """CI=true: a missing browser is a failure, not a skip."""
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip with the reason outside CI; fail in CI, where the browser tests must run."""
    if in_ci():
        pytest.fail(f"browser tests are required in CI (CI=true): {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)


def require_browser() -> None:
    """Playwright importable and Chromium installed, or skip (fail in CI). Call before importing playwright."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        unavailable(f"the playwright package is not installed ({error}); run `make test` or pip install -e '.[dev]'")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(
            f"no Chromium at {CHROMIUM}; run `make test` (installs Debian's chromium) "
            "or `apt-get install chromium`, or set CUSTODY_CHROMIUM"
        )


# -- the store and the server ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ward:
    """A prepared store: where it lives, and the products waiting in it."""

    backend: str
    home: Path
    database_url: str | None
    journey: Journey  # enrolled, awaiting apheresis: the whole journey is recorded in the browser
    stored: Journey  # stored in LN2 at the pharmacy, awaiting dispensing
    other: Journey  # another patient's product, enrolled

    def env(self) -> dict[str, str]:
        """The server's environment: the caller's minus every CUSTODY_* variable, plus this store's."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("CUSTODY_")}
        env.update(FAST_KDF_ENV)
        env["CUSTODY_HOME"] = str(self.home)
        if self.database_url:
            env["CUSTODY_DATABASE_URL"] = self.database_url
        return env


@pytest.fixture
def store_backend() -> str:
    """SQLite unless a test parametrises it (``@pytest.mark.parametrize("store_backend", [...])``)."""
    return "sqlite"


@pytest.fixture
def ward(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Ward:
    """A fresh store with the team registered and three patients' products, made through the ledger."""
    schema = request.getfixturevalue("postgres_schema") if store_backend == "postgresql" else None
    settings = make_settings(store_backend, tmp_path / "home", schema)
    ledger = CustodyLedger(settings)
    try:
        initialise(ledger, ADMIN_PASSWORD)
        for username, (name, role, password, _) in STAFF.items():
            register_qualified(ledger, username, name, role, password)
        rec = Recorder(ledger, {username: member[2] for username, member in STAFF.items()})
        now = datetime.now(UTC).replace(microsecond=0)
        journey = enrolled(rec, now - timedelta(hours=2), PATIENT)
        identified(ledger, PATIENT)  # the wristband the bedside checks scan
        conditioned(rec, PATIENT, now)  # lymphodepletion, inside the window of an infusion today
        stored = released_and_stored(rec, now - timedelta(days=30), STORED_PATIENT)
        other = enrolled(rec, now - timedelta(hours=1), OTHER_PATIENT)
    finally:
        ledger.close()
    url = f"{postgres_url()}?schema={schema}" if schema else None
    return Ward(store_backend, settings.home, url, journey, stored, other)


@dataclass
class Server:
    """A running `custody serve`: its process, its address and its log files."""

    process: subprocess.Popen[bytes]
    base_url: str
    logs: list[Path]

    def output(self) -> str:
        """Everything the server printed so far."""
        return "\n".join(path.read_text(errors="replace") for path in self.logs if path.exists())

    def wait_until_healthy(self) -> None:
        """Poll /health until it answers 200 (or the process dies, or a minute passes)."""
        deadline = time.monotonic() + START_SECONDS
        while True:
            code = self.process.poll()
            assert code is None, f"`custody serve` exited {code} before answering:\n{self.output()}"
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, f"no /health after {START_SECONDS} s:\n{self.output()}"
            time.sleep(0.1)

    def stop(self) -> None:
        """Ctrl-C, as an operator would; killed if it will not stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(ward: Ward, tmp_path: Path) -> Iterator[Server]:
    """`custody serve` over the prepared store, on a free port, for this test."""
    port = free_port()
    stdout, stderr = tmp_path / "serve.stdout", tmp_path / "serve.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=ward.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    running = Server(process, f"http://127.0.0.1:{port}", [stdout, stderr])
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()


# -- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, one per test module (and per xdist worker)."""
    require_browser()
    from playwright.sync_api import Error, expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    args = ["--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run its sandbox as root
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        except Error as error:
            unavailable(f"Chromium at {CHROMIUM} did not start: {error}")
        try:
            yield launched
        finally:
            launched.close()


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so teardown knows whether to keep failure screenshots."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


@dataclass
class Artefacts:
    """This test's screenshots, numbered in the order taken."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def shot(self, page: Page, label: str, *, full_page: bool = False) -> Path:
        """A PNG of what the person sees now (the screen, or the whole page)."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        assert_accessible(page, label)  # every screen kept is also checked by axe-core (tests/browser/accessibility.py)
        return path


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Artefacts:
    """An empty folder for this test's screenshots under CUSTODY_TEST_ARTEFACTS."""
    folder = ARTEFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    return Artefacts(folder)


def as_user(page: Page, username: str) -> Page:
    """Sign in through the sign-in form as ``username``, signing out whoever was signed in on this page."""
    from playwright.sync_api import expect

    name, role, password, _ = STAFF[username]
    if any(cookie["name"] == COOKIE for cookie in page.context.cookies()):
        page.goto("/ui/")
        page.locator("form[action='/ui/sign-out'] button[type=submit]").click()
        page.wait_for_url("**/ui/sign-in**")
        expect(page.locator("#signed-in-as")).to_have_count(0)
    else:
        page.goto("/ui/sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    expect(page.locator("#signed-in-as")).to_contain_text(name)  # the role in the page's words, its code below
    expect(page.locator("#signed-in-as")).to_have_attribute("data-role", role)
    return page


class Desks:
    """One browser context per person (cookies, session, signing session), signed in on first use."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: dict[str, BrowserContext] = {}
        self.pages: dict[str, Page] = {}

    def context(self, locale: str = "en-GB") -> BrowserContext:
        """A fresh context (no cookies) on the server under test."""
        context = self.browser.new_context(
            base_url=self.base_url, locale=locale, timezone_id="Europe/Paris", viewport={"width": 1100, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        return context

    def __call__(self, username: str) -> Page:
        """``desks("nurse")``: the nurse's page, signed in."""
        if username not in self.pages:
            context = self.context(STAFF[username][3])
            self.contexts[username] = context
            self.pages[username] = as_user(context.new_page(), username)
        return self.pages[username]

    def close(self, folder: Path | None) -> None:
        """Close every context; with a folder (a failed test), keep a last screenshot of each page first."""
        for username, page in self.pages.items():
            if folder is not None and not page.is_closed():
                with contextlib.suppress(Exception):  # a failed screenshot must not hide the test's failure
                    page.screenshot(path=str(folder / f"failure-{username}.png"), full_page=True)
        for context in self.contexts.values():
            context.close()


@pytest.fixture
def desks(browser: Browser, server: Server, artefacts: Artefacts, request: pytest.FixtureRequest) -> Iterator[Desks]:
    """Fresh browser contexts for this test, one per person, on this test's server."""
    opened = Desks(browser, server.base_url)
    try:
        yield opened
    finally:
        opened.close(artefacts.folder if _failed(request) else None)


@pytest.fixture
def page(desks: Desks) -> Page:
    """A fresh context's page, signed in as nobody yet (see ``as_user``)."""
    context = desks.context()
    desks.contexts[f"anonymous-{uuid.uuid4().hex[:6]}"] = context
    opened = context.new_page()
    desks.pages[f"page-{len(desks.pages) + 1}"] = opened
    return opened
