"""Network faults, one emulator setting each: what the user sees, how long it takes,
and that nothing is left behind.

Every failing run must end with exit code 1, ``task.complete result=Failed``,
exactly one error line, no ``PYPIRC_PATH`` and no file under
``AGENT_TEMPDIRECTORY``. Times are measured around the whole process, and the
bounds asserted are the ones docs/reliability.md documents.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import conftest
from tests.helpers import TaskRun, run_task, summaries_under, without_summaries
from tests.test_reliability_helpers import (
    Tls,
    assert_failed_cleanly,
    closed_port,
    files_under,
    make_tls,
)

RESOURCE_AREAS = "resourceAreas"
LOCATIONS = "_apis/pypi"  # the OPTIONS of the PyPI area's locations


def agent_env_for(emu: Any, agent_temp: Path, **extra: str) -> dict[str, str]:
    """A job of the emulator with the feed check off: these faults are the lookup's (the
    check's own, and its warning: tests/test_feedcheck.py)."""
    return conftest.agent_env_for(emu, agent_temp, TWINEAUTHENTICATE_VERIFY="false", **extra)


def timed_run(env: dict[str, str]) -> tuple[TaskRun, float]:
    start = time.monotonic()
    run = run_task(env, timeout=90)
    return run, time.monotonic() - start


def retry_lines(run: TaskRun) -> list[str]:
    return [line for line in run.plain_lines if "trying again" in line]


class Clock:
    """Arrival time of each request at the emulator (its ``on_request`` hook)."""

    def __init__(self) -> None:
        self.times: list[tuple[float, str, int]] = []

    def __call__(self, record: Any) -> None:
        self.times.append((time.monotonic(), record.path, record.status))


# -- survived ----------------------------------------------------------------------------


def test_503_twice_then_success(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=2, status=503, path_contains=LOCATIONS)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.result == "Succeeded", run.stdout
    assert run.returncode == 0
    # Each retry is counted in the emulator's log: the area once, the locations three times.
    assert [(r.method, r.status) for r in emu.requests] == [
        ("GET", 200),
        ("OPTIONS", 503),
        ("OPTIONS", 503),
        ("OPTIONS", 200),
    ]
    lines = retry_lines(run)
    assert len(lines) == 2
    assert "(HTTP 503); trying again in " in lines[0]
    assert "(attempt 2 of 10)" in lines[0] and "(attempt 3 of 10)" in lines[1]
    assert run.pypirc.is_file()
    assert run.errors == [] and run.warnings == []
    # Backoff 0.25 s then 0.5 s, each within +-25 % jitter.
    assert (0.25 + 0.5) * 0.75 <= elapsed < 10


def test_dropped_connection_is_retried(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=1, drop=True, path_contains=RESOURCE_AREAS)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.result == "Succeeded", run.stdout
    assert [r.status for r in emu.requests] == [0, 200, 200]
    assert len(retry_lines(run)) == 1


def test_429_waits_as_long_as_retry_after_says(make_emulator: Any, agent_temp: Path) -> None:
    clock = Clock()
    emu = make_emulator(on_request=clock)
    emu.inject_faults(count=1, status=429, retry_after=2, path_contains=RESOURCE_AREAS)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.result == "Succeeded", run.stdout
    assert [r.status for r in emu.requests] == [429, 200, 200]
    (line,) = retry_lines(run)
    assert "(HTTP 429); trying again in 2 s (attempt 2 of 10)." in line
    gap = clock.times[1][0] - clock.times[0][0]
    assert 2.0 <= gap < 3.0, gap
    assert 2.0 <= elapsed < 8.0, elapsed


# -- failed, cleanly ---------------------------------------------------------------------


def test_retry_after_longer_than_the_cap_fails_at_once(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    emu.inject_faults(count=5, status=429, retry_after=120, path_contains=RESOURCE_AREAS)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(f"{emu.collection_url}_apis/resourceAreas/"), message
    assert " answered HTTP 429: " in message
    assert "(Retry-After: 120, longer than the 20 s the task waits)" in message
    assert len(emu.requests) == 1
    assert elapsed < 5


def test_connection_refused(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    port = closed_port()
    collection = f"http://127.0.0.1:{port}/contoso/"
    env = agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=collection
    )
    run, elapsed = timed_run(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(f"Could not connect to {collection}_apis/resourceAreas/"), message
    assert message.endswith(": Connection refused"), message
    # Ten attempts, nine waits: 0.25 + 0.5 + 1 + 6 x 2 s = 13.75 s, each within +-25 %.
    assert len(retry_lines(run)) == 9
    assert 13.75 * 0.75 <= elapsed < 25, elapsed


def test_server_that_never_answers_fails_within_the_default_bound(
    make_emulator: Any, agent_temp: Path
) -> None:
    """Defaults: read timeout 10 s, deadline 30 s. Takes about 30 s of real time."""
    emu = make_emulator()
    emu.inject_faults(count=10, hang=True)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(f"{emu.collection_url}_apis/resourceAreas/"), message
    assert "did not answer within the time limit (10 s per request, 30 s in all)" in message
    # 10 s, wait, 10 s, wait, then what is left of the 30 s.
    assert len(retry_lines(run)) == 2
    assert [r.status for r in emu.requests] == [0, 0, 0]
    assert 29 <= elapsed < 35, elapsed
    assert elapsed < 60


def test_server_that_never_answers_with_lowered_limits(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    emu.inject_faults(count=10, hang=True, path_contains=LOCATIONS)
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        TWINEAUTHENTICATE_READTIMEOUT="1",
        TWINEAUTHENTICATE_DEADLINE="3",
    )
    run, elapsed = timed_run(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert "did not answer within the time limit (1 s per request, 3 s in all)" in message
    # 1 s, wait, 1 s, then the next wait would pass the deadline: give up at once.
    assert 2.0 <= elapsed < 6, elapsed


def test_attempts_variable_limits_the_tries(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=10, status=500, body='{"message":"Internal trouble"}')
    env = agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", TWINEAUTHENTICATE_ATTEMPTS="2"
    )
    run = run_task(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert (
        message
        == f"{emu.collection_url}_apis/resourceAreas/92F0314B-06C5-46E0-ABE7-15FD9D13276A answered HTTP 500: Internal trouble"
    )
    assert len(emu.requests) == 2
    assert len(retry_lines(run)) == 1


@pytest.fixture
def trickler() -> Iterator[str]:
    """An HTTP server that sends its answer one byte every 0.4 s, never finishing.

    Each byte resets a read timeout, so only a total deadline stops the client.
    (The emulator has latency and silent connections, but no slow drip.)
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                    if stop.wait(0.4):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/contoso/"
    finally:
        stop.set()
        server.close()


def test_slow_drip_cannot_outlast_the_deadline(
    make_emulator: Any, agent_temp: Path, trickler: str
) -> None:
    emu = make_emulator()
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=trickler,
        TWINEAUTHENTICATE_READTIMEOUT="1",
        TWINEAUTHENTICATE_DEADLINE="3",
    )
    run, elapsed = timed_run(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert "did not answer within the time limit (1 s per request, 3 s in all)" in message
    assert elapsed < 3 + 0.5 + 2.5, elapsed  # deadline + grace + process start


def test_malformed_json(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=1, status=200, body='{"locationUrl": ', path_contains=RESOURCE_AREAS)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(
        f"{emu.collection_url}_apis/resourceAreas/92F0314B-06C5-46E0-ABE7-15FD9D13276A "
        "answered with something that is not the expected JSON (HTTP 200, "
    ), message
    assert len(emu.requests) == 1


def test_401(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=1, status=401, path_contains=LOCATIONS)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(
        f"The build identity cannot reach {emu.packaging_url}_apis/pypi (HTTP 401). "
        "Give the project's build service permission on the feed"
    ), message
    assert len(emu.requests) == 2  # not retried


def test_404_resource_area(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=1, status=404, path_contains=RESOURCE_AREAS)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(
        "The Python packaging service (resource area 92F0314B-06C5-46E0-ABE7-15FD9D13276A) "
        f"was not found at {emu.collection_url} (HTTP 404)."
    ), message


def test_404_location(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=1, status=404, path_contains=LOCATIONS)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(
        "The PyPI upload location c7a75c1b-08ac-4b11-b468-6c7ef835c85e is not offered by "
        f"{emu.packaging_url}_apis/pypi."
    ), message


CONNECTION = "5a1e0c3d-2b4f-4e6a-8c7d-9f0e1d2c3b4a"
CLIENT_ID = "3c2b1a0d-9e8f-4a7b-8c6d-5e4f3a2b1c0e"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


def test_404_federated_feed(make_emulator: Any, agent_temp: Path, tls: Tls) -> None:
    emu = make_emulator(tls=(tls.cert, tls.key), service_connections={CONNECTION: CLIENT_ID})
    feed_url = emu.feed_upload_url("NoSuchFeed") + "/"
    emu.inject_faults(count=1, status=404, path_contains="/pypi/upload")
    auth = {"parameters": {"serviceprincipalid": CLIENT_ID}, "scheme": "WorkloadIdentityFederation"}
    env = agent_env_for(
        emu,
        agent_temp,
        AGENT_CAINFO=str(tls.ca),
        SYSTEM_OIDCREQUESTURI=emu.oidc_request_uri,
        INPUT_WORKLOADIDENTITYSERVICECONNECTION=CONNECTION,
        INPUT_FEEDURL=feed_url,
        **{
            f"ENDPOINT_URL_{CONNECTION}": "https://dev.azure.com/contoso/",
            f"ENDPOINT_AUTH_{CONNECTION}": json.dumps(auth),
            f"ENDPOINT_AUTH_SCHEME_{CONNECTION}": "WorkloadIdentityFederation",
            f"ENDPOINT_AUTH_PARAMETER_{CONNECTION}_SERVICEPRINCIPALID": CLIENT_ID,
            f"ENDPOINT_DATA_{CONNECTION}_ENVIRONMENTAUTHORITYURL": emu.authority_url,
        },
    )
    run = run_task(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert message == f"The feed at {feed_url} was not found (HTTP 404). Check the feed URL."
    # Only the anonymous GET of the feed: no OIDC token was asked for.
    assert [(r.method, r.status) for r in emu.requests] == [("GET", 404)]
    assert emu.issued_oidc_tokens == []


def test_a_failed_run_leaves_an_earlier_file_as_it_was(
    make_emulator: Any, agent_temp: Path
) -> None:
    """A fault on the re-run of a job keeps the first run's file, byte for byte."""
    emu = make_emulator()
    first = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    before = first.pypirc.read_bytes()
    emu.inject_faults(count=10, status=503)
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        PYPIRC_PATH=str(first.pypirc),
        TWINEAUTHENTICATE_ATTEMPTS="1",
    )
    run = run_task(env)
    assert run.result == "Failed" and run.returncode == 1
    assert len(run.errors) == 1
    assert "PYPIRC_PATH" not in run.variables
    assert first.pypirc.read_bytes() == before
    assert without_summaries(files_under(agent_temp)) == [first.pypirc]
    assert len(summaries_under(agent_temp)) == 1  # the first run's
