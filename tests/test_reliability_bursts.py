"""Bursts of transient failures, as a short outage of Azure DevOps looks to the task.

Microsoft's task rides out a server that answers 503 to its first 6 requests
(its client retries, then the task retries once more). With the default
settings this task must too: 6 transient failures in a row on one call end in
success, a burst that spans two calls as well, and 18 in a row end in one clear
failure; all within the total deadline (30 s), which stays a hard bound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import agent_env_for
from tests.test_reliability_faults import LOCATIONS, retry_lines, timed_run
from tests.test_reliability_helpers import assert_failed_cleanly
from twineauthenticate._settings import BACKOFF, BACKOFF_MAX, DEADLINE, JITTER

RESOURCE_AREAS = "resourceAreas/92F0314B"  # the PyPI area's lookup (the check asks for another)


def backoff_total(waits: int) -> float:
    """The backoff the first ``waits`` retries of one call add up to, without jitter."""
    return sum(min(BACKOFF * 2**i, BACKOFF_MAX) for i in range(waits))


def inject_burst(emu: Any, path: str | None) -> None:
    """Six transient failures of every kind the task retries, in a row."""
    emu.inject_faults(count=1, status=503, path_contains=path)
    emu.inject_faults(count=1, status=502, path_contains=path)
    emu.inject_faults(count=1, status=504, path_contains=path)
    emu.inject_faults(count=1, status=429, path_contains=path)
    emu.inject_faults(count=1, drop=True, path_contains=path)
    emu.inject_faults(count=1, status=503, path_contains=path)


def test_six_transient_failures_on_one_call_end_in_success(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    inject_burst(emu, RESOURCE_AREAS)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.result == "Succeeded", run.stdout
    assert run.errors == [] and run.warnings == []
    assert run.pypirc.is_file()
    areas = [r.status for r in emu.requests if RESOURCE_AREAS in r.path]
    assert areas == [503, 502, 504, 429, 0, 503, 200]
    lines = retry_lines(run)
    assert len(lines) == 6
    assert "(attempt 7 of 10)" in lines[-1]
    expected = backoff_total(6)  # 0.25 + 0.5 + 1 + 2 + 2 + 2 = 7.75 s
    assert expected == 7.75
    assert expected * (1 - JITTER) <= elapsed < DEADLINE, elapsed
    print(f"6-failure burst on one call: {elapsed:.2f} s (backoff {expected} s +-25 %)")


def test_the_first_six_requests_failing_whatever_they_are_is_ridden_out(
    make_emulator: Any, agent_temp: Path
) -> None:
    """Microsoft's scenario: the first 6 API requests answer 503, then all is well."""
    emu = make_emulator()
    emu.inject_faults(count=6, status=503)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.result == "Succeeded", run.stdout
    assert [r.status for r in emu.requests].count(503) == 6
    assert elapsed < DEADLINE, elapsed


def test_a_burst_that_spans_two_calls_ends_in_success(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=5, status=503, path_contains=RESOURCE_AREAS)
    emu.inject_faults(count=5, status=502, path_contains=LOCATIONS)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.result == "Succeeded", run.stdout
    assert [r.status for r in emu.requests if RESOURCE_AREAS in r.path] == [503] * 5 + [200]
    assert [r.status for r in emu.requests if LOCATIONS in r.path] == [502] * 5 + [200]
    assert len(retry_lines(run)) == 10
    # Each call has its own attempts: 5 waits each, 0.25 + 0.5 + 1 + 2 + 2 s.
    expected = 2 * backoff_total(5)
    assert expected * (1 - JITTER) <= elapsed < DEADLINE, elapsed
    print(f"burst of 10 over two calls: {elapsed:.2f} s (backoff {expected} s +-25 %)")


def test_eighteen_transient_failures_in_a_row_fail_cleanly_within_the_deadline(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    body = '{"message":"Service Unavailable"}'
    emu.inject_faults(count=18, status=503, body=body, path_contains=RESOURCE_AREAS)
    run, elapsed = timed_run(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(f"{emu.collection_url}_apis/resourceAreas/"), message
    assert message.endswith(" answered HTTP 503: Service Unavailable"), message
    # The first call gives up after its 10 attempts: 9 waits, 13.75 s +-25 %.
    areas = [r.status for r in emu.requests if RESOURCE_AREAS in r.path]
    assert areas == [503] * 10
    assert len(retry_lines(run)) == 9
    expected = backoff_total(9)
    assert expected == 13.75
    assert expected * (1 - JITTER) <= elapsed < DEADLINE, elapsed
    print(f"18-failure burst: failed after {elapsed:.2f} s (backoff {expected} s +-25 %)")
