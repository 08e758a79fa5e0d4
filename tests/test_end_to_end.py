"""The whole path: the task's file → real twine upload → pip install from the feed → import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import BUILD_TOKEN, PYPISERVER_PASSWORD, agent_env_for
from tests.helpers import TaskRun, base_env, connection_env, make_wheel, run_task, twine_upload


def pip_install_and_import(index_url: str, token: str, module: str, target: Path) -> str:
    parts = urlsplit(index_url)
    index = f"{parts.scheme}://build:{quote(token, safe='')}@{parts.netloc}{parts.path}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-deps",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "-q",
            "--index-url",
            index,
            "--target",
            str(target),
            module,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}; print({module}.VALUE)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(target)},
    )
    return done.stdout.strip()


@pytest.mark.parametrize("mode", ["services", "server"])
@pytest.mark.parametrize(("feed", "project"), [("MyFeed", None), ("ProjFeed", "My Project")])
def test_feed_upload_then_install(
    make_emulator: Any, agent_temp: Path, tmp_path: Path, mode: str, feed: str, project: str | None
) -> None:
    from twineauthenticate.emulator import Feed

    emu = make_emulator(mode=mode, feeds=[Feed(feed, project=project)])
    env = agent_env_for(
        emu, agent_temp, INPUT_ARTIFACTFEED=f"{project}/{feed}" if project else feed
    )
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    wheel = make_wheel(tmp_path / "dist", "e2e_pkg", "1.2.3")
    upload = twine_upload(run.pypirc, feed, wheel)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert emu.uploaded_files(feed, project=project) == [wheel.name]
    value = pip_install_and_import(
        emu.feed_index_url(feed, project=project), BUILD_TOKEN, "e2e_pkg", tmp_path / "site"
    )
    assert value == "1.2.3"


def test_several_feeds_in_one_run_upload_to_each(
    make_emulator: Any, agent_temp: Path, tmp_path: Path
) -> None:
    from twineauthenticate.emulator import Feed

    feeds = [Feed("One"), Feed("Two", project="P"), Feed("three.x", project="Q R")]
    emu = make_emulator(feeds=feeds)
    run = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="One,P/Two,Q R/three.x"))
    assert run.result == "Succeeded", run.stdout
    wheel = make_wheel(tmp_path / "dist", "multi_pkg", "2.0")
    for feed in feeds:
        upload = twine_upload(run.pypirc, feed.name, wheel)
        assert upload.returncode == 0, upload.stdout + upload.stderr
        assert emu.uploaded_files(feed.name, project=feed.project) == [wheel.name]


def test_token_connection_works_where_only_the_user_name___token___is_accepted(
    make_emulator: Any, agent_temp: Path, tmp_path: Path
) -> None:
    from twineauthenticate.emulator import Feed

    api_token = "pypi-AgENdGVzdC5weXBpLm9yZwIk"
    emu = make_emulator(feeds=[Feed("pypi-like")], pypi_token_rule=True)
    emu.add_token(api_token)
    env = base_env(AGENT_TEMPDIRECTORY=str(agent_temp))
    env.update(
        connection_env("c1", emu.feed_upload_url("pypi-like"), "pypi", "Token", apitoken=api_token)
    )
    env["INPUT_PYTHONUPLOADSERVICECONNECTION"] = "c1"
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    assert "username=__token__\n" in run.pypirc.read_text()
    wheel = make_wheel(tmp_path / "dist", "tok_pkg", "0.1")
    upload = twine_upload(run.pypirc, "pypi", wheel)
    assert upload.returncode == 0, upload.stdout + upload.stderr
    assert emu.uploaded_files("pypi-like") == [wheel.name]


def test_wrong_password_fails_at_upload_not_earlier(
    pypiserver: Any, agent_temp: Path, tmp_path: Path
) -> None:
    env = pypiserver.job_env(agent_temp, password="not-" + PYPISERVER_PASSWORD)
    run = run_task(env)
    assert run.result == "Succeeded", run.stdout
    upload = twine_upload(run.pypirc, "private", make_wheel(tmp_path / "dist"))
    assert upload.returncode != 0
    assert "403" in upload.stderr + upload.stdout or "401" in upload.stderr + upload.stdout
    assert list(pypiserver.packages.iterdir()) == []


def test_rerun_replaces_credentials_and_cleanup_leaves_nothing(
    make_emulator: Any, agent_temp: Path, tmp_path: Path
) -> None:
    emu = make_emulator()
    first = run_task(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed"))
    assert first.result == "Succeeded"
    # The next run of the job has a new token; the old one is revoked.
    new_token = "second-build-token-55aa"
    emu.add_token(new_token)
    emu.revoke_token(BUILD_TOKEN)
    # The job passes the variables the first run set (PYPIRC_PATH among them) to later steps.
    env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", **first.variables)
    env["ENDPOINT_AUTH_SYSTEMVSSCONNECTION"] = env["ENDPOINT_AUTH_SYSTEMVSSCONNECTION"].replace(
        BUILD_TOKEN, new_token
    )
    env["ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN"] = new_token
    second: TaskRun = run_task(env)
    assert second.result == "Succeeded", second.stdout
    assert second.pypirc == first.pypirc
    text = second.pypirc.read_text()
    assert BUILD_TOKEN not in text and f"password={new_token}" in text
    upload = twine_upload(second.pypirc, "MyFeed", make_wheel(tmp_path / "dist"))
    assert upload.returncode == 0, upload.stdout + upload.stderr

    done = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **second.variables), "cleanup")
    assert done.result == "Succeeded"
    leftovers = [p for p in agent_temp.rglob("*") if p.is_file()]
    assert leftovers == []
    # Nor the private folder the first run made (the second rewrote the file in it).
    assert list((agent_temp / "twineAuthenticate").iterdir()) == []
