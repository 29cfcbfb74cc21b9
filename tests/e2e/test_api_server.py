"""`custody serve` as users run it: a real uvicorn process on a free port, driven over real HTTP.

The store is made the documented way (`custody init`, `custody demo --if-empty`);
the test signs in, reads a demo product, records one signed step, retries it
with the same Idempotency-Key, and stops the server with Ctrl-C (SIGINT). The
server's log lines are JSON; a change is logged, a patient's name never is.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from api.rest_bench import free_port
from tests.e2e.conftest import REPO, Custody, custody_command

ADMIN_PASSWORD = "admin-e2e-password"
FAMILY_NAMES = ("DUPONT", "LEROY", "GARNIER", "FAURE")
START_SECONDS = 60.0
STOP_SECONDS = 30.0


@dataclass
class Server:
    """A running `custody serve`: its process, base URL, and where its output goes."""

    process: subprocess.Popen[bytes]
    base_url: str
    stdout: Path
    stderr: Path

    def output(self) -> str:
        """Everything the server printed so far, standard output then standard error."""
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def stop(self) -> int:
        """Ctrl-C, as an operator would; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=STOP_SECONDS)


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        code = server.process.poll()
        assert code is None, f"`custody serve` exited {code} before answering:\n{server.output()}"
        try:
            answer = httpx2.get(f"{server.base_url}/health", timeout=2.0)
            if answer.status_code == 200:
                return
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, f"no /health after {START_SECONDS} s:\n{server.output()}"
        time.sleep(0.1)


@contextmanager
def serving(custody: Custody, logs: Path) -> Iterator[Server]:
    """`custody serve` on a free port until the block ends (then interrupted, or killed if it will not stop)."""
    port = free_port()
    stdout, stderr = logs / "serve.stdout", logs / "serve.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*custody_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            # No deadline-alert scan here (tests/integration/test_deadline_alerts.py covers it): every event the
            # server stores in this test must be the test's own, counted one by one.
            env=custody.env(CUSTODY_ALERT_SCAN_SECONDS="0"),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    server = Server(process, f"http://127.0.0.1:{port}", stdout, stderr)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            try:
                server.stop()
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def test_serve_signs_in_reads_records_a_signed_step_once_and_stops_cleanly(
    empty_ledger: Custody, tmp_path: Path
) -> None:
    custody = empty_ledger
    custody.run("init", CUSTODY_ADMIN_PASSWORD=ADMIN_PASSWORD)
    custody.run("demo", "--if-empty", CUSTODY_ADMIN_PASSWORD=ADMIN_PASSWORD)
    demo = json.loads((custody.home / "demo.json").read_text())
    product = demo["products"][0]
    stored_before = custody.stored_rows()

    with serving(custody, tmp_path) as server, httpx2.Client(base_url=server.base_url, timeout=30.0) as http:
        signed_in = http.post("/auth/token", data={"username": "nurse", "password": demo["users"]["nurse"]})
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()
        assert token["token_type"] == "bearer" and token["role"] == "nurse"
        auth = {"Authorization": f"Bearer {token['access_token']}"}

        listed = http.get("/products", headers=auth)
        assert listed.status_code == 200, listed.text
        assert product in {row["product_id"] for row in listed.json()}
        status = http.get(f"/products/{product}", headers=auth)
        assert status.status_code == 200, status.text
        version = status.json()["version"]
        assert status.headers["ETag"] == f'"{version}"'

        step = {
            "type": "AnnotationAdded",
            "payload": {"text": "bag label photographed for the record"},
            "meaning": "authored",
            "password": demo["users"]["nurse"],
        }
        headers = {**auth, "Idempotency-Key": str(uuid.uuid4()), "If-Match": f'"{version}"'}
        recorded = http.post(f"/products/{product}/events", json=step, headers=headers)
        assert recorded.status_code == 201, recorded.text
        result = recorded.json()
        assert result["aggregate_id"] == product
        assert result["version"] == version + 1
        [event] = result["events"]
        assert event["body"]["type"] == "AnnotationAdded"
        assert event["body"]["version"] == version + 1
        assert event["body"]["actor"]["user_id"] == "nurse"
        assert re.fullmatch(r"[0-9a-f]{64}", event["hash"])
        assert re.fullmatch(r"[A-Za-z0-9+/=_-]{80,}", event["signature"])

        retried = http.post(f"/products/{product}/events", json=step, headers=headers)
        assert retried.status_code == 201, retried.text
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert retried.json() == result

        assert custody.stored_rows() == stored_before + 1
        assert http.get(f"/products/{product}", headers=auth).json()["version"] == version + 1
        timeline = http.get(f"/products/{product}/timeline", headers=auth)
        assert timeline.status_code == 200, timeline.text
        assert [e["hash"] for e in timeline.json()["events"]].count(event["hash"]) == 1
        assert http.get("/health").json()["events"] == stored_before + 1

        exit_code = server.stop()

    assert exit_code == 0, f"exit {exit_code} after Ctrl-C:\n{server.output()}"
    log = server.output()
    assert "Application shutdown complete" in log
    changes = [line for line in _json_lines(log) if line.get("log") == "change"]
    recorded_lines = [line for line in changes if line.get("route") == "/products/{reference}/events"]
    assert recorded_lines, f"no JSON change line for the step:\n{log}"
    assert recorded_lines[0]["event_types"] == ["AnnotationAdded"]
    assert recorded_lines[0]["user"] == "nurse" and recorded_lines[0]["status"] == 201
    for family_name in FAMILY_NAMES:
        assert family_name.lower() not in log.lower(), f"{family_name} appears in the server's log"
