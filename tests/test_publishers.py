"""configurePublishers and what every run gives the later steps: the netrc file (with the
user's own entries), poetry's variables, the output variables, the run's summary, and
the post-job step that removes every file the task wrote."""

from __future__ import annotations

import json
import netrc
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    BUILD_TOKEN,
    NETRC_PASSWORD,
    NETRC_USER,
    PYPISERVER_PASSWORD,
    agent_env_for,
)
from tests.harness_fixtures import (
    agent_job_fixture,
    bare_python_fixture,
    task_bundle_fixture,
    task_dir_fixture,
)
from tests.helpers import (
    TaskRun,
    assert_failed_cleanly,
    assert_no_secret_in_clear,
    base_env,
    connection_env,
    files_under,
    run_task,
    summaries_under,
)
from twineauthenticate.emulator import Feed
from twineauthenticate.outputs import NEVER_SET

__all__ = ["agent_job_fixture", "bare_python_fixture", "task_bundle_fixture", "task_dir_fixture"]

ON = {"INPUT_CONFIGUREPUBLISHERS": "true"}


def home_of(agent_temp: Path) -> Path:
    home = agent_temp.parent / "home"
    home.mkdir(exist_ok=True)
    return home


def job(emu: Any, agent_temp: Path, feeds: str, **extra: str) -> dict[str, str]:
    """A job of the emulator's organization with its own HOME (no netrc unless a test
    writes one)."""
    return agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED=feeds, HOME=str(home_of(agent_temp)), **extra
    )


def outputs(run: TaskRun) -> dict[str, str]:
    return {
        c.properties["variable"]: c.message
        for c in run.named("task.setvariable")
        if c.properties["isOutput"] == "true"
    }


def netrc_hosts(path: Path) -> dict[str, tuple[str, str, str]]:
    return {h: (a or "", b or "", c or "") for h, (a, b, c) in netrc.netrc(str(path)).hosts.items()}


# -- the netrc file ---------------------------------------------------------------------


def test_netrc_next_to_pypirc_private_and_exact(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(feeds=[Feed("MyFeed"), Feed("ProjFeed", project="My Project")])
    run = run_task(job(emu, agent_temp, "MyFeed, My Project/ProjFeed", **ON))
    assert run.result == "Succeeded", run.stdout
    path = Path(run.variables["NETRC"])
    assert path.parent == run.pypirc.parent and path.name == ".netrc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Both feeds are on one host with the same token: one entry serves both.
    assert path.read_text() == f"machine 127.0.0.1\n  login build\n  password {BUILD_TOKEN}\n"
    assert run.warnings == []
    assert run.variables["POETRY_REPOSITORIES_MYFEED_URL"] == emu.feed_upload_url("MyFeed")
    assert run.variables["POETRY_REPOSITORIES_PROJFEED_URL"] == emu.feed_upload_url(
        "ProjFeed", project="My Project"
    )
    assert not NEVER_SET & set(run.variables)
    assert_no_secret_in_clear(run, BUILD_TOKEN)


def test_the_users_netrc_entries_are_kept(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator()
    home = home_of(agent_temp)
    user = home / ".netrc"
    user.write_text(
        "machine git.example login me password pw1\n"
        "# a comment\n"
        "machine 127.0.0.1 login old password stale\n"
        "macdef init\ncd /pub\n\n"
        "default login anonymous password me@example\n"
    )
    before = user.read_bytes()
    run = run_task(job(emu, agent_temp, "MyFeed", **ON))
    assert run.result == "Succeeded", run.stdout
    path = Path(run.variables["NETRC"])
    assert netrc_hosts(path) == {
        "127.0.0.1": ("build", "", BUILD_TOKEN),  # the task's entry replaces the user's
        "git.example": ("me", "", "pw1"),
        "default": ("anonymous", "", "me@example"),
    }
    assert netrc.netrc(str(path)).macros == {"init": ["cd /pub\n"]}
    assert path.read_text().rstrip().endswith("default\n  login anonymous\n  password me@example")
    assert user.read_bytes() == before  # the user's own file is left as it is
    assert f"Kept 2 entry(ies) of {user} in it." in run.stdout


def test_netrc_names_the_users_file_by_NETRC(
    make_emulator: Any, agent_temp: Path, tmp_path: Path
) -> None:
    emu = make_emulator()
    mine = tmp_path / "my-netrc"
    mine.write_text("machine other.example login a password b\n")
    run = run_task(job(emu, agent_temp, "MyFeed", NETRC=str(mine), **ON))
    assert run.result == "Succeeded", run.stdout
    assert netrc_hosts(Path(run.variables["NETRC"]))["other.example"] == ("a", "", "b")


def test_an_unreadable_users_netrc_is_refused_before_writing(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    (home_of(agent_temp) / ".netrc").write_text("machine a.example login me password pw\nbogus\n")
    error = assert_failed_cleanly(run_task(job(emu, agent_temp, "MyFeed", **ON)), agent_temp)
    assert "cannot be read" in error and ".netrc" in error and "configurePublishers" in error


def test_a_password_netrc_cannot_hold_is_refused_before_writing(
    pypiserver: Any, agent_temp: Path
) -> None:
    env = {**pypiserver.job_env(agent_temp), "HOME": str(home_of(agent_temp)), **ON}
    run = run_task(env)  # PYPISERVER_PASSWORD has a space
    error = assert_failed_cleanly(run, agent_temp)
    assert "'private'" in error and "white space" in error
    assert_no_secret_in_clear(run, PYPISERVER_PASSWORD)


def test_one_entry_per_host_the_second_repository_is_told(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    extra = connection_env(
        "c1",
        emu.url + "/other/upload",
        "other",
        "UsernamePassword",
        username="u",
        password="p4ssw0rd!",
    )
    env = job(emu, agent_temp, "MyFeed", INPUT_PYTHONUPLOADSERVICECONNECTION="c1", **extra, **ON)
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert netrc_hosts(Path(run.variables["NETRC"])) == {"127.0.0.1": ("build", "", BUILD_TOKEN)}
    (warning,) = run.warnings
    assert warning == (
        "The netrc file cannot give repository 'other' its credentials: repository 'MyFeed'"
        " uses the same host 127.0.0.1 with other credentials, and netrc has one entry per"
        " host. Publish to 'other' with twine, or from a separate step."
    )


def test_the_log_tells_the_commands_of_each_repository(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator(feeds=[Feed("three.x", project="Q R")])
    run = run_task(job(emu, agent_temp, "Q R/three.x", **ON))
    assert run.result == "Succeeded", run.stdout
    upload = emu.feed_upload_url("three.x", project="Q R")
    simple = emu.feed_index_url("three.x", project="Q R")
    assert "    twine upload -r three.x --config-file $(PYPIRC_PATH) dist/*" not in run.plain_lines
    uv = f"    uv publish --trusted-publishing never --publish-url {upload} --check-url {simple} dist/*"
    assert uv in run.plain_lines
    # poetry looks '-r three-x' up as POETRY_REPOSITORIES_THREE_X_URL; the agent turns
    # the dot of a variable name into '_'.
    assert "    poetry publish -r three-x" in run.plain_lines
    assert run.variables["POETRY_REPOSITORIES_THREE_X_URL"] == upload
    assert f"    pip install --index-url {simple} <package>" in run.plain_lines


# -- off by default ---------------------------------------------------------------------


def test_off_by_default_twine_is_unchanged(
    make_emulator: Any, agent_temp: Path, tmp_path: Path
) -> None:
    emu = make_emulator()
    off = run_task(job(emu, agent_temp, "MyFeed"))
    other_temp = tmp_path / "other-temp"
    other_temp.mkdir()
    on = run_task(job(emu, other_temp, "MyFeed", **ON))
    assert (
        off.pypirc.read_bytes()
        == on.pypirc.read_bytes()
        == (
            "[distutils]\nindex-servers=MyFeed\n\n"
            f"[MyFeed]\nrepository={emu.feed_upload_url('MyFeed')}\nusername=build\n"
            f"password={BUILD_TOKEN}"
        ).encode()
    )
    plain = {
        k
        for k, c in ((c.properties["variable"], c) for c in off.named("task.setvariable"))
        if c.properties["isOutput"] == "false"
    }
    assert plain == {"PYPIRC_PATH", "TWINEAUTHENTICATE_WRITTEN"}
    assert not any(name.endswith(".netrc") for name in map(str, files_under(agent_temp)))
    # The same requests either way (those of one round go out at once, in any order).
    half = len(emu.requests) // 2
    assert sorted(r.path for r in emu.requests[:half]) == sorted(
        r.path for r in emu.requests[half:]
    )


# -- output variables -------------------------------------------------------------------


def test_outputs_for_several_repositories(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(feeds=[Feed("My-Feed"), Feed("three.x", project="Q R")])
    extra = connection_env(
        "c1", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken="pypi-AgEN12345678"
    )
    env = job(
        emu, agent_temp, "My-Feed, Q R/three.x", INPUT_PYTHONUPLOADSERVICECONNECTION="c1", **extra
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    upload = emu.feed_upload_url("My-Feed")
    other = emu.feed_upload_url("three.x", project="Q R")
    assert outputs(run) == {
        "repositoryName": "My-Feed",
        "uploadUrl": upload,
        "simpleUrl": emu.feed_index_url("My-Feed"),
        "repositoryNames": "My-Feed three.x pypi",
        "My_Feed_uploadUrl": upload,
        "My_Feed_simpleUrl": emu.feed_index_url("My-Feed"),
        "three_x_uploadUrl": other,
        "three_x_simpleUrl": emu.feed_index_url("three.x", project="Q R"),
        "pypi_uploadUrl": "https://upload.pypi.org/legacy/",
        "pypi_simpleUrl": "https://pypi.org/simple/",
    }


def test_a_url_holding_a_secret_sets_no_output(agent_temp: Path) -> None:
    token = "pypi-token-0123456789"
    env = base_env(AGENT_TEMPDIRECTORY=str(agent_temp), INPUT_PYTHONUPLOADSERVICECONNECTION="c1")
    env.update(
        connection_env("c1", f"https://{token}@fury.example/me/", "fury", "Token", apitoken=token)
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert outputs(run) == {"repositoryNames": ""}
    assert "contains a secret" in run.warnings[0]
    assert_no_secret_in_clear(run, token)


# -- the summary --------------------------------------------------------------------------


def test_summary_on_the_runs_page(make_emulator: Any, agent_temp: Path) -> None:
    emu = make_emulator(feeds=[Feed("a|b<i>")])
    run = run_task(job(emu, agent_temp, "a|b<i>", SYSTEM_CULTURE="de-DE"))
    assert run.result == "Succeeded", run.stdout
    (command,) = run.named("task.uploadsummary")
    path = Path(command.message)
    assert path.parent == run.pypirc.parent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert text.startswith("### Python-Repositorys dieses Schritts\n")
    assert "| Repository | Quelle | Upload-URL | URL des Simple-Index |" in text
    assert "| a\\|b&lt;i&gt; | Feed der Organisation |" in text
    assert "Nur twine erhält von diesem Schritt Anmeldedaten." in text
    assert "twine upload -r a|b<i> --config-file $(PYPIRC_PATH) dist/*" in text
    assert BUILD_TOKEN not in text


# -- the post-job step ----------------------------------------------------------------------


def test_post_job_removes_every_file_through_the_agent(agent_job: Any, make_emulator: Any) -> None:
    emu = make_emulator()
    the_job = agent_job(collection_uri=emu.collection_url, access_token=BUILD_TOKEN)
    result = the_job.run({"artifactFeed": "MyFeed", "configurePublishers": True})
    assert result.result == "Succeeded", result.stdout
    folder = Path(result.variables["PYPIRC_PATH"]).parent
    netrc_path = Path(result.variables["NETRC"])
    assert sorted(p.name for p in folder.iterdir())[:2] == [".netrc", ".pypirc"]
    (cleanup,) = the_job.post_job()
    assert cleanup.result == "Succeeded", cleanup.stdout
    assert not folder.exists()
    assert f"Removed {netrc_path}." in cleanup.plain_lines


def test_post_job_skips_a_file_that_changed_and_never_follows_a_link(
    make_emulator: Any, agent_temp: Path, tmp_path: Path
) -> None:
    emu = make_emulator()
    run = run_task(job(emu, agent_temp, "MyFeed", **ON))
    netrc_path = Path(run.variables["NETRC"])
    (summary,) = summaries_under(agent_temp)
    netrc_path.write_text("machine x login y password z\n")  # someone else's now
    summary.unlink()
    foreign = tmp_path / "foreign.md"
    foreign.write_text("keep me")
    os.symlink(foreign, summary)
    done = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **run.variables), "cleanup")
    assert done.result == "Succeeded"
    assert netrc_path.exists() and foreign.read_text() == "keep me"
    assert len(done.warnings) == 2
    assert not run.pypirc.exists()


def test_rerun_in_the_same_job_keeps_the_earlier_entries_and_cleans_everything(
    make_emulator: Any, pypiserver: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    first = run_task(job(emu, agent_temp, "MyFeed", **ON))
    earlier = {k: v for k, v in first.variables.items() if k not in outputs(first)}
    env = {
        **pypiserver.job_env(agent_temp, password=NETRC_PASSWORD, username=NETRC_USER),
        "HOME": str(home_of(agent_temp)),
        **earlier,
        **ON,
    }
    second = run_task(env)
    assert second.result == "Succeeded", second.stdout
    assert second.variables["NETRC"] == first.variables["NETRC"]
    # pypiserver is on 127.0.0.1 too: its entry replaces the earlier one for the host.
    assert netrc_hosts(Path(second.variables["NETRC"])) == {
        "127.0.0.1": (NETRC_USER, "", NETRC_PASSWORD)
    }
    record = json.loads(second.variables["TWINEAUTHENTICATE_WRITTEN"])
    assert len(json.loads(record["files"])) == 3  # the netrc file, two summaries
    done = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **second.variables), "cleanup")
    assert done.result == "Succeeded", done.stdout
    assert files_under(agent_temp) == []


def test_cli_flag(make_emulator: Any, tmp_path: Path) -> None:
    emu = make_emulator()
    run = run_task(
        base_env(SYSTEM_ACCESSTOKEN=BUILD_TOKEN, HOME=str(tmp_path)),
        "--collection-uri",
        emu.collection_url,
        "--server-type",
        "Hosted",
        "--feed",
        "MyFeed",
        "--temp-dir",
        str(tmp_path / "temp"),
        "--configure-publishers",
    )
    assert run.result == "Succeeded", run.stdout
    assert Path(run.variables["NETRC"]).is_file()


@pytest.mark.parametrize("culture", ["en-US", "de-DE"])
def test_every_new_message_is_localized(culture: str) -> None:
    from twineauthenticate.agent import Agent

    agent = Agent({"SYSTEM_CULTURE": culture})
    for key in ("Summary_Title", "Warn_NetrcHostTaken", "Error_NetrcUnsafeValue", "Cmd_Pip"):
        assert agent.loc(key) != key


@pytest.mark.parametrize("failing", [".netrc", "summary-"])
def test_a_failed_write_of_the_other_files_leaves_nothing(
    make_emulator: Any, agent_temp: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """The disk fills up after .pypirc is written: the run fails and removes it too."""
    import io

    from twineauthenticate import _files, task
    from twineauthenticate.agent import Agent
    from twineauthenticate.commands import parse_output

    emu = make_emulator()
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        if Path(target).name.startswith(failing):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(_files.os, "replace", replace)
    out = io.StringIO()
    assert task.run(Agent(job(emu, agent_temp, "MyFeed", **ON), out)) is False
    commands = parse_output(out.getvalue())
    errors = [c.message for c in commands if c.command == "task.logissue"]
    assert len(errors) == 1 and "No space left on device" in errors[0], errors
    assert not any(c.command == "task.setvariable" for c in commands)
    assert files_under(agent_temp) == []
