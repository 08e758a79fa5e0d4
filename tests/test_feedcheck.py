"""The feed check: a wrong feed, scope or permission is one error at the step, with the fix.

Against the emulator's default organization: ``MyFeed`` (organization) and
``My Project/ProjFeed``. The cases users of Microsoft's task hit at upload run
through the agent path (``node index.js`` from the built bundle, then the real
twine); the rest through ``python -m twineauthenticate`` with the same environment.
Every failing run leaves no file, sets no ``PYPIRC_PATH`` and shows no secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.agent_harness import AgentJob, Endpoint, TaskResult
from tests.conftest import BUILD_TOKEN, agent_env_for
from tests.harness_fixtures import (  # noqa: F401 (fixtures)
    agent_job_fixture,
    bare_python_fixture,
    task_bundle_fixture,
    task_dir_fixture,
)
from tests.helpers import (
    TaskRun,
    Tls,
    assert_failed_cleanly,
    assert_no_secret_in_clear,
    connection_env,
    files_under,
    make_tls,
    make_wheel,
    run_task,
    twine_upload,
)
from tests.test_agent_emulator import job_for
from tests.test_federation import CLIENT_ID, CONNECTION, federated_url, wif_env
from twineauthenticate.emulator import Feed

MakeJob = Callable[..., AgentJob]
PACKAGING_AREA = "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5"
ROLE = "To upload, that identity needs the role Feed Publisher (Contributor) on the feed"
WHERE = "add it in the feed's Settings > Permissions."
IDENTITY = "'Project Collection Build Service (contoso)', the identity this job runs as"
SCOPE_SETTING = "'Limit job authorization scope to current project'"


def failed_in_the_agent(job: AgentJob, result: TaskResult) -> str:
    """The agent path's clean failure: one error, no file, no PYPIRC_PATH, no secret."""
    assert result.returncode == 0, result.stdout + result.stderr  # the task reported it
    assert result.result == "Failed", result.stdout
    assert len(result.agent_errors) == 1, result.agent_errors
    assert "PYPIRC_PATH" not in result.variables
    assert files_under(job.temp_dir) == []
    for secret in job.known_secrets():
        assert result.lines_showing(secret) == []
    return result.errors[0]


def failed(run: TaskRun, agent_temp: Path) -> str:
    message = assert_failed_cleanly(run, agent_temp)
    assert_no_secret_in_clear(run, BUILD_TOKEN)
    return message


def feed_api_requests(emu: Any) -> list[str]:
    """Requests to the Feed Management host or its resource area."""
    return [
        r.path
        for r in emu.requests
        if r.path.startswith("/_feeds/")
        or "/_apis/packaging/feeds" in r.path
        or PACKAGING_AREA in r.path.lower()
    ]


# -- off the critical path -------------------------------------------------------------------


def test_one_round_serves_every_feed(make_emulator: Any, agent_temp: Path) -> None:
    """Services, four feeds: the check's requests arrive with the lookup's, in two rounds.

    At 0.3 s per answer, requests sent one after the other would arrive at least
    0.3 s apart; here the two area lookups arrive together, then, one answer later,
    the PyPI locations and the four feeds together. (Four, not ten: the emulator's
    listen backlog is 5, and a connection beyond it waits for a SYN retransmit.)
    """
    arrivals: list[tuple[float, str]] = []
    feeds = [Feed(f"Feed{i}") for i in range(2)] + [Feed(f"F{i}", project="Team") for i in range(2)]
    emu = make_emulator(
        feeds=feeds,
        latency=0.3,
        on_request=lambda record: arrivals.append((time.monotonic(), record.path)),
    )
    names = ", ".join(f"{f.project}/{f.name}" if f.project else f.name for f in feeds)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED=names))
    assert run.result == "Succeeded", run.stdout
    assert len(arrivals) == 2 + 1 + 4
    first, second = arrivals[:2], arrivals[2:]
    assert all("/_apis/resourceAreas/" in path for _, path in first)
    assert sorted(path.split("/_apis/")[1].split("/")[0] for _, path in second) == [
        "packaging"
    ] * 4 + ["pypi"]
    assert first[-1][0] - first[0][0] < 0.2
    assert second[-1][0] - second[0][0] < 0.2
    assert second[0][0] - first[-1][0] >= 0.25  # the second round waits for the first's answers


# -- not found: the fix proposed, through the agent --------------------------------------


def test_project_feed_written_without_its_project(agent_job: MakeJob, make_emulator: Any) -> None:
    """The issue's example: Microsoft's task succeeds here and twine fails with a 404."""
    emu = make_emulator()
    job = job_for(agent_job, emu)
    message = failed_in_the_agent(job, job.run({"artifactFeed": "ProjFeed"}))
    assert message == (
        "The feed 'ProjFeed' does not exist in the organization, or the job's identity cannot"
        f" see it (HTTP 404 from {emu.feeds_url}_apis/packaging/feeds/ProjFeed)."
        " That feed is in project 'My Project': use 'My Project/ProjFeed'."
    )


def test_organization_feed_written_with_a_project(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator()
    job = job_for(agent_job, emu)
    message = failed_in_the_agent(job, job.run({"artifactFeed": "My Project/MyFeed"}))
    assert message.startswith("The feed 'MyFeed' does not exist in project 'My Project', ")
    assert message.endswith(
        "That feed belongs to the organization, not to a project: use 'MyFeed'."
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("MyFed", "Did you mean 'MyFeed'?"),
        ("My Project/ProjFed", "Did you mean 'My Project/ProjFeed'?"),
        ("Elsewhere", "The feeds the job's identity can see: 'MyFeed', 'My Project/ProjFeed'."),
    ],
)
def test_a_typo_gets_the_close_spelling(
    make_emulator: Any, agent_temp: Path, given: str, expected: str
) -> None:
    emu = make_emulator()
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED=given))
    message = failed(run, agent_temp)
    assert message.endswith(expected), message
    # The picker's list is asked for only now, on the failure path.
    assert emu.requests[-1].path == "/contoso/_apis/packaging/feedids"


def test_a_project_that_does_not_exist(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="My Projekt/ProjFeed"))
    message = failed(run, agent_temp)
    assert message.startswith("The project 'My Projekt' of the feed 'ProjFeed' does not exist")
    assert message.endswith("That feed is in project 'My Project': use 'My Project/ProjFeed'.")


def test_messages_in_the_job_culture(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="ProjFeed", SYSTEM_CULTURE="de-DE")
    message = failed(run_task(env), agent_temp)
    assert message.startswith("Der Feed „ProjFeed“ existiert in der Organisation nicht, ")
    assert message.endswith(
        "Dieser Feed gehört zum Projekt „My Project“: Verwenden Sie „My Project/ProjFeed“."
    )


def test_the_first_wrong_feed_of_several_is_named(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed, ProjFeed, Nope")
    message = failed(run_task(env), agent_temp)
    assert message.startswith("The feed 'ProjFeed' does not exist in the organization")


# -- what Azure DevOps accepts works -------------------------------------------------------


def test_names_match_whatever_their_case(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="myfeed, MY PROJECT/projfeed")
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert run.warnings == []
    assert "index-servers=myfeed projfeed\n" in run.pypirc.read_text()


def test_feed_and_project_ids(make_emulator: Any, agent_temp: Path, tmp_path: Path) -> None:
    emu = make_emulator()
    project_feed = f"{emu.project_id('My Project')}/{emu.feed_id('ProjFeed', 'My Project')}"
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED=emu.feed_id("MyFeed"))
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    second = run_task(agent_env_for(emu, tmp_path, INPUT_ARTIFACTFEED=project_feed))
    assert second.result == "Succeeded", second.stdout
    assert second.warnings == []


# -- not allowed -----------------------------------------------------------------------------


def test_a_feed_the_identity_may_not_read(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(permissions={"MyFeed": "none"})
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = failed(run, agent_temp)
    assert message == (
        f"The feed 'MyFeed' refused {IDENTITY} (HTTP 403 from"
        f" {emu.feeds_url}_apis/packaging/feeds/MyFeed). {ROLE}: {WHERE}"
    )
    assert emu.requests[-1].path == "/contoso/_apis/connectionData"


def test_a_feed_of_another_project_names_the_scope_setting(
    agent_job: MakeJob, make_emulator: Any
) -> None:
    emu = make_emulator(identity="HarnessProject Build Service (contoso)")
    emu.set_permission("ProjFeed", "none", project="My Project")
    job = job_for(agent_job, emu)  # System.TeamProject: HarnessProject
    message = failed_in_the_agent(job, job.run({"artifactFeed": "My Project/ProjFeed"}))
    assert message.startswith(
        "The feed 'My Project/ProjFeed' refused 'HarnessProject Build Service (contoso)', the"
        " identity this job runs as (HTTP 403 from "
    )
    assert f"{ROLE}: {WHERE}" in message
    assert message.endswith(
        "The feed is in project 'My Project', not in this pipeline's project 'HarnessProject':"
        f" with the setting {SCOPE_SETTING} on (Project settings > Pipelines > Settings), the job"
        " runs as this project's build service; give that identity the role, or turn the"
        " setting off."
    )


def test_readable_but_not_publishable_shows_only_at_upload(
    agent_job: MakeJob, make_emulator: Any, tmp_path: Path
) -> None:
    """Azure DevOps has no read-only way to ask for the publish right: twine meets the 403."""
    emu = make_emulator(permissions={"MyFeed": "read"})
    job = job_for(agent_job, emu)
    result = job.run({"artifactFeed": "MyFeed"})
    assert result.result == "Succeeded", result.stdout
    assert result.warnings == []
    upload = twine_upload(Path(result.variables["PYPIRC_PATH"]), "MyFeed", make_wheel(tmp_path))
    assert upload.returncode != 0
    assert "403" in upload.stdout + upload.stderr
    assert "You need to have 'AddPackage'" in upload.stdout + upload.stderr


def test_a_sign_in_page_is_not_authenticated(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    page = "<!DOCTYPE html><html><body>Sign in to your account</body></html>"
    emu.inject_faults(count=1, status=203, body=page, path_contains="/_apis/packaging/feeds/")
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = failed(run, agent_temp)
    assert message.startswith(f"The feed 'MyFeed' refused {IDENTITY} (HTTP 203 from ")


def test_a_sign_in_page_for_the_lookup_is_never_parsed(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    page = "<html><body>Sign in</body></html>"
    emu.inject_faults(count=1, status=200, body=page, path_contains="/_apis/pypi")
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = failed(run, agent_temp)
    assert message.startswith(f"{emu.packaging_url}_apis/pypi did not accept the credentials:")
    assert "with a sign-in page or a redirect instead of data" in message


# -- never less reliable than Microsoft's task ---------------------------------------------------


def test_feed_management_down_warns_and_the_upload_still_works(
    agent_job: MakeJob, make_emulator: Any, tmp_path: Path
) -> None:
    emu = make_emulator()
    emu.inject_faults(count=100, status=503, path_contains="/_apis/packaging/feeds/")
    job = job_for(agent_job, emu, variables={"TwineAuthenticate.Attempts": "2"})
    result = job.run({"artifactFeed": "MyFeed"})
    assert result.result == "Succeeded", result.stdout
    assert result.errors == []
    (warning,) = result.warnings
    assert warning.startswith(
        "Could not check 'MyFeed', so the upload URL is written unchecked: a wrong name,"
        " project or permission will show only at upload. "
    )
    assert "answered HTTP 503" in warning
    wheel = make_wheel(tmp_path)
    upload = twine_upload(Path(result.variables["PYPIRC_PATH"]), "MyFeed", wheel)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert emu.uploaded_files("MyFeed") == [wheel.name]


def test_a_404_that_is_not_about_the_feed_only_warns(make_emulator: Any, agent_temp: Path) -> None:
    """A route the server lacks, or a proxy's page: no answer about the feed."""
    emu = make_emulator()
    body = '{"message": "The resource cannot be found."}'
    emu.inject_faults(count=1, status=404, body=body, path_contains="/_apis/packaging/feeds/")
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.result == "Succeeded", run.stdout
    (warning,) = run.warnings
    assert warning.startswith("Could not check 'MyFeed', so the upload URL is written unchecked")
    assert warning.endswith("answered HTTP 404: The resource cannot be found.")


def test_packaging_area_down_warns(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=100, status=503, path_contains=PACKAGING_AREA)
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed, My Project/ProjFeed")
    env["TWINEAUTHENTICATE_ATTEMPTS"] = "1"
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    (warning,) = run.warnings
    assert warning.startswith("Could not check 'MyFeed', 'My Project/ProjFeed', so ")
    assert not any(r.path.startswith("/_feeds/") for r in emu.requests)


@pytest.mark.parametrize("how", ["variable", "flag"])
def test_check_off_sends_nothing_to_feed_management(
    make_emulator: Any, agent_temp: Path, how: str
) -> None:
    emu = make_emulator()
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="ProjFeed")  # wrong, unchecked
    args: tuple[str, ...] = ()
    if how == "variable":
        env["TWINEAUTHENTICATE_VERIFY"] = "false"
    else:
        args = ("--no-verify",)
    run = run_task(env, *args)
    assert run.result == "Succeeded", run.stdout
    assert feed_api_requests(emu) == []
    assert len(emu.requests) == 2


# -- service connections and the federated feed ----------------------------------------------


def test_a_connection_to_a_package_index(agent_job: MakeJob, make_emulator: Any) -> None:
    emu = make_emulator()
    index = "https://pkgs.dev.azure.com/contoso/Team/_packaging/Releases/pypi/simple/"
    ident = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    endpoint = Endpoint.token(ident, index, "ext-token-7c1d5e", "releases")
    job = job_for(agent_job, emu, endpoints=[endpoint])
    message = failed_in_the_agent(job, job.run({"pythonUploadServiceConnection": ident}))
    assert message == (
        f"The URL of the service connection 'releases' is a feed's package index ({index}),"
        " which takes no upload. Set the connection's URL to the feed's upload URL:"
        " https://pkgs.dev.azure.com/contoso/Team/_packaging/Releases/pypi/upload/"
    )
    assert emu.requests == []


@pytest.mark.parametrize(
    ("url", "token", "warned"),
    [
        ("https://upload.pypi.org/legacy/", "not-a-pypi-token-1234", True),
        ("https://test.pypi.org/legacy/", "0123456789abcdef", True),
        ("https://upload.pypi.org/legacy/", "pypi-AgEIcHlwaS5vcmcCJDk1", False),
        ("https://upload.example/legacy/", "not-a-pypi-token-1234", False),
    ],
)
def test_a_pypi_token_of_another_form_is_warned_about(
    make_emulator: Any, agent_temp: Path, url: str, token: str, warned: bool
) -> None:
    emu = make_emulator()
    env = agent_env_for(
        emu,
        agent_temp,
        INPUT_PYTHONUPLOADSERVICECONNECTION="c-1",
        **connection_env("c-1", url, "pypi", "Token", apitoken=token),
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    host = url.split("/")[2]
    expected = [
        "The token of the service connection 'pypi' does not have the form of a PyPI API token"
        f" (they start with 'pypi-'), so {host} will refuse the upload. Create an API token on"
        " PyPI and put it in the connection."
    ]
    assert run.warnings == (expected if warned else [])
    assert emu.requests == []  # connections only: no request
    assert_no_secret_in_clear(run, token)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


def test_a_federated_feed_that_does_not_exist(
    make_emulator: Any, agent_temp: Path, tls: Tls
) -> None:
    emu = make_emulator(
        feeds=[Feed("FedFeed", project="Other Project")],
        tls=(tls.cert, tls.key),
        service_connections={CONNECTION: CLIENT_ID},
    )
    url = federated_url(emu, feed="Missing")
    run = run_task(wif_env(emu, agent_temp, tls, INPUT_FEEDURL=url))
    message = failed(run, agent_temp)
    assert message == f"The feed at {url} was not found (HTTP 404). Check the feed URL."
    (access_token,) = emu.issued_access_tokens
    assert_no_secret_in_clear(run, access_token)
    check = emu.requests[-1]
    assert (check.method, check.status, check.auth_ok) == ("GET", 404, True)  # the new token
    assert check.path.endswith("/_packaging/Missing/pypi/simple/")


def federation_emulator(make_emulator: Any, tls: Tls) -> Any:
    return make_emulator(
        feeds=[Feed("FedFeed", project="Other Project")],
        tls=(tls.cert, tls.key),
        service_connections={CONNECTION: CLIENT_ID},
    )


def test_a_federated_feed_that_refuses_the_service_principal(
    make_emulator: Any, agent_temp: Path, tls: Tls
) -> None:
    emu = federation_emulator(make_emulator, tls)
    emu.inject_faults(count=1, status=403, path_contains="/pypi/simple/")
    run = run_task(wif_env(emu, agent_temp, tls))
    message = failed(run, agent_temp)
    assert message == (
        f"The feed at {federated_url(emu)} refused the service principal of the service"
        f" connection '{CONNECTION}' (HTTP 403). Add the service principal to the feed's"
        " organization and give it the role Feed Publisher (Contributor) in the feed's"
        " Settings > Permissions."
    )
    assert_no_secret_in_clear(run, *emu.issued_access_tokens)


def test_a_federated_feed_that_cannot_be_checked_warns(
    make_emulator: Any, agent_temp: Path, tls: Tls
) -> None:
    emu = federation_emulator(make_emulator, tls)
    emu.inject_faults(count=10, status=503, path_contains="/pypi/simple/")
    run = run_task(wif_env(emu, agent_temp, tls, TWINEAUTHENTICATE_ATTEMPTS="2"))
    assert run.result == "Succeeded", run.stdout
    (warning,) = run.warnings
    assert warning.startswith(f"Could not check '{federated_url(emu)}', so the upload URL")
    assert f"username={CONNECTION}\n" in run.pypirc.read_text()


# -- Azure DevOps Server ---------------------------------------------------------------------


def test_server_checks_on_the_collection(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(mode="server")
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="ProjFeed")
    message = failed(run_task(env), agent_temp)
    assert message == (
        "The feed 'ProjFeed' does not exist in the organization, or the job's identity cannot"
        f" see it (HTTP 404 from {emu.collection_url}_apis/packaging/feeds/ProjFeed)."
        " That feed is in project 'My Project': use 'My Project/ProjFeed'."
    )
    paths = sorted(r.path for r in emu.requests)
    assert paths == [
        "/tfs/DefaultCollection/_apis/packaging/feedids",
        "/tfs/DefaultCollection/_apis/packaging/feeds/ProjFeed",
        "/tfs/DefaultCollection/_apis/pypi",
    ]


def test_server_forbidden_feed(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(mode="server", permissions={"My Project/ProjFeed": "none"})
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="My Project/ProjFeed")
    message = failed(run_task(env), agent_temp)
    assert message.startswith(f"The feed 'My Project/ProjFeed' refused {IDENTITY} (HTTP 403 ")
