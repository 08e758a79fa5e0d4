"""Fault injection and latency."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from emu_support import EMU_TOKEN, Dists

from twineauthenticate.emulator import Emulator

AUTH = ("build", EMU_TOKEN)
AREA = "_apis/resourceAreas/92F0314B-06C5-46E0-ABE7-15FD9D13276A"


def area_url(emu: Emulator) -> str:
    return emu.collection_url + AREA


def test_fail_twice_then_succeed(emu: Emulator) -> None:
    emu.inject_faults(count=2, status=503)
    statuses = [requests.get(area_url(emu), auth=AUTH, timeout=10).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [(r.status, r.auth_ok, r.user) for r in emu.requests] == [
        (503, True, "build"),
        (503, True, "build"),
        (200, True, "build"),
    ]
    assert emu.pending_faults == 0


def test_faults_apply_in_order_and_by_path(emu: Emulator) -> None:
    emu.inject_faults(count=1, status=500, path_contains="resourceareas")  # any case
    emu.inject_faults(count=1, status=502)
    options = requests.options(emu.packaging_url + "_apis/pypi", auth=AUTH, timeout=10)
    assert options.status_code == 502  # the first fault does not match this path
    assert requests.get(area_url(emu), auth=AUTH, timeout=10).status_code == 500
    assert requests.get(area_url(emu), auth=AUTH, timeout=10).status_code == 200
    emu.inject_faults(count=5, status=503)
    emu.clear_faults()
    assert requests.get(area_url(emu), auth=AUTH, timeout=10).status_code == 200


@pytest.mark.parametrize(("retry_after", "header"), [(2, "2"), (0.5, "0.5"), ("7", "7")])
def test_too_many_requests_with_retry_after(
    emu: Emulator, retry_after: float | str, header: str
) -> None:
    emu.inject_faults(count=1, status=429, retry_after=retry_after)
    response = requests.get(area_url(emu), auth=AUTH, timeout=10)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == header
    assert "message" in response.json()


def test_status_fault_without_retry_after_has_no_header(emu: Emulator) -> None:
    emu.inject_faults(count=1, status=503)
    assert "Retry-After" not in requests.get(area_url(emu), timeout=10).headers


def test_drop(emu: Emulator) -> None:
    emu.inject_faults(count=1, drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(area_url(emu), auth=AUTH, timeout=10)
    assert emu.requests[-1].status == 0
    assert requests.get(area_url(emu), auth=AUTH, timeout=10).status_code == 200


def test_drop_during_upload(emu: Emulator, dists: Dists) -> None:
    emu.inject_faults(count=1, drop=True, path_contains="/upload")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            emu.feed_upload_url("MyFeed"),
            files={"content": (dists.wheel.name, dists.wheel.read_bytes())},
            auth=AUTH,
            timeout=10,
        )
    assert emu.uploaded_files("MyFeed") == []


def test_hang_then_stop_returns_quickly(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu()
    emu.inject_faults(count=1, hang=True)
    with pytest.raises(requests.ReadTimeout):
        requests.get(area_url(emu), auth=AUTH, timeout=0.5)
    assert emu.requests[-1].status == 0
    # Other requests are still served while one hangs.
    assert requests.get(area_url(emu), auth=AUTH, timeout=10).status_code == 200

    # A client waiting with no timeout is released by stop().
    outcome: list[Any] = []

    def wait_forever() -> None:
        try:
            outcome.append(requests.get(area_url(emu), auth=AUTH))
        except requests.RequestException as exc:
            outcome.append(exc)

    emu.inject_faults(count=1, hang=True)
    waiter = threading.Thread(target=wait_forever, daemon=True)
    waiter.start()
    deadline = time.monotonic() + 5
    while len(emu.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
    waiter.join(5)
    assert outcome and isinstance(outcome[0], requests.ConnectionError)


def test_malformed_body(emu: Emulator) -> None:
    emu.inject_faults(count=1, body="{not json", status=200, path_contains="resourceAreas")
    response = requests.get(area_url(emu), auth=AUTH, timeout=10)
    assert response.status_code == 200
    assert response.text == "{not json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert requests.get(area_url(emu), auth=AUTH, timeout=10).json()["name"] == "pypi"


def test_latency(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(latency=0.2)
    started = time.monotonic()
    requests.get(area_url(emu), auth=AUTH, timeout=10)
    assert time.monotonic() - started >= 0.2
    emu.set_latency(0.0)
    started = time.monotonic()
    requests.get(area_url(emu), auth=AUTH, timeout=10)
    assert time.monotonic() - started < 0.2
    emu.set_latency(0.3)
    with pytest.raises(requests.ReadTimeout):
        requests.get(area_url(emu), auth=AUTH, timeout=0.1)


def test_twine_retries_through_server_errors(
    emu: Emulator, twine_upload: Any, dists: Dists
) -> None:
    emu.inject_faults(count=2, status=503, path_contains="/pypi/upload")
    result = twine_upload(emu.feed_upload_url("MyFeed"), "build", EMU_TOKEN, [dists.wheel])
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r.status for r in emu.requests] == [503, 503, 200]
    assert emu.uploaded_files("MyFeed") == [dists.wheel.name]


def test_invalid_fault_arguments(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.inject_faults(count=1, drop=True, hang=True)
    with pytest.raises(ValueError):
        emu.inject_faults(count=1, status=42)
    with pytest.raises(ValueError):
        emu.inject_faults(count=-1)
    with pytest.raises(ValueError):
        emu.set_latency(-1)
