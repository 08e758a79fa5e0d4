"""Requests per run: what each kind of source costs on the wire.

On Azure DevOps Services feeds take 2 requests whatever their number (the PyPI
resource area, then the area's locations), on Server 1 (the locations), service
connections none, and a federated feed 3 (its tenant, the OIDC token, the Entra
token). One and three feeds on Services, two on Server and connections alone are
counted in tests/test_task.py; here: ten feeds, the federated feed, and everything
in one step.
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


@pytest.mark.parametrize(("mode", "expected"), [("services", 2), ("server", 1)])
def test_ten_feeds(make_emulator: Any, agent_temp: Path, mode: str, expected: int) -> None:
    emu = make_emulator(mode=mode, feeds=TEN_FEEDS)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED=TEN_FEEDS_INPUT))
    assert run.result == "Succeeded", run.stdout + run.stderr
    assert len(emu.requests) == expected, emu.requests
    assert_has_every_feed(emu, run.pypirc.read_text())
    assert "10 organization feed(s), 0 service connection(s)" in run.stdout


def test_federated_feed(make_emulator: Any, agent_temp: Path, tls: Tls) -> None:
    emu = federation_emulator(make_emulator, tls)
    run = run_task(wif_env(emu, agent_temp, tls))
    assert run.result == "Succeeded", run.stdout + run.stderr
    assert len(emu.requests) == 3, emu.requests


@pytest.mark.parametrize("publishers", [False, True], ids=["twine", "configurePublishers"])
@pytest.mark.parametrize(("mode", "expected"), [("services", 2 + 0 + 3), ("server", 1 + 0 + 3)])
def test_everything_in_one_step(
    make_emulator: Any, agent_temp: Path, tls: Tls, mode: str, expected: int, publishers: bool
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
    )
    if publishers:
        env.update(INPUT_CONFIGUREPUBLISHERS="true", HOME=str(agent_temp.parent))
    run = run_task(env)
    assert ("NETRC" in run.variables) == publishers
    assert run.result == "Succeeded", run.stdout + run.stderr
    assert len(emu.requests) == expected, emu.requests
    assert_has_every_feed(emu, run.pypirc.read_text())
    assert "10 organization feed(s), 2 service connection(s) and 1 federated feed(s)" in run.stdout
