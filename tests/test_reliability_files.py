"""The credentials file is private and never half-written; cleanup removes only it.

Adds to tests/test_pypirc.py and tests/test_task.py: whole runs as processes under
umask 000 and 077, links at and above PYPIRC_PATH, failures between writing and
renaming, a reader racing the writer, and cleanup without the task's record.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, TaskRun, base_env, connection_env, run_task
from tests.test_reliability_helpers import assert_failed_cleanly, files_under
from twineauthenticate import _files, pypirc, task
from twineauthenticate.agent import Agent, Msg
from twineauthenticate.commands import parse_output

PASSWORD = "file-test-password-5c1d"


def connection(password: str = PASSWORD, name: str = "private") -> dict[str, str]:
    env = connection_env(
        "c1",
        "https://pkgs.example/upload",
        name,
        "UsernamePassword",
        username="u",
        password=password,
    )
    env["INPUT_PYTHONUPLOADSERVICECONNECTION"] = "c1"
    return env


def run_with_umask(env: dict[str, str], umask: int, *args: str) -> TaskRun:
    def set_umask() -> None:
        os.umask(umask)

    proc = subprocess.run(
        [sys.executable, "-m", "twineauthenticate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(ROOT),
        preexec_fn=set_umask,
    )
    return TaskRun(proc.returncode, proc.stdout, proc.stderr, parse_output(proc.stdout))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# -- private whatever the umask ----------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o077, 0o022])
def test_private_file_in_private_folders_whatever_the_umask(agent_temp: Path, umask: int) -> None:
    run = run_with_umask(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **connection()), umask)
    assert run.result == "Succeeded", run.stdout + run.stderr
    path = run.pypirc
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    # The folder holding the random folders is not writable by others either.
    assert mode(agent_temp / "twineAuthenticate") & 0o022 == 0
    assert stat.S_ISREG(path.lstat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o077])
def test_folders_created_for_pypirc_path_are_private(
    agent_temp: Path, tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "given" / "deeper" / "pypirc"
    env = base_env(AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(target), **connection())
    run = run_with_umask(env, umask)
    assert run.result == "Succeeded", run.stdout
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    assert mode(target.parent.parent) == 0o700


def test_existing_file_with_loose_mode_is_replaced_private(
    tmp_path: Path, agent_temp: Path
) -> None:
    target = tmp_path / "pypirc"
    target.write_text("old")
    os.chmod(target, 0o666)
    env = base_env(AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(target), **connection())
    run = run_with_umask(env, 0o000)
    assert run.result == "Succeeded", run.stdout
    assert mode(target) == 0o600
    assert PASSWORD in target.read_text()


# -- links -------------------------------------------------------------------------------


def test_dangling_link_at_pypirc_path_is_refused_and_not_created(
    agent_temp: Path, tmp_path: Path
) -> None:
    aimed_at = tmp_path / "somewhere" / "stolen"
    aimed_at.parent.mkdir()
    link = tmp_path / "pypirc"
    link.symlink_to(aimed_at)
    env = base_env(AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(link), **connection())
    message = assert_failed_cleanly(run_task(env), agent_temp)
    assert message.startswith("PYPIRC_PATH points at a symbolic link")
    assert not aimed_at.exists()
    assert link.is_symlink()
    assert list(aimed_at.parent.iterdir()) == []


def test_link_that_appears_after_the_check_is_not_followed(tmp_path: Path) -> None:
    """Between planning and renaming, a link put at the destination is refused too."""
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    destination = tmp_path / "pypirc"
    agent = Agent({"PYPIRC_PATH": str(destination)}, io.StringIO())
    target = pypirc.plan_target(agent)  # nothing there yet: accepted
    destination.symlink_to(victim)
    repo = pypirc_repo()
    with pytest.raises(pypirc.TaskError) as info:
        pypirc.write(target, pypirc.render([repo]), [repo])
    assert info.value.key == "Error_PypircIsLink"
    assert victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pypirc", "victim"]


def pypirc_repo() -> Any:
    from twineauthenticate.repository import Repository

    return Repository(
        "f", "https://x/upload", "u", PASSWORD, "connection", Msg("Origin_Connection", "f")
    )


# -- a failure between writing and renaming ----------------------------------------------


def fail_on(name: str) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    fail.__name__ = name
    return fail


@pytest.mark.parametrize("step", ["write", "replace"])
def test_failure_before_the_rename_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    target = tmp_path / "given" / "pypirc"
    target.parent.mkdir()
    target.write_bytes(b"[distutils]\nindex-servers=previous\n\n")
    before = target.read_bytes()
    env = {
        "AGENT_TEMPDIRECTORY": str(tmp_path / "agent-temp"),
        "PYPIRC_PATH": str(target),
        **connection(),
    }
    out = io.StringIO()
    monkeypatch.setattr(_files.os, step, fail_on(step))
    assert task.run(Agent(env, out)) is False
    commands = parse_output(out.getvalue())
    errors = [c.message for c in commands if c.command == "task.logissue"]
    assert len(errors) == 1
    assert errors[0] == f"Could not write the configuration file {target}: No space left on device"
    assert not any(c.command == "task.setvariable" for c in commands)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["pypirc"]  # no temporary file


def test_failure_before_the_rename_removes_the_new_folder(
    agent_temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"AGENT_TEMPDIRECTORY": str(agent_temp), **connection()}
    monkeypatch.setattr(_files.os, "replace", fail_on("replace"))
    out = io.StringIO()
    assert task.run(Agent(env, out)) is False
    assert files_under(agent_temp) == []
    assert list((agent_temp / "twineAuthenticate").iterdir()) == []


def test_a_reader_never_sees_a_half_written_file(tmp_path: Path, agent_temp: Path) -> None:
    """Runs replace the file again and again while another thread keeps reading it."""
    target = tmp_path / "pypirc"
    contents: set[bytes] = set()
    seen: list[bytes] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(target.read_bytes())
            except FileNotFoundError:
                pass

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for number in range(12):
            password = f"password-{number:02d}-" + "x" * 4000 * number  # from tiny to 44 kB
            env = base_env(
                AGENT_TEMPDIRECTORY=str(agent_temp),
                PYPIRC_PATH=str(target),
                **connection(password),
            )
            run = run_task(env)
            assert run.result == "Succeeded", run.stdout
            contents.add(target.read_bytes())
    finally:
        stop.set()
        reader.join()
    assert len(contents) == 12
    assert len(seen) > 12
    assert set(seen) <= contents


# -- cleanup -----------------------------------------------------------------------------


def test_cleanup_without_record_never_deletes_through_a_linked_folder(
    agent_temp: Path, tmp_path: Path
) -> None:
    """A local run has no record of what it wrote: the layout must be the task's own,
    not a link to another folder that happens to hold a .pypirc."""
    victim_dir = tmp_path / "victim"
    victim_dir.mkdir()
    (victim_dir / ".pypirc").write_text("someone's credentials")
    base = agent_temp / "twineAuthenticate"
    base.mkdir()
    (base / "abc123").symlink_to(victim_dir)
    env = base_env(
        AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(base / "abc123" / ".pypirc")
    )
    done = run_task(env, "cleanup")
    assert done.result == "Succeeded"
    assert (victim_dir / ".pypirc").read_text() == "someone's credentials"
    assert (base / "abc123").is_symlink()
    assert len(done.warnings) == 1


def test_cleanup_without_record_never_deletes_through_a_linked_base(
    agent_temp: Path, tmp_path: Path
) -> None:
    victim_root = tmp_path / "victim"
    (victim_root / "abc123").mkdir(parents=True)
    (victim_root / "abc123" / ".pypirc").write_text("someone's credentials")
    (agent_temp / "twineAuthenticate").symlink_to(victim_root)
    path = agent_temp / "twineAuthenticate" / "abc123" / ".pypirc"
    done = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(path)), "cleanup")
    assert done.result == "Succeeded"
    assert (victim_root / "abc123" / ".pypirc").exists()


def test_cleanup_leaves_other_files_in_the_folder(agent_temp: Path) -> None:
    run = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **connection()))
    folder = run.pypirc.parent
    (folder / "notes.txt").write_text("not the task's")
    done = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **run.variables), "cleanup")
    assert done.result == "Succeeded"
    assert not run.pypirc.exists()
    assert (folder / "notes.txt").read_text() == "not the task's"


def test_cleanup_of_a_file_replaced_after_the_run_is_skipped(agent_temp: Path) -> None:
    """Same path, another file (another inode): the task did not write it."""
    run = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **connection()))
    path = run.pypirc
    replacement = path.with_name("other")
    replacement.write_text("[distutils]\nindex-servers=\n\n")
    os.replace(replacement, path)
    done = run_task(base_env(AGENT_TEMPDIRECTORY=str(agent_temp), **run.variables), "cleanup")
    assert path.read_text() == "[distutils]\nindex-servers=\n\n"
    assert "this task did not write it" in done.warnings[0]
