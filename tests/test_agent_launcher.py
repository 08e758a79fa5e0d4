"""The Node launcher of the built bundle, run as the agent runs it: which Python it
starts, how often, and how a missing, old or crashing interpreter is reported
(one error and a failed result, node exiting 0)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agent_harness import AgentJob, TaskResult
from tests.harness_fixtures import (  # noqa: F401 (fixtures)
    agent_job_fixture,
    bare_python_fixture,
    task_bundle_fixture,
    task_dir_fixture,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake interpreters are sh scripts")

MakeJob = Callable[..., AgentJob]
# No input at all: the real task succeeds (with a warning) without any network.
OFFLINE: dict[str, str] = {}


def fake_python(folder: Path, name: str, body: str, version: str = "3.8.18") -> Path:
    """An executable ``name`` in ``folder`` that answers the version query with ``version``
    and otherwise runs ``body`` (sh); every call is logged to ``folder/calls.log``."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "calls.log"
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        f'echo "{name} $*" >> "{log}"\n'
        f'if [ "$1" = "-c" ]; then printf "%s" "{version}"; exit 0; fi\n'
        f"{body}\n"
    )
    script.chmod(0o755)
    return script


def wrapper(folder: Path, name: str, tag: str) -> Path:
    """``name`` in ``folder`` that logs ``tag`` and then is the real interpreter."""
    return fake_python(
        folder, name, f'echo "{tag}" >> "{folder}/ran.log"\nexec "{sys.executable}" "$@"'
    )


def calls(folder: Path) -> list[str]:
    log = folder / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def assert_one_failure(result: TaskResult) -> str:
    """Failed with one error, the same text in task.complete, and no second failure."""
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.result == "Failed"
    assert len(result.errors) == 1, result.stdout
    assert result.agent_errors == result.errors
    assert result.complete_message == result.errors[0]
    return result.errors[0]


def test_normal_run_starts_python_once(agent_job: MakeJob, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    wrapper(bin_dir, "python3", "python3")
    job = agent_job(python=None, path=os.pathsep.join([str(bin_dir), os.environ["PATH"]]))
    result = job.run(OFFLINE)
    assert result.returncode == 0
    assert result.result == "Succeeded", result.stdout + result.stderr
    assert "PYPIRC_PATH" in result.variables
    (call,) = calls(bin_dir)
    assert call == f"python3 -I -S {job.task_dir / 'bootstrap.py'} run"


def test_no_python_on_path(agent_job: MakeJob, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    job = agent_job(python=None, path=str(empty))
    message = assert_one_failure(job.run(OFFLINE))
    assert message.startswith("No Python 3.9 or later was found")
    assert "(searched: python3: not on PATH; python: not on PATH)" in message
    assert "UsePythonVersion@0" in message
    # The post-job step only warns: the job shows one failure.
    (cleanup,) = job.post_job()
    assert cleanup.returncode == 0
    assert cleanup.result == "Succeeded"
    assert cleanup.errors == []
    assert cleanup.warnings == [message]


def test_no_python_in_german(agent_job: MakeJob, tmp_path: Path) -> None:
    job = agent_job(python=None, path=str(tmp_path), culture="de-DE")
    message = assert_one_failure(job.run(OFFLINE))
    assert message.startswith("Es wurde kein Python 3.9 oder neuer gefunden")
    assert "python3: nicht im PATH; python: nicht im PATH" in message


def test_too_old_python_is_named_with_its_version(agent_job: MakeJob, tmp_path: Path) -> None:
    old = fake_python(tmp_path / "old", "python3", "exit 87")
    job = agent_job(python=None, path=str(tmp_path / "old"))
    result = job.run(OFFLINE)
    message = assert_one_failure(result)
    assert f"(searched: {old} is Python 3.8.18; python: not on PATH)" in message
    assert result.stderr == ""


def test_too_old_python_first_then_a_good_one(agent_job: MakeJob, tmp_path: Path) -> None:
    old_dir, good_dir = tmp_path / "old", tmp_path / "good"
    fake_python(old_dir, "python3", "exit 87")
    wrapper(good_dir, "python", "good")
    job = agent_job(python=None, path=os.pathsep.join([str(old_dir), str(good_dir)]))
    result = job.run(OFFLINE)
    assert result.result == "Succeeded", result.stdout + result.stderr
    assert [c.split()[1] for c in calls(old_dir)] == ["-I", "-c"]
    assert len(calls(good_dir)) == 1


def test_broken_interpreter_first_then_a_good_one(agent_job: MakeJob, tmp_path: Path) -> None:
    """A shim whose version is not installed exits 1 before running anything: the
    step must not pass for succeeded, and the next interpreter on PATH is used."""
    shim_dir, good_dir = tmp_path / "shim", tmp_path / "good"
    shim = shim_dir / "python3"
    shim_dir.mkdir()
    shim.write_text(
        f'#!/bin/sh\necho "python3 $*" >> "{shim_dir}/calls.log"\n'
        'echo "pyenv: python3: command not found" >&2\nexit 1\n'
    )
    shim.chmod(0o755)
    wrapper(good_dir, "python", "good")
    job = agent_job(python=None, path=os.pathsep.join([str(shim_dir), str(good_dir)]))
    result = job.run(OFFLINE)
    assert result.result == "Succeeded", result.stdout + result.stderr
    assert "PYPIRC_PATH" in result.variables
    assert len(calls(good_dir)) == 1


def test_python2_that_refuses_dash_i_counts_as_too_old(agent_job: MakeJob, tmp_path: Path) -> None:
    py2 = fake_python(
        tmp_path / "py2",
        "python",
        'echo "Unknown option: -I" >&2\nexit 2',
        version="2.7.18",
    )
    job = agent_job(python=None, path=str(tmp_path / "py2"))
    message = assert_one_failure(job.run(OFFLINE))
    assert f"{py2} is Python 2.7.18" in message


def test_path_order_wins_over_the_name(agent_job: MakeJob, tmp_path: Path) -> None:
    """A UsePythonVersion folder with only ``python`` comes before ``python3`` further on."""
    first, later = tmp_path / "toolcache", tmp_path / "usr"
    wrapper(first, "python", "toolcache")
    wrapper(later, "python3", "usr")
    job = agent_job(python=None, path=os.pathsep.join([str(first), str(later)]))
    assert job.run(OFFLINE).result == "Succeeded"
    assert (first / "ran.log").read_text().split() == ["toolcache"]
    assert not (later / "ran.log").exists()


def test_interpreter_killed_by_a_signal(agent_job: MakeJob, tmp_path: Path) -> None:
    fake = fake_python(tmp_path / "bin", "python3", "kill -KILL $$", version="3.12.1")
    job = agent_job(python=None, path=str(tmp_path / "bin"))
    message = assert_one_failure(job.run(OFFLINE))
    assert message == f"The Python process of the task ended abnormally ({fake}: signal SIGKILL)."


def test_odd_exit_code(agent_job: MakeJob, tmp_path: Path) -> None:
    fake = fake_python(tmp_path / "bin", "python3", "exit 3", version="3.12.1")
    job = agent_job(python=None, path=str(tmp_path / "bin"))
    message = assert_one_failure(job.run(OFFLINE))
    assert message == f"The Python process of the task ended abnormally ({fake}: exit code 3)."


def test_task_that_cannot_be_imported(agent_job: MakeJob, task_dir: Path) -> None:
    (task_dir / "twineauthenticate" / "cli.py").unlink()
    job = agent_job()
    result = job.run(OFFLINE)
    message = assert_one_failure(result)
    assert message.startswith("The Python process of the task ended abnormally (")
    assert message.endswith(": exit code 70).")
    assert "ModuleNotFoundError" in result.stderr


def test_failure_reported_by_the_task_is_not_doubled(agent_job: MakeJob) -> None:
    job = agent_job()
    message = assert_one_failure(job.run({"artifactFeed": "a/b/c"}))
    assert message.startswith("'a/b/c' is not a feed name.")


def test_termination_is_passed_on_to_python(agent_job: MakeJob, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    started = tmp_path / "started"
    sleep = shutil.which("sleep")
    assert sleep is not None
    body = f': > "{started}"\nexec "{sleep}" 30'
    fake = fake_python(bin_dir, "python3", body, version="3.12.1")
    job = agent_job(python=None, path=str(bin_dir))
    target = job.task_dir / "index.js"
    proc = subprocess.Popen(
        [job.node, str(target)],
        env=job.environment(OFFLINE),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not started.exists():
            assert time.monotonic() < deadline, "the fake interpreter did not start"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert f"ended abnormally ({fake}: signal SIGTERM)" in stdout


def test_interpreter_without_requests_uses_the_vendored_one(
    agent_job: MakeJob, bare_python: Path
) -> None:
    probe = subprocess.run([bare_python, "-c", "import requests"], capture_output=True)
    assert probe.returncode != 0, "the bare venv should not have requests"
    job = agent_job(python=bare_python)
    # A feed makes the task use requests (the connection below is refused at once).
    job.variables["System.TeamFoundationCollectionUri"] = "http://127.0.0.1:9/org/"
    result = job.run({"artifactFeed": "MyFeed"}, timeout=120)
    message = assert_one_failure(result)
    assert message.startswith("Could not connect to http://127.0.0.1:9/org/")
    assert "ModuleNotFoundError" not in result.stderr
