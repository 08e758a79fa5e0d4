"""The task as a process, with only the agent's environment, against the emulator."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUILD_TOKEN, agent_env_for
from tests.helpers import (
    TaskRun,
    assert_failed_cleanly,
    assert_no_secret_in_clear,
    base_env,
    connection_env,
    files_under,
    make_wheel,
    run_task,
    summaries_under,
    twine_upload,
    without_summaries,
)

PYPI_TOKEN = "pypi-AgEIcHlwaS5vcmcCJGUwMjQ"
EXT_PASSWORD = "ext-password-9d2f"


def test_organization_feed_on_services(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(mode="services")
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result == "Succeeded"
    assert run.commands[0].command == "task.setsecret"
    assert run.secrets == [BUILD_TOKEN]
    path = run.pypirc
    assert path.parent.parent == agent_temp / "twineAuthenticate"
    assert (
        path.read_bytes()
        == (
            "[distutils]\nindex-servers=MyFeed\n\n"
            f"[MyFeed]\nrepository={emu.feed_upload_url('MyFeed')}\nusername=build\n"
            f"password={BUILD_TOKEN}"
        ).encode()
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(emu.requests) == 4  # two areas, the PyPI locations, the feed check
    assert all(r.auth_ok for r in emu.requests)
    assert any("-r MyFeed --config-file $(PYPIRC_PATH)" in line for line in run.plain_lines)
    assert "1 organization feed(s), 0 service connection(s) and 0 federated feed(s)" in run.stdout
    assert_no_secret_in_clear(run, BUILD_TOKEN)
    assert run.stderr == ""


def test_project_feed_with_space_and_feed_with_dots(make_emulator: Any, agent_temp: Path) -> None:
    from twineauthenticate.emulator import Feed

    emu = make_emulator(feeds=[Feed("my.feed.v2", project="My Project")])
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="My Project/my.feed.v2"))
    assert run.result == "Succeeded", run.stdout
    url = emu.feed_upload_url("my.feed.v2", project="My Project")
    assert "/My%20Project/_packaging/my.feed.v2/pypi/upload" in url
    assert run.pypirc.read_text() == (
        "[distutils]\nindex-servers=my.feed.v2\n\n"
        f"[my.feed.v2]\nrepository={url}\nusername=build\npassword={BUILD_TOKEN}"
    )


def test_several_feeds_cost_two_requests_on_services(make_emulator: Any, agent_temp: Path) -> None:
    from twineauthenticate.emulator import Feed

    feeds = [Feed("A"), Feed("B", project="P 1"), Feed("c.d")]
    emu = make_emulator(feeds=feeds)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED=" A, P 1/B ,c.d,"))
    assert run.result == "Succeeded", run.stdout
    text = run.pypirc.read_text()
    assert text.startswith("[distutils]\nindex-servers=A B c.d\n\n[A]\n")
    assert f"[B]\nrepository={emu.feed_upload_url('B', project='P 1')}\n" in text
    assert len(emu.requests) == 2 + 1 + 3  # the lookup; the check: its area and each feed
    assert "3 organization feed(s)" in run.stdout


def test_server_costs_one_request(make_emulator: Any, agent_temp: Path) -> None:
    from twineauthenticate.emulator import Feed

    emu = make_emulator(mode="server", feeds=[Feed("F"), Feed("G", project="Proj")])
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="F,Proj/G")
    del env["SYSTEM_SERVERTYPE"]
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert sorted(r.method for r in emu.requests) == ["GET", "GET", "OPTIONS"]  # 1 + 2 feeds
    assert f"repository={emu.feed_upload_url('G', project='Proj')}\n" in run.pypirc.read_text()


def connections() -> dict[str, str]:
    env = connection_env(
        "11111111-aaaa", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken=PYPI_TOKEN
    )
    env.update(
        connection_env(
            "22222222-bbbb",
            "https://ext.example/pypi/upload",
            "extfeed",
            "UsernamePassword",
            username="me@example",
            password=EXT_PASSWORD,
        )
    )
    env["INPUT_PYTHONUPLOADSERVICECONNECTION"] = "11111111-aaaa,22222222-bbbb"
    return env


def test_connections_only_need_no_network(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    run = run_task(agent_env_for(emu, agent_temp, **connections()))
    assert run.result == "Succeeded", run.stdout
    assert emu.requests == []
    assert run.pypirc.read_text() == (
        "[distutils]\nindex-servers=pypi extfeed\n\n"
        f"[pypi]\nrepository=https://upload.pypi.org/legacy/\nusername=__token__\npassword={PYPI_TOKEN}\n\n"
        f"[extfeed]\nrepository=https://ext.example/pypi/upload\nusername=me@example\npassword={EXT_PASSWORD}"
    )
    assert sorted(run.secrets) == sorted([BUILD_TOKEN, PYPI_TOKEN, EXT_PASSWORD])
    assert_no_secret_in_clear(run, BUILD_TOKEN, PYPI_TOKEN, EXT_PASSWORD)


def test_feeds_come_before_connections_and_twine_finds_each(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", **connections()))
    assert run.result == "Succeeded", run.stdout
    text = run.pypirc.read_text()
    assert text.startswith("[distutils]\nindex-servers=MyFeed pypi extfeed\n\n[MyFeed]\n")
    check = (
        "import sys, json\n"
        "from twine import utils\n"
        "out = {}\n"
        "for name in sys.argv[2:]:\n"
        "    c = utils.get_repository_from_config(sys.argv[1], name)\n"
        "    out[name] = [c['repository'], c['username'], c['password']]\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", check, str(run.pypirc), "MyFeed", "pypi", "extfeed"],
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    assert json.loads(proc.stdout) == {
        "MyFeed": [emu.feed_upload_url("MyFeed"), "build", BUILD_TOKEN],
        "pypi": ["https://upload.pypi.org/legacy/", "__token__", PYPI_TOKEN],
        "extfeed": ["https://ext.example/pypi/upload", "me@example", EXT_PASSWORD],
    }


def test_no_input_writes_an_empty_configuration_and_warns(agent_temp: Path) -> None:
    run = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp)))
    assert run.result == "Succeeded"
    assert run.pypirc.read_text() == "[distutils]\nindex-servers=\n\n"
    assert len(run.warnings) == 1
    assert "No feed, service connection or federated feed was given" in run.warnings[0]


def test_rerun_in_the_same_job_replaces_the_credentials(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    first = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    path = first.pypirc
    env = agent_env_for(emu, agent_temp, PYPIRC_PATH=str(path), **connections())
    second = run_task(env)
    assert second.result == "Succeeded", second.stdout
    assert second.pypirc == path
    text = path.read_text()
    assert "[MyFeed]" not in text
    assert text.startswith("[distutils]\nindex-servers=pypi extfeed\n\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert without_summaries(files_under(agent_temp)) == [path]


def test_debug_mode_shows_no_secret(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    env = agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", SYSTEM_DEBUG="true", **connections()
    )
    run = run_task(env)
    assert run.result == "Succeeded"
    assert run.named("task.debug")
    assert_no_secret_in_clear(run, BUILD_TOKEN, PYPI_TOKEN, EXT_PASSWORD)


def test_secrets_are_registered_before_anything_else(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    env = agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", SYSTEM_DEBUG="true", **connections()
    )
    run = run_task(env)
    lines = run.stdout.splitlines()
    assert all(line.startswith("##vso[task.setsecret]") for line in lines[:3])
    assert not any(line.startswith("##vso[task.setsecret]") for line in lines[3:])


# -- failures ---------------------------------------------------------------------------


def test_no_build_token(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed")
    for key in [k for k in env if "SYSTEMVSSCONNECTION" in k]:
        del env[key]
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        "No access token of the build is available to authenticate to 'MyFeed'."
    )
    assert emu.requests == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"INPUT_ARTIFACTFEED": "a/b/c"}, "'a/b/c' is not a feed name."),
        ({"INPUT_ARTIFACTFEED": "proj/"}, "'proj/' is not a feed name."),
        (
            {"INPUT_ARTIFACTFEED": "pypi", **connections()},
            "Two sources would both be the repository 'pypi' (feed 'pypi' and service connection 'pypi')",
        ),
        (
            {"INPUT_PYTHONUPLOADSERVICECONNECTION": "missing-id"},
            "The service connection 'missing-id' is not available to this job.",
        ),
        (
            {
                **connection_env("c1", "https://x/", "x", "Token"),
                "INPUT_PYTHONUPLOADSERVICECONNECTION": "c1",
            },
            "The service connection 'x' has no API token (apitoken).",
        ),
        (
            {
                **connection_env("c1", "https://x/", "x", "UsernamePassword", username="u"),
                "INPUT_PYTHONUPLOADSERVICECONNECTION": "c1",
            },
            "The service connection 'x' has no password.",
        ),
        (
            {
                **connection_env("c1", "https://x/", "x", "Certificate", cert="c"),
                "INPUT_PYTHONUPLOADSERVICECONNECTION": "c1",
            },
            "The service connection 'x' uses the authentication scheme 'Certificate'",
        ),
        (
            {
                **connection_env("c1", "https://x/", "my feed", "Token", apitoken="t0ken-123"),
                "INPUT_PYTHONUPLOADSERVICECONNECTION": "c1",
            },
            "The repository name 'my feed' of service connection 'my feed' cannot be selected with twine -r",
        ),
        (
            {"INPUT_FEEDURL": "https://pkgs.dev.azure.com/o/_packaging/f/pypi/upload/"},
            "feedUrl is set but azureDevOpsServiceConnection is not.",
        ),
    ],
)
def test_bad_input_gives_one_clear_error(
    make_emulator: Any, agent_temp: Path, extra: dict[str, str], expected: str
) -> None:
    emu = make_emulator()
    message = assert_failed_cleanly(run_task(agent_env_for(emu, agent_temp, **extra)), agent_temp)
    assert message.startswith(expected), message


def test_wrong_token_says_the_build_identity_cannot_reach_the_feed(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", SYSTEM_ACCESSTOKEN="x")
    env["ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN"] = "wrong-token-123"
    env["ENDPOINT_AUTH_SYSTEMVSSCONNECTION"] = (
        '{"parameters":{"AccessToken":"wrong-token-123"},"scheme":"OAuth"}'
    )
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith("The build identity cannot reach ")
    assert "(HTTP 401)" in message
    assert len(emu.requests) == 2  # both resource areas, at once


def test_unknown_resource_area(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=1, status=404, path_contains="92F0314B")  # the PyPI area
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    message = assert_failed_cleanly(run, agent_temp)
    assert message.startswith("The Python packaging service (resource area 92F0314B")


def test_missing_upload_location(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(mode="server")
    emu.inject_faults(
        count=1, status=200, body='{"count":0,"value":[]}', path_contains="_apis/pypi"
    )
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed")
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith(
        "The PyPI upload location c7a75c1b-08ac-4b11-b468-6c7ef835c85e is not offered"
    )


def test_transient_failures_are_retried(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    emu.inject_faults(count=2, status=503)
    # The lookup's own requests only (the check's retries: tests/test_feedcheck.py).
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", TWINEAUTHENTICATE_VERIFY="0")
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert [r.status for r in emu.requests] == [503, 503, 200, 200]
    assert sum("trying again" in line for line in run.plain_lines) == 2


def test_failed_run_keeps_an_earlier_file_untouched(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    first = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    before = first.pypirc.read_bytes()
    env = agent_env_for(emu, agent_temp, PYPIRC_PATH=str(first.pypirc), INPUT_ARTIFACTFEED="a/b/c")
    run = run_task(env)
    assert run.result == "Failed"
    assert "PYPIRC_PATH" not in run.variables
    assert first.pypirc.read_bytes() == before
    assert without_summaries(files_under(agent_temp)) == [first.pypirc]
    assert len(summaries_under(agent_temp)) == 1  # the first run's


def test_pypirc_path_that_is_a_link_is_refused(agent_temp: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(victim)
    run = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(link)))
    assert run.result == "Failed"
    assert run.errors[0].startswith("PYPIRC_PATH points at a symbolic link")
    assert victim.read_text() == "keep"
    assert link.is_symlink()


# -- cleanup ----------------------------------------------------------------------------


def cleanup_env(run: TaskRun, agent_temp: Path) -> dict[str, str]:
    return base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **run.variables)


def test_cleanup_removes_the_file_and_its_folder(agent_temp: Path) -> None:
    run = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **connections()))
    folder = run.pypirc.parent
    done = run_task(cleanup_env(run, agent_temp), "cleanup")
    assert done.result == "Succeeded"
    assert not folder.exists()
    assert files_under(agent_temp) == []
    assert any("Removed the credentials file" in line for line in done.plain_lines)
    again = run_task(cleanup_env(run, agent_temp), "cleanup")
    assert again.result == "Succeeded"
    assert any("Nothing to clean up" in line for line in again.plain_lines)


def test_cleanup_never_follows_a_link_or_deletes_a_foreign_file(
    agent_temp: Path, tmp_path: Path
) -> None:
    run = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **connections()))
    target = run.pypirc
    env = cleanup_env(run, agent_temp)
    target.unlink()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    target.symlink_to(victim)
    done = run_task(env, "cleanup")
    assert victim.read_text() == "keep"
    assert target.is_symlink()
    assert done.warnings and "is not a regular file" in done.warnings[0]
    target.unlink()
    target.write_text("someone else's file")
    done = run_task(env, "cleanup")
    assert target.read_text() == "someone else's file"
    assert "this task did not write it" in done.warnings[0]
    foreign = tmp_path / "foreign.pypirc"
    foreign.write_text("[distutils]\nindex-servers=\n\n")
    done = run_task(
        base_env(AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(foreign)), "cleanup"
    )
    assert foreign.exists()


# -- real twine, real server ------------------------------------------------------------


def test_real_twine_uploads_through_a_password_connection(
    pypiserver: Any, agent_temp: Path, tmp_path: Path
) -> None:
    env = pypiserver.job_env(agent_temp)
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    wheel = make_wheel(tmp_path / "dist")
    upload = twine_upload(run.pypirc, "private", wheel)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert [p.name for p in pypiserver.packages.iterdir()] == [wheel.name]
