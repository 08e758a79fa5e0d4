"""The task's own HTTP calls through a real proxy (proxy.py) with basic authentication.

The proxy runs as its own process with an access log; the task runs as a process
with the agent's environment only. What the proxy logged, what the emulator
received and what the task printed are compared.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import agent_env_for
from tests.helpers import run_task
from tests.test_reliability_helpers import (
    ProxyServer,
    Tls,
    assert_failed_cleanly,
    assert_no_secret_in_clear,
    closed_port,
    make_tls,
    proxy_server,
)

PROXY_USER = "proxy-user"
# Characters that must survive the trip: URL-reserved, command-reserved, non-ASCII.
PROXY_PASSWORD = "pr0xy p@ss;%]é#/"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyServer]:
    with proxy_server(tmp_path_factory.mktemp("proxy"), PROXY_USER, PROXY_PASSWORD) as server:
        yield server


def agent_proxy(proxy: ProxyServer, password: str = PROXY_PASSWORD, **extra: str) -> dict[str, str]:
    """What the agent sets for a proxy configured with ``./config.sh --proxyurl ...``."""
    return {
        "AGENT_PROXYURL": proxy.url,
        "AGENT_PROXYUSERNAME": PROXY_USER,
        "SECRET_AGENT_PROXYPASSWORD": password,
        "SYSTEM_DEBUG": "true",
        **extra,
    }


def encoded_forms(password: str) -> list[str]:
    """How a proxy password could leak other than verbatim."""
    basic = base64.b64encode(f"{PROXY_USER}:{password}".encode()).decode()
    return [password, quote(password, safe=""), quote(password), basic]


def test_calls_go_through_the_agent_proxy(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    before = len(proxy.access())
    run = run_task(
        agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", **agent_proxy(proxy))
    )
    assert run.result == "Succeeded", run.stdout + run.stderr
    # Every REST call reached the emulator (the lookup's two, the check's two, in two
    # rounds of concurrent requests), and every one went through the proxy.
    assert sorted(r.method for r in emu.requests) == ["GET", "GET", "GET", "OPTIONS"]
    assert all(r.auth_ok for r in emu.requests)
    seen = proxy.wait_for_access(before + 4)[before:]
    host = f"127.0.0.1:{emu.port}"
    assert sorted(m for m, _ in seen) == ["GET", "GET", "GET", "OPTIONS"]
    paths = sorted(path for _, path in seen)
    assert sum(p.startswith(f"{host}/contoso/_apis/resourceAreas/") for p in paths) == 2
    assert f"{host}/_pkgs/contoso/_apis/pypi" in paths
    assert f"{host}/_feeds/contoso/_apis/packaging/feeds/MyFeed" in paths
    # Each request carried the proxy credentials.
    assert [auth for _, _, auth in proxy.entries()[before:]] == ["ok"] * 4
    # Registered as a secret first thing, and never shown in any form, even in debug.
    assert PROXY_PASSWORD in run.secrets
    assert run.named("task.debug")
    assert any(f"via proxy {proxy.url}" in c.message for c in run.named("task.debug"))
    assert_no_secret_in_clear(run, *encoded_forms(PROXY_PASSWORD))


def test_bypass_list_sends_matching_urls_direct(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    before = len(proxy.access())
    bypass = json.dumps([r"127\.0\.0\.1"])
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        **agent_proxy(proxy, AGENT_PROXYBYPASSLIST=bypass),
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(emu.requests) == 4  # the lookup's two, the check's two
    assert proxy.wait_for_access(before + 1, timeout=1.5)[before:] == []


def test_bypass_regexes_are_matched_against_the_whole_url(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    before = len(proxy.access())
    bypass = json.dumps(["not-this-host", "resourceAreas"])
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        **agent_proxy(proxy, AGENT_PROXYBYPASSLIST=bypass),
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(emu.requests) == 4  # the lookup's two, the check's two
    seen = proxy.wait_for_access(before + 2)[before:]
    host = f"127.0.0.1:{emu.port}"
    assert sorted(seen) == [
        ("GET", f"{host}/_feeds/contoso/_apis/packaging/feeds/MyFeed"),
        ("OPTIONS", f"{host}/_pkgs/contoso/_apis/pypi"),
    ]


def test_wrong_proxy_password_is_one_clear_error(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    wrong = "wrong-proxy-password%;"
    failures = proxy.auth_failures()
    env = agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", **agent_proxy(proxy, password=wrong)
    )
    run = run_task(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(f"The proxy {proxy.url} refused or failed the request to "), message
    assert "HTTP 407 Proxy Authentication Required" in message
    assert "Check Agent.ProxyUrl and the proxy credentials." in message
    assert emu.requests == []
    # Not retried: a wrong password does not get better.
    assert not any("trying again" in line for line in run.plain_lines)
    assert proxy.auth_failures() == failures + 2  # both resource areas, sent at once
    assert_no_secret_in_clear(run, *encoded_forms(wrong))


def test_https_through_the_proxy_with_a_private_ca(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path, tmp_path: Path
) -> None:
    tls: Tls = make_tls(tmp_path / "tls")
    emu = make_emulator(tls=(tls.cert, tls.key))
    before = len(proxy.access())
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        AGENT_CAINFO=str(tls.ca),
        **agent_proxy(proxy),
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(emu.requests) == 4  # the lookup's two, the check's two
    # One tunnel, kept alive for both calls.
    seen = proxy.wait_for_access(before + 1)[before:]
    assert seen and all(entry == ("CONNECT", f"localhost:{emu.port}") for entry in seen)
    assert_no_secret_in_clear(run, *encoded_forms(PROXY_PASSWORD))


def test_local_run_uses_standard_proxy_variables(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    before = len(proxy.access())
    creds = f"{quote(PROXY_USER, safe='')}:{quote(PROXY_PASSWORD, safe='')}"
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        HTTP_PROXY=f"http://{creds}@127.0.0.1:{proxy.port}",
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(proxy.wait_for_access(before + 4)[before:]) == 4
    # The credentials of a proxy URL are never printed.
    assert PROXY_PASSWORD not in run.stdout
    assert quote(PROXY_PASSWORD, safe="") not in run.stdout


def test_local_run_honours_no_proxy(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    before = len(proxy.access())
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        http_proxy=f"http://127.0.0.1:{proxy.port}",
        NO_PROXY="example.org, 127.0.0.0/8",
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(emu.requests) == 4  # the lookup's two, the check's two
    assert proxy.wait_for_access(before + 1, timeout=1.5)[before:] == []


def test_agent_proxy_wins_over_the_environment(
    proxy: ProxyServer, make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    before = len(proxy.access())
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        HTTP_PROXY=f"http://127.0.0.1:{closed_port()}",
        NO_PROXY="*",
        **agent_proxy(proxy),
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(proxy.wait_for_access(before + 4)[before:]) == 4


def test_proxy_that_is_down_is_retried_then_one_clear_error(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    port = closed_port()
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        AGENT_PROXYURL=f"127.0.0.1:{port}",  # the agent accepts a URL without scheme
        TWINEAUTHENTICATE_ATTEMPTS="2",
    )
    run = run_task(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(f"The proxy http://127.0.0.1:{port} refused or failed the request")
    # Once each request of the first round (both resource areas).
    assert sum("trying again" in line for line in run.plain_lines) == 2
    assert emu.requests == []


def test_no_proxy_variable_means_direct(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", SYSTEM_DEBUG="true"))
    assert run.result == "Succeeded"
    assert not any("via proxy" in c.message for c in run.named("task.debug"))
