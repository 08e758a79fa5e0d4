"""Many runs at once in one agent temp folder (parallel jobs on one agent, or retries).

All processes are started before any is waited for.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import BUILD_TOKEN, agent_env_for
from tests.helpers import (
    ROOT,
    TaskRun,
    base_env,
    connection_env,
    summaries_under,
    without_summaries,
)
from tests.test_reliability_helpers import files_under
from twineauthenticate.commands import parse_output

RUNS = 50


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "twineauthenticate"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
    )


def finish(proc: subprocess.Popen[str]) -> TaskRun:
    stdout, stderr = proc.communicate(timeout=120)
    return TaskRun(proc.returncode, stdout, stderr, parse_output(stdout))


def connection(number: int) -> dict[str, str]:
    env = connection_env(
        "c1",
        "https://ext.example/upload",
        "ext",
        "UsernamePassword",
        username=f"user{number}",
        password=f"password-of-run-{number:02d}",
    )
    env["INPUT_PYTHONUPLOADSERVICECONNECTION"] = "c1"
    return env


def test_fifty_runs_at_once_write_fifty_distinct_complete_files(
    make_emulator: Any, agent_temp: Path
) -> None:
    emu = make_emulator()
    procs = [
        start(agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED="MyFeed", **connection(n)))
        for n in range(RUNS)
    ]
    runs = [finish(p) for p in procs]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.result == "Succeeded"
        assert run.errors == [] and run.warnings == [] and run.stderr == ""
    paths = [run.pypirc for run in runs]
    assert len(set(paths)) == RUNS
    assert len({p.parent for p in paths}) == RUNS
    for number, path in enumerate(paths):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.read_text() == (
            "[distutils]\nindex-servers=MyFeed ext\n\n"
            f"[MyFeed]\nrepository={emu.feed_upload_url('MyFeed')}\nusername=build\n"
            f"password={BUILD_TOKEN}\n\n"
            f"[ext]\nrepository=https://ext.example/upload\nusername=user{number}\n"
            f"password=password-of-run-{number:02d}"
        )
    # Nothing else: no temporary file; one summary next to each file.
    assert without_summaries(files_under(agent_temp)) == sorted(paths)
    assert sorted(p.parent for p in summaries_under(agent_temp)) == sorted(p.parent for p in paths)
    assert len(emu.requests) == 4 * RUNS  # the lookup's two, the check's two
    assert all(r.status == 200 for r in emu.requests)


def test_fifty_runs_at_once_on_one_pypirc_path_leave_one_complete_file(
    agent_temp: Path, tmp_path: Path
) -> None:
    target = tmp_path / "shared" / "pypirc"
    procs = [
        start(
            base_env(AGENT_TEMPDIRECTORY=str(agent_temp), PYPIRC_PATH=str(target), **connection(n))
        )
        for n in range(RUNS)
    ]
    runs = [finish(p) for p in procs]
    assert all(run.result == "Succeeded" for run in runs), [r.errors for r in runs]
    assert all(run.stderr == "" for run in runs)
    text = target.read_text()
    expected = {
        "[distutils]\nindex-servers=ext\n\n"
        f"[ext]\nrepository=https://ext.example/upload\nusername=user{n}\n"
        f"password=password-of-run-{n:02d}"
        for n in range(RUNS)
    }
    assert text in expected
    assert [p.name for p in without_summaries(list(target.parent.iterdir()))] == ["pypirc"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
