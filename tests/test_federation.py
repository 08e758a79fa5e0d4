"""Workload identity federation (an 'Azure DevOps' service connection + feedUrl).

The task runs as a process with the agent's environment only, against the
emulator served over TLS (a private CA given as Agent.CAInfo); the end-to-end
case then uploads with a real ``twine``.
"""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUILD_TOKEN, agent_env_for
from tests.helpers import (
    Tls,
    assert_failed_cleanly,
    assert_no_secret_in_clear,
    base_env,
    connection_env,
    make_tls,
    make_wheel,
    run_task,
    twine_upload,
)
from twineauthenticate.agent import Agent
from twineauthenticate.exceptions import TaskError
from twineauthenticate.federation import PPE_AUTHORITY, PUBLIC_AUTHORITY, authority, feed_name

CONNECTION = "7f0c5e2a-4b1d-4c3e-9a8f-2d6b1e0c9f31"
CLIENT_ID = "0d3c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
# The connection's own tenant; the feed's tenant (the emulator's) comes from its header.
CONNECTION_TENANT = "99999999-8888-7777-6666-555555555555"
EXPECTED_FORM = "https://pkgs.dev.azure.com/{organization}/{project}/_packaging/{feed}/pypi/upload/"


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def emu(make_emulator: Any, tls: Tls) -> Any:
    from twineauthenticate.emulator import Feed

    return make_emulator(
        feeds=[Feed("MyFeed"), Feed("FedFeed", project="Other Project")],
        tls=(tls.cert, tls.key),
        service_connections={CONNECTION: CLIENT_ID},
    )


def federated_url(emu: Any, feed: str = "FedFeed", project: str | None = "Other Project") -> str:
    """The feedUrl a user copies from the feed's 'Connect' page (trailing slash)."""
    url: str = emu.feed_upload_url(feed, project=project)
    return url + "/"


def wif_connection_env(
    ident: str = CONNECTION,
    authority_url: str | None = None,
    **params: str,
) -> dict[str, str]:
    """The variables the agent sets for a workload identity federation connection."""
    params = params or {"serviceprincipalid": CLIENT_ID, "tenantid": CONNECTION_TENANT}
    env = {
        f"ENDPOINT_URL_{ident}": "https://dev.azure.com/contoso/",
        f"ENDPOINT_AUTH_{ident}": json.dumps(
            {"parameters": params, "scheme": "WorkloadIdentityFederation"}
        ),
        f"ENDPOINT_AUTH_SCHEME_{ident}": "WorkloadIdentityFederation",
    }
    for key, value in params.items():
        env[f"ENDPOINT_AUTH_PARAMETER_{ident}_{key.upper()}"] = value
    if authority_url is not None:
        env[f"ENDPOINT_DATA_{ident}"] = json.dumps({"environmentAuthorityUrl": authority_url})
        env[f"ENDPOINT_DATA_{ident}_ENVIRONMENTAUTHORITYURL"] = authority_url
    return env


def with_connection(env: dict[str, str], ident: str = CONNECTION, **params: str) -> None:
    """Replace the auth of connection ``ident`` in ``env`` by one with only ``params``."""
    for key in [k for k in env if k.startswith("ENDPOINT_AUTH") and ident in k]:
        del env[key]
    auth = {"parameters": params, "scheme": "WorkloadIdentityFederation"}
    env[f"ENDPOINT_AUTH_{ident}"] = json.dumps(auth)
    env[f"ENDPOINT_AUTH_SCHEME_{ident}"] = "WorkloadIdentityFederation"
    for key, value in params.items():
        env[f"ENDPOINT_AUTH_PARAMETER_{ident}_{key.upper()}"] = value


def wif_env(emu: Any, agent_temp: Path, tls: Tls, **extra: str) -> dict[str, str]:
    """A job with the two federation inputs, against the emulator over TLS."""
    env = agent_env_for(
        emu,
        agent_temp,
        AGENT_CAINFO=str(tls.ca),
        SYSTEM_OIDCREQUESTURI=emu.oidc_request_uri,
        INPUT_WORKLOADIDENTITYSERVICECONNECTION=CONNECTION,
        INPUT_FEEDURL=federated_url(emu),
        **wif_connection_env(authority_url=emu.authority_url),
    )
    env.update(extra)
    return env


# -- end to end -------------------------------------------------------------------------


def test_federated_feed_then_real_twine_upload(
    emu: Any, agent_temp: Path, tls: Tls, tmp_path: Path
) -> None:
    run = run_task(wif_env(emu, agent_temp, tls))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result == "Succeeded", run.stdout
    assert run.errors == [] and run.warnings == []
    assert len(emu.issued_oidc_tokens) == 1
    assert len(emu.issued_access_tokens) == 1
    access_token = emu.issued_access_tokens[0]
    assert run.secrets == [BUILD_TOKEN, emu.issued_oidc_tokens[0], access_token]

    path = run.pypirc
    assert path.parent.parent == agent_temp / "twineAuthenticate"
    assert (
        path.read_bytes()
        == (
            "[distutils]\nindex-servers=FedFeed\n\n"
            f"[FedFeed]\nrepository={federated_url(emu)}\nusername={CONNECTION}\n"
            f"password={access_token}"
        ).encode()
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "0 organization feed(s), 0 service connection(s) and 1 federated feed(s)" in run.stdout
    assert any("-r FedFeed --config-file $(PYPIRC_PATH)" in line for line in run.plain_lines)

    # The flow: anonymous GET of the feed, OIDC token, Entra exchange, then the feed
    # check (its simple index, with the new access token), nothing else.
    methods = [(r.method, r.path.split("?")[0]) for r in emu.requests]
    assert [m for m, _ in methods] == ["GET", "POST", "POST", "GET"], methods
    assert methods[1][1].endswith("/_oidc/token")
    assert methods[2][1].endswith(f"/_entra/{emu.tenant_id}/oauth2/v2.0/token")
    assert methods[3][1] == "/_pkgs/contoso/Other%20Project/_packaging/FedFeed/pypi/simple/"
    assert emu.requests[3].status == 200

    wheel = make_wheel(tmp_path / "dist")
    upload = twine_upload(path, "FedFeed", wheel, cert=tls.ca)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert emu.uploaded_files("FedFeed", project="Other Project") == [wheel.name]
    assert emu.uploaded_files("MyFeed") == []
    post = emu.requests[-1]
    assert (post.method, post.status, post.auth_ok, post.user) == ("POST", 200, True, CONNECTION)


def test_alias_input_for_local_runs(emu: Any, agent_temp: Path, tls: Tls) -> None:
    env = wif_env(emu, agent_temp, tls)
    env["INPUT_AZUREDEVOPSSERVICECONNECTION"] = env.pop("INPUT_WORKLOADIDENTITYSERVICECONNECTION")
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert f"username={CONNECTION}\n" in run.pypirc.read_text()


def test_tenant_falls_back_to_the_connection(
    emu: Any, agent_temp: Path, tls: Tls, tmp_path: Path
) -> None:
    # The emulator has no switch to drop X-VSS-ResourceTenant; an injected 401 (an
    # answer without the header) stands for a feed that does not name its tenant.
    emu.inject_faults(count=1, status=401, path_contains="/pypi/upload")
    env = wif_env(emu, agent_temp, tls)
    with_connection(env, serviceprincipalid=CLIENT_ID, tenantid=emu.tenant_id)
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert emu.pending_faults == 0
    assert emu.requests[0].status == 401
    assert (
        emu.requests[-2].path.split("?")[0].endswith(f"/_entra/{emu.tenant_id}/oauth2/v2.0/token")
    )
    wheel = make_wheel(tmp_path / "dist", name="fallback_pkg")
    upload = twine_upload(run.pypirc, "FedFeed", wheel, cert=tls.ca)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert emu.uploaded_files("FedFeed", project="Other Project") == [wheel.name]


def test_transient_failures_of_oidc_and_entra_are_retried(
    emu: Any, agent_temp: Path, tls: Tls
) -> None:
    emu.inject_faults(count=1, status=503, path_contains="/_oidc/")
    emu.inject_faults(count=1, status=503, path_contains="/_entra/")
    run = run_task(wif_env(emu, agent_temp, tls))
    assert run.result == "Succeeded", run.stdout
    assert sum("trying again" in line for line in run.plain_lines) == 2
    assert emu.pending_faults == 0


# -- combination with the other inputs ----------------------------------------------------


def test_combined_with_a_feed_and_a_connection(emu: Any, agent_temp: Path, tls: Tls) -> None:
    ext = connection_env(
        "ext-conn-1", "https://upload.example/legacy/", "extfeed", "Token", apitoken="pypi-ext-tok"
    )
    env = wif_env(
        emu,
        agent_temp,
        tls,
        INPUT_ARTIFACTFEED="MyFeed",
        INPUT_PYTHONUPLOADSERVICECONNECTION="ext-conn-1",
        **ext,
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    access_token = emu.issued_access_tokens[0]
    assert run.pypirc.read_text() == (
        "[distutils]\nindex-servers=MyFeed extfeed FedFeed\n\n"
        f"[MyFeed]\nrepository={emu.feed_upload_url('MyFeed')}\nusername=build\n"
        f"password={BUILD_TOKEN}\n\n"
        "[extfeed]\nrepository=https://upload.example/legacy/\nusername=__token__\n"
        "password=pypi-ext-tok\n\n"
        f"[FedFeed]\nrepository={federated_url(emu)}\nusername={CONNECTION}\n"
        f"password={access_token}"
    )
    assert "1 organization feed(s), 1 service connection(s) and 1 federated feed(s)" in run.stdout


def test_feed_and_federated_feed_with_the_same_name(
    make_emulator: Any, agent_temp: Path, tls: Tls
) -> None:
    from twineauthenticate.emulator import Feed

    emu = make_emulator(
        feeds=[Feed("X"), Feed("X", project="P")],
        tls=(tls.cert, tls.key),
        service_connections={CONNECTION: CLIENT_ID},
    )
    url = emu.feed_upload_url("X", project="P")
    env = wif_env(emu, agent_temp, tls, INPUT_ARTIFACTFEED="X", INPUT_FEEDURL=url)
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        f"Two sources would both be the repository 'X' (feed 'X' and feedUrl '{url}')"
    ), message
    assert emu.requests == []  # found before any request or token exchange
    assert emu.issued_oidc_tokens == []


def test_connection_and_federated_feed_with_the_same_name(
    emu: Any, agent_temp: Path, tls: Tls
) -> None:
    ext = connection_env("c1", "https://upload.example/", "FedFeed", "Token", apitoken="tok-123")
    env = wif_env(emu, agent_temp, tls, INPUT_PYTHONUPLOADSERVICECONNECTION="c1", **ext)
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        "Two sources would both be the repository 'FedFeed' (service connection 'FedFeed' and "
        f"feedUrl '{federated_url(emu)}')"
    ), message


# -- failures -------------------------------------------------------------------------------


CONNECTION_ONLY = "azureDevOpsServiceConnection is set but feedUrl is not."
FEED_URL_ONLY = "feedUrl is set but azureDevOpsServiceConnection is not."


@pytest.mark.parametrize(
    ("keep", "expected"),
    [
        ("INPUT_WORKLOADIDENTITYSERVICECONNECTION", CONNECTION_ONLY),
        ("INPUT_AZUREDEVOPSSERVICECONNECTION", CONNECTION_ONLY),
        ("INPUT_FEEDURL", FEED_URL_ONLY),
    ],
    ids=["connection-only", "alias-only", "feedurl-only"],
)
def test_only_one_of_the_two_inputs(
    emu: Any, agent_temp: Path, tls: Tls, keep: str, expected: str
) -> None:
    env = wif_env(emu, agent_temp, tls)
    values = {
        "INPUT_WORKLOADIDENTITYSERVICECONNECTION": CONNECTION,
        "INPUT_AZUREDEVOPSSERVICECONNECTION": CONNECTION,
        "INPUT_FEEDURL": federated_url(emu),
    }
    for key in values:
        env.pop(key, None)
    env[keep] = values[keep]
    message = assert_failed_cleanly(run_task(env), agent_temp)
    # The error names the missing input, as YAML users write it.
    assert message.startswith(expected), message
    assert "needs both azureDevOpsServiceConnection and feedUrl" in message
    assert emu.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://pkgs.dev.azure.com/org/proj/_packaging/feed/pypi/upload/",
        "https://pkgs.dev.azure.com/org/proj/_packaging/feed/pypi/simple/",
        "https://pkgs.dev.azure.com/org/proj/_packaging/feed/nuget/v3/index.json",
        "https://pkgs.dev.azure.com/org/proj/feed/pypi/upload/",
        "https://pkgs.dev.azure.com/org/proj/_packaging/feed/pypi/upload/?api-version=7.1",
        "https://pkgs.dev.azure.com/org/proj/_packaging/feed/pypi/upload#top",
        "pkgs.dev.azure.com/org/_packaging/feed/pypi/upload/",
    ],
    ids=["http", "simple", "nuget", "no-_packaging", "query", "fragment", "no-scheme"],
)
def test_feed_url_not_an_upload_url(emu: Any, agent_temp: Path, tls: Tls, url: str) -> None:
    env = wif_env(emu, agent_temp, tls, INPUT_FEEDURL=url, INPUT_ARTIFACTFEED="MyFeed")
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        f"feedUrl '{url}' is not the upload URL of a feed. Expected {EXPECTED_FORM}"
    ), message
    assert emu.requests == []  # checked before any request, also the feed's


def test_no_tenant_anywhere(emu: Any, agent_temp: Path, tls: Tls) -> None:
    emu.inject_faults(count=1, status=401, path_contains="/pypi/upload")
    env = wif_env(emu, agent_temp, tls)
    with_connection(env, serviceprincipalid=CLIENT_ID)
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        f"The tenant of {federated_url(emu)} could not be found: the feed did not name it "
        f"and the service connection '{CONNECTION}' has no tenant id."
    ), message
    assert emu.issued_oidc_tokens == []


def test_no_service_principal_id(emu: Any, agent_temp: Path, tls: Tls) -> None:
    env = wif_env(emu, agent_temp, tls)
    with_connection(env, tenantid=CONNECTION_TENANT)
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        f"The service connection '{CONNECTION}' has no service principal (client) id."
    ), message
    assert emu.requests == []


def test_connection_not_available_to_the_job(emu: Any, agent_temp: Path, tls: Tls) -> None:
    env = wif_env(emu, agent_temp, tls)
    for key in [k for k in env if CONNECTION in k]:
        del env[key]
    env["INPUT_WORKLOADIDENTITYSERVICECONNECTION"] = CONNECTION
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        f"The service connection '{CONNECTION}' is not available to this job."
    ), message
    assert emu.requests == []


def test_no_oidc_request_uri(emu: Any, agent_temp: Path, tls: Tls) -> None:
    env = wif_env(emu, agent_temp, tls)
    del env["SYSTEM_OIDCREQUESTURI"]
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        f"System.OidcRequestUri is not set, so no OIDC token can be requested for '{CONNECTION}'."
    ), message
    assert emu.requests == []


def test_oidc_refused_for_a_wrong_build_token(emu: Any, agent_temp: Path, tls: Tls) -> None:
    wrong = "wrong-build-token-5e1d"
    env = wif_env(emu, agent_temp, tls, SYSTEM_DEBUG="true")
    env["ENDPOINT_AUTH_SYSTEMVSSCONNECTION"] = json.dumps(
        {"parameters": {"AccessToken": wrong}, "scheme": "OAuth"}
    )
    env["ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN"] = wrong
    run = run_task(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(
        f"Azure DevOps refused an OIDC token for the service connection '{CONNECTION}': "
        "HTTP 401, TF400813: The user is not authorized to access this resource"
    ), message
    assert emu.issued_oidc_tokens == []
    assert_no_secret_in_clear(run, wrong)


def test_oidc_refused_for_an_unknown_connection(emu: Any, agent_temp: Path, tls: Tls) -> None:
    other = "00000000-1111-2222-3333-444444444444"
    env = wif_env(emu, agent_temp, tls, INPUT_WORKLOADIDENTITYSERVICECONNECTION=other)
    env.update(wif_connection_env(other, authority_url=emu.authority_url))
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        f"Azure DevOps refused an OIDC token for the service connection '{other}': "
        f"HTTP 404, Service connection '{other}' was not found"
    ), message


def test_entra_refuses_a_wrong_client_id(emu: Any, agent_temp: Path, tls: Tls) -> None:
    wrong_client = "12345678-0000-0000-0000-000000000000"
    env = wif_env(emu, agent_temp, tls, SYSTEM_DEBUG="true")
    with_connection(env, serviceprincipalid=wrong_client, tenantid=CONNECTION_TENANT)
    run = run_task(env)
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith(
        f"Microsoft Entra ID refused to exchange the OIDC token of '{CONNECTION}' for an access "
        f"token: HTTP 400, unauthorized_client: AADSTS700016: Application with identifier "
        f"'{wrong_client}' was not found in the directory"
    ), message
    assert emu.issued_access_tokens == []
    [oidc_token] = emu.issued_oidc_tokens
    assert oidc_token not in message
    assert_no_secret_in_clear(run, BUILD_TOKEN, oidc_token)


def test_feed_not_found(emu: Any, agent_temp: Path, tls: Tls) -> None:
    # An organization the packaging host does not serve: 404 even anonymously.
    url = f"{emu.url}/_pkgs/fabrikam/_packaging/FedFeed/pypi/upload/"
    message = assert_failed_cleanly(
        run_task(wif_env(emu, agent_temp, tls, INPUT_FEEDURL=url)), agent_temp
    )
    assert message.startswith(f"The feed at {url} was not found (HTTP 404). Check the feed URL."), (
        message
    )
    assert emu.issued_oidc_tokens == []


def test_untrusted_certificate_without_agent_ca(emu: Any, agent_temp: Path, tls: Tls) -> None:
    env = wif_env(emu, agent_temp, tls)
    del env["AGENT_CAINFO"]
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(f"The TLS certificate of {federated_url(emu)} could not be verified")


# -- secrets ----------------------------------------------------------------------------------


def test_no_token_in_clear_with_debug(emu: Any, agent_temp: Path, tls: Tls) -> None:
    run = run_task(wif_env(emu, agent_temp, tls, SYSTEM_DEBUG="true"))
    assert run.result == "Succeeded", run.stdout
    assert run.named("task.debug"), "System.Debug should give debug lines"
    [oidc_token] = emu.issued_oidc_tokens
    [access_token] = emu.issued_access_tokens
    assert_no_secret_in_clear(run, BUILD_TOKEN, oidc_token, access_token)
    # Each token is registered before anything that could carry it is printed.
    index = {c.message: i for i, c in enumerate(run.commands) if c.command == "task.setsecret"}
    assert index[BUILD_TOKEN] == 0
    assert index[oidc_token] < index[access_token]
    assert all(oidc_token not in c.message for c in run.commands[: index[oidc_token]])


# -- units: feed_name and the authority ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://pkgs.dev.azure.com/org/proj/_packaging/feed/pypi/upload/", "feed"),
        ("https://pkgs.dev.azure.com/org/proj/_packaging/feed/pypi/upload", "feed"),
        ("https://pkgs.dev.azure.com/org/_packaging/OrgFeed/pypi/upload/", "OrgFeed"),
        (
            "https://pkgs.dev.azure.com/org/My%20Project/_packaging/my.feed-2/pypi/upload/",
            "my.feed-2",
        ),
        ("HTTPS://pkgs.dev.azure.com/org/proj/_PACKAGING/Feed/PyPI/Upload/", "Feed"),
        ("https://tfs.example:8443/tfs/DefaultCollection/_packaging/F_1/pypi/upload", "F_1"),
        (
            "https://pkgs.dev.azure.com/org/proj/_packaging/feed%40Release/pypi/upload/",
            "feed@Release",
        ),
    ],
)
def test_feed_name(url: str, name: str) -> None:
    assert feed_name(url) == name


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://pkgs.dev.azure.com/org/_packaging/feed/pypi/upload/",
        "https:///org/_packaging/feed/pypi/upload/",
        "https://pkgs.dev.azure.com/org/_packaging/feed/pypi/upload/x",
        "https://pkgs.dev.azure.com/org/_packaging//pypi/upload/",
        "https://pkgs.dev.azure.com/org/_packaging/feed/pypi/upload//",
        "https://pkgs.dev.azure.com/org/_packaging/feed/pypi/upload/?a=b",
        "https://pkgs.dev.azure.com/org/_packaging/feed/pypi/upload?",
        "https://pkgs.dev.azure.com/org/_packaging/feed/pypi/upload#",
        "https://user:secret@pkgs.dev.azure.com/org/_packaging/feed/pypi/upload/",
        "https://pkgs.dev.azure.com/org/_packaging/feed/pypi/simple/",
        "https://pkgs.dev.azure.com/org/_packaging/feed/upload/",
    ],
)
def test_feed_name_refuses(url: str) -> None:
    with pytest.raises(TaskError) as caught:
        feed_name(url)
    assert caught.value.key == "Error_WifFeedUrl"


def _agent(**environ: str) -> Agent:
    return Agent(environ, stdout=io.StringIO())


@pytest.mark.parametrize(
    ("collection", "expected"),
    [
        ("https://dev.azure.com/contoso/", PUBLIC_AUTHORITY),
        ("https://contoso.visualstudio.com/", PUBLIC_AUTHORITY),
        ("https://contoso.vsts.me/", PPE_AUTHORITY),
        ("https://codedev.ms/contoso/", PPE_AUTHORITY),
        ("https://dev.CODEDEV.ms/contoso/", PPE_AUTHORITY),
        ("https://devppe.azure.com/contoso/", PPE_AUTHORITY),
        ("https://notvsts.me/contoso/", PUBLIC_AUTHORITY),
        ("https://vsts.me.example.com/", PUBLIC_AUTHORITY),
        ("", PUBLIC_AUTHORITY),
    ],
)
def test_authority_public_or_ppe(collection: str, expected: str) -> None:
    agent = _agent(SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=collection)
    assert authority(agent, CONNECTION) == expected


@pytest.mark.parametrize(
    "named",
    ["https://login.chinacloudapi.cn", "https://login.chinacloudapi.cn/"],
)
def test_authority_of_a_sovereign_cloud(named: str) -> None:
    for environ in (
        {f"ENDPOINT_DATA_{CONNECTION}_ENVIRONMENTAUTHORITYURL": named},
        {f"ENDPOINT_DATA_{CONNECTION}": json.dumps({"environmentAuthorityUrl": named})},
    ):
        # The connection's authority wins, also over a PPE collection.
        agent = _agent(SYSTEM_TEAMFOUNDATIONCOLLECTIONURI="https://x.vsts.me/", **environ)
        assert authority(agent, CONNECTION) == "https://login.chinacloudapi.cn/"


def test_credentials_in_feed_url_are_refused_and_never_shown(agent_temp: Path) -> None:
    url = "https://bob:hunter2-pass@pkgs.dev.azure.com/o/_packaging/f/pypi/upload/"
    env = base_env(
        AGENT_TEMPDIRECTORY=str(agent_temp),
        INPUT_WORKLOADIDENTITYSERVICECONNECTION="c1",
        INPUT_FEEDURL=url,
    )
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        "feedUrl 'https://***@pkgs.dev.azure.com/o/_packaging/f/pypi/upload/'"
    )
    assert "hunter2-pass" not in run_task(env).stdout
