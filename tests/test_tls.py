"""Private certificate authorities: ``Agent.CAInfo`` on an agent, ``REQUESTS_CA_BUNDLE`` locally.

The emulator serves HTTPS with a certificate from a trustme CA that no system
trusts; the task runs as a process with the agent's environment only.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import agent_env_for
from tests.helpers import run_task
from tests.test_reliability_helpers import Tls, assert_failed_cleanly, make_tls
from twineauthenticate._http import HttpClient
from twineauthenticate.agent import Agent


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def emu(make_emulator: Any, tls: Tls) -> Any:
    return make_emulator(tls=(tls.cert, tls.key))


def test_untrusted_certificate_is_one_clear_tls_error(emu: Any, agent_temp: Path) -> None:
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    url = f"{emu.collection_url}_apis/resourceAreas/"
    assert message.startswith(f"The TLS certificate of {url}"), message
    assert " could not be verified: unable to get local issuer certificate" in message
    assert "Agent.CAInfo" in message
    # A certificate does not get better by asking again.
    assert not any("trying again" in line for line in run.plain_lines)
    assert emu.requests == []


def test_agent_ca_info_is_trusted(emu: Any, agent_temp: Path, tls: Tls) -> None:
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", AGENT_CAINFO=str(tls.ca))
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(emu.requests) == 4  # the lookup's two, the check's two
    assert emu.feed_upload_url("MyFeed").startswith("https://localhost:")
    assert f"repository={emu.feed_upload_url('MyFeed')}\n" in run.pypirc.read_text()


def test_requests_ca_bundle_is_trusted_on_a_local_run(emu: Any, agent_temp: Path, tls: Tls) -> None:
    env = agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", REQUESTS_CA_BUNDLE=str(tls.ca)
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert len(emu.requests) == 4  # the lookup's two, the check's two


def test_agent_ca_info_wins_over_requests_ca_bundle(
    emu: Any, agent_temp: Path, tls: Tls, tmp_path: Path
) -> None:
    other = make_tls(tmp_path / "other")
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_ARTIFACTFEED="MyFeed",
        AGENT_CAINFO=str(tls.ca),
        REQUESTS_CA_BUNDLE=str(other.ca),
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout


def test_another_private_ca_does_not_make_the_server_trusted(
    emu: Any, agent_temp: Path, tmp_path: Path
) -> None:
    other = make_tls(tmp_path / "other")
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", AGENT_CAINFO=str(other.ca))
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith("The TLS certificate of "), message


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_unusable_ca_file_is_one_clear_error(
    emu: Any, agent_temp: Path, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_text(content)
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", AGENT_CAINFO=str(path))
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith("The TLS certificate of "), message
    assert f"the CA certificate file {path} cannot be used" in message
    assert emu.requests == []


def test_private_ca_is_added_to_the_default_authorities(tls: Tls) -> None:
    """Agent.CAInfo adds a CA; public services (e.g. Microsoft Entra ID) stay trusted."""
    agent = Agent({"AGENT_CAINFO": str(tls.ca)}, io.StringIO())
    context = HttpClient(agent)._ssl_context("https://example.invalid/")
    assert context is not None
    import certifi

    public = certifi.contents().count("BEGIN CERTIFICATE")
    assert context.cert_store_stats()["x509_ca"] >= public + 1
