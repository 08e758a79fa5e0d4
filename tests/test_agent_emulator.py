"""End to end: the built bundle, started by Node as the agent starts it, against the
Azure Artifacts emulator; then twine uploads with the file it wrote, and the
post-job step removes it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.agent_harness import AgentJob, Endpoint, TaskResult
from tests.conftest import BUILD_TOKEN
from tests.harness_fixtures import (  # noqa: F401 (fixtures)
    agent_job_fixture,
    bare_python_fixture,
    task_bundle_fixture,
    task_dir_fixture,
)
from tests.helpers import base_env, make_wheel

MakeJob = Callable[..., AgentJob]
PYPI_TOKEN = "pypi-AgEIcHlwaS5vcmcCJDk1ZTk0"
EXT_PASSWORD = "s3cret;pass]word%"
EXT_ID = "3f1d2c4b-5a69-4e8f-9d0c-1b2a3c4d5e6f"
TOKEN_ID = "8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7"


def job_for(agent_job: MakeJob, emu: Any, **options: Any) -> AgentJob:
    server_type = "Hosted" if emu.mode == "services" else None
    return agent_job(
        collection_uri=emu.collection_url,
        server_type=server_type,
        access_token=BUILD_TOKEN,
        **options,
    )


def assert_succeeded(result: TaskResult) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.result == "Succeeded", result.stdout + result.stderr
    assert result.errors == []
    assert result.stderr == ""


def assert_masked(result: TaskResult, *secrets: str) -> None:
    """Every secret is registered before anything else and never shown in clear."""
    registered = result.secrets
    assert [c.command for c in result.commands[: len(registered)]] == ["task.setsecret"] * len(
        registered
    )
    for secret in secrets:
        assert secret in registered
        assert result.lines_showing(secret) == []


def twine_upload(pypirc: Path, repository: str, wheel: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "twine", "upload", "--non-interactive"]
    cmd += ["--disable-progress-bar", "-r", repository, "--config-file", str(pypirc), str(wheel)]
    return subprocess.run(cmd, env=base_env(), capture_output=True, text=True, timeout=120)


def test_organization_feed_then_twine_then_cleanup(
    agent_job: MakeJob, make_emulator: Any, tmp_path: Path
) -> None:
    pytest.importorskip("twine")
    emu = make_emulator(mode="services")
    job = job_for(agent_job, emu)
    result = job.run({"artifactFeed": "MyFeed"})
    assert_succeeded(result)
    assert_masked(result, BUILD_TOKEN)
    pypirc = Path(result.variables["PYPIRC_PATH"])
    assert pypirc.parent.parent == job.temp_dir / "twineAuthenticate"
    assert pypirc.read_text() == (
        "[distutils]\nindex-servers=MyFeed\n\n"
        f"[MyFeed]\nrepository={emu.feed_upload_url('MyFeed')}\nusername=build\n"
        f"password={BUILD_TOKEN}"
    )
    wheel = make_wheel(tmp_path / "dist", "harness_demo", "1.2.3")
    upload = twine_upload(pypirc, "MyFeed", wheel)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert wheel.name in emu.uploaded_files("MyFeed")

    (cleanup,) = job.post_job()
    assert_succeeded(cleanup)
    assert not pypirc.exists()
    assert not pypirc.parent.exists()
    assert cleanup.plain_lines == [f"Removed the credentials file {pypirc}."]


def test_project_feed_on_server(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator(mode="server")
    job = job_for(agent_job, emu)
    result = job.run({"artifactFeed": "  My Project/ProjFeed  "})
    assert_succeeded(result)
    text = Path(result.variables["PYPIRC_PATH"]).read_text()
    assert "index-servers=ProjFeed\n" in text
    assert f"repository={emu.feed_upload_url('ProjFeed', project='My Project')}\n" in text


def test_service_connections(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator(mode="services")
    endpoints = [
        Endpoint.token(TOKEN_ID, "https://upload.pypi.org/legacy/", PYPI_TOKEN, "pypi"),
        Endpoint.username_password(
            EXT_ID, "https://pkgs.example.test/upload/", "alice", EXT_PASSWORD, "external"
        ),
    ]
    job = job_for(agent_job, emu, endpoints=endpoints)
    result = job.run(
        {"artifactFeed": "MyFeed", "pythonUploadServiceConnection": [TOKEN_ID, EXT_ID]}
    )
    assert_succeeded(result)
    assert_masked(result, BUILD_TOKEN, PYPI_TOKEN, EXT_PASSWORD)
    text = Path(result.variables["PYPIRC_PATH"]).read_text()
    assert text.startswith("[distutils]\nindex-servers=MyFeed pypi")
    assert "[pypi]\nrepository=https://upload.pypi.org/legacy/\nusername=__token__\n" in text
    assert f"password={PYPI_TOKEN}" in text


def test_connection_the_job_does_not_have(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator(mode="services")
    job = job_for(agent_job, emu)
    result = job.run({"pythonUploadServiceConnection": EXT_ID})
    assert result.returncode == 0
    assert result.result == "Failed"
    assert result.errors == [
        f"The service connection '{EXT_ID}' is not available to this job. Check that it exists"
        " and that the pipeline is authorized to use it."
    ]
    assert "PYPIRC_PATH" not in result.variables


def test_second_run_in_the_job_reuses_the_path(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator(mode="services")
    job = job_for(agent_job, emu)
    first = job.run({"artifactFeed": "MyFeed"})
    second = job.run({"artifactFeed": "My Project/ProjFeed"})
    assert_succeeded(first)
    assert_succeeded(second)
    path = Path(first.variables["PYPIRC_PATH"])
    assert second.variables["PYPIRC_PATH"] == str(path)
    assert "index-servers=ProjFeed\n" in path.read_text()
    cleanups = job.post_job()
    assert [c.result for c in cleanups] == ["Succeeded", "Succeeded"]
    assert not path.exists()


def test_wrong_token_is_one_clear_failure(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator(mode="services")
    job = agent_job(collection_uri=emu.collection_url, access_token="not-the-token")
    result = job.run({"artifactFeed": "MyFeed"})
    assert result.returncode == 0
    assert result.result == "Failed"
    assert len(result.agent_errors) == 1
    assert result.errors[0].startswith("The build identity cannot reach ")
    assert result.lines_showing("not-the-token") == []


def test_messages_in_the_job_culture(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator(mode="services")
    job = job_for(agent_job, emu, culture="de-DE")
    result = job.run({"artifactFeed": "MyFeed"})
    assert_succeeded(result)
    assert any(
        line.startswith("Repository „MyFeed“ (Quelle: Feed „MyFeed“) ist bereit: ")
        for line in result.plain_lines
    )
    bad = job.run({"artifactFeed": "a/b/c"})
    assert bad.errors == [
        "„a/b/c“ ist kein Feedname. Verwenden Sie „feed“ für einen Feed der Organisation"
        " oder „projekt/feed“ für einen Feed eines Projekts, mehrere durch Kommas getrennt."
    ]


def test_debug_output_shows_no_secret(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator(mode="services")
    job = job_for(agent_job, emu, debug=True)
    result = job.run({"artifactFeed": "MyFeed"})
    assert_succeeded(result)
    assert result.named("task.debug")
    assert_masked(result, BUILD_TOKEN)


def test_federation_through_the_yaml_alias(
    agent_job: MakeJob, make_emulator: Any, tmp_path: Path
) -> None:
    trustme = pytest.importorskip("trustme")
    from twineauthenticate.emulator import Feed

    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    cert, key, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    connection, client = (
        "5c4b3a29-1807-4f6e-8d5c-4b3a29180716",
        "c1c2c3c4-0000-4000-8000-0000000000c1",
    )
    emu = make_emulator(
        feeds=[Feed("FedFeed", project="Other Project")],
        tls=(cert, key),
        service_connections={connection: client},
    )
    endpoint = Endpoint.workload_identity(
        connection, client, data={"environmentAuthorityUrl": emu.authority_url}
    )
    job = job_for(
        agent_job,
        emu,
        endpoints=[endpoint],
        variables={"Agent.CAInfo": str(ca_file), "System.OidcRequestUri": emu.oidc_request_uri},
    )
    feed_url = emu.feed_upload_url("FedFeed", project="Other Project") + "/"
    result = job.run({"azureDevOpsServiceConnection": connection, "feedUrl": feed_url})
    assert_succeeded(result)
    (access_token,) = emu.issued_access_tokens
    assert_masked(result, access_token)
    text = Path(result.variables["PYPIRC_PATH"]).read_text()
    assert (
        f"[FedFeed]\nrepository={feed_url}\nusername={connection}\npassword={access_token}" in text
    )
