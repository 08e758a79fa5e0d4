"""Requests per run: what each kind of source costs on the wire.

The upload-URL lookup: on Azure DevOps Services feeds take 2 requests whatever
their number (the PyPI resource area, then the area's locations), on Server 1
(the locations); service connections none; a federated feed 3 (its tenant, the
OIDC token, the Entra token). The feed check adds, in the same rounds: on
Services the Packaging resource area and one request per feed, on Server one per
feed, and for the federated feed one (its simple index, after the exchange); none
for service connections. With ``TwineAuthenticate.Verify=false``: the lookup's
alone. One and three feeds on Services, two on Server and connections alone are
counted in tests/test_task.py; here: ten feeds, the federated feed, connections
only, and everything in one step, with and without the check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import agent_env_for
from tests.helpers import Tls, connection_env, make_tls, run_task
from tests.test_federation import CLIENT_ID, CONNECTION, wif_env
from twineauthenticate.emulator import Feed

TEN_FEEDS = [Feed(f"Feed{i}") for i in range(5)] + [
    Feed(f"Feed{i}", project="Team Project") for i in range(5, 10)
]
TEN_FEEDS_INPUT = ", ".join(f"{f.project}/{f.name}" if f.project else f.name for f in TEN_FEEDS)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


def federation_emulator(make_emulator: Any, tls: Tls, mode: str = "services") -> Any:
    return make_emulator(
        mode=mode,
        feeds=[*TEN_FEEDS, Feed("FedFeed", project="Other Project")],
        tls=(tls.cert, tls.key),
        service_connections={CONNECTION: CLIENT_ID},
    )


def assert_has_every_feed(emu: Any, text: str) -> None:
    for feed in TEN_FEEDS:
        assert f"repository={emu.feed_upload_url(feed.name, project=feed.project)}\n" in text


CHECK_OFF = {"TWINEAUTHENTICATE_VERIFY": "false"}


@pytest.mark.parametrize(
    ("mode", "verify", "expected"),
    [
        ("services", True, 2 + 1 + 10),
        ("server", True, 1 + 10),
        ("services", False, 2),
        ("server", False, 1),
    ],
)
def test_ten_feeds(
    make_emulator: Any, agent_temp: Path, mode: str, verify: bool, expected: int
) -> None:
    emu = make_emulator(mode=mode, feeds=TEN_FEEDS)
    extra = {} if verify else CHECK_OFF
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED=TEN_FEEDS_INPUT, **extra))
    assert run.result == "Succeeded", run.stdout + run.stderr
    assert len(emu.requests) == expected, emu.requests
    assert_has_every_feed(emu, run.pypirc.read_text())
    assert "10 organization feed(s), 0 service connection(s)" in run.stdout


@pytest.mark.parametrize(("verify", "expected"), [(True, 3 + 1), (False, 3)])
def test_federated_feed(
    make_emulator: Any, agent_temp: Path, tls: Tls, verify: bool, expected: int
) -> None:
    emu = federation_emulator(make_emulator, tls)
    run = run_task(wif_env(emu, agent_temp, tls, **({} if verify else CHECK_OFF)))
    assert run.result == "Succeeded", run.stdout + run.stderr
    assert len(emu.requests) == expected, emu.requests


def test_service_connections_only_cost_nothing(make_emulator: Any, agent_temp: Path) -> None:
    """The connection checks (index URL, PyPI token form) need no request."""
    emu = make_emulator()
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_PYTHONUPLOADSERVICECONNECTION="c-1,c-2",
        **connection_env(
            "c-1", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken="pypi-t1"
        ),
        **connection_env("c-2", "https://ext.example/upload", "ext", "Token", apitoken="t2"),
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout + run.stderr
    assert emu.requests == []


@pytest.mark.parametrize("publishers", [False, True], ids=["twine", "configurePublishers"])
@pytest.mark.parametrize(
    ("mode", "verify", "expected"),
    [
        ("services", True, (2 + 1 + 10) + 0 + (3 + 1)),
        ("server", True, (1 + 10) + 0 + (3 + 1)),
        ("services", False, 2 + 0 + 3),
        ("server", False, 1 + 0 + 3),
    ],
)
def test_everything_in_one_step(
    make_emulator: Any,
    agent_temp: Path,
    tls: Tls,
    mode: str,
    verify: bool,
    expected: int,
    publishers: bool,
) -> None:
    """Ten feeds, two service connections and a federated feed: the sum, nothing more,
    with configurePublishers too (the netrc file and the summary cost no request)."""
    emu = federation_emulator(make_emulator, tls, mode)
    connections = {
        **connection_env("c-1", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken="t1"),
        **connection_env("c-2", "https://ext.example/upload", "ext", "Token", apitoken="t2"),
    }
    env = wif_env(
        emu,
        agent_temp,
        tls,
        INPUT_ARTIFACTFEED=TEN_FEEDS_INPUT,
        INPUT_PYTHONUPLOADSERVICECONNECTION="c-1,c-2",
        **connections,
        **({} if verify else CHECK_OFF),
    )
    if publishers:
        env.update(INPUT_CONFIGUREPUBLISHERS="true", HOME=str(agent_temp.parent))
    run = run_task(env)
    assert ("NETRC" in run.variables) == publishers
    assert run.result == "Succeeded", run.stdout + run.stderr
    assert len(emu.requests) == expected, emu.requests
    assert_has_every_feed(emu, run.pypirc.read_text())
    assert "10 organization feed(s), 2 service connection(s) and 1 federated feed(s)" in run.stdout
