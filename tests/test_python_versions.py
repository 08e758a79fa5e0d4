"""Every Python an agent may have, for real: the built bundle through ``node index.js``
with each CPython 3.9-3.13 alone on PATH, then a real twine upload with the file.

Hosted images ship 3.10 (Ubuntu 22.04) and 3.12 (24.04); ``UsePythonVersion@0`` gives
any. Each version runs from a folder that holds only that ``python3`` and ``node``, so
the launcher can find nothing else. A version this machine does not have is skipped
with the reason shown (``pytest -rs``); where it is installed, it runs.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.agent_harness import AgentJob, Endpoint
from tests.conftest import BUILD_TOKEN, PYPISERVER_PASSWORD
from tests.harness_fixtures import (  # noqa: F401 (fixtures)
    agent_job_fixture,
    bare_python_fixture,
    task_bundle_fixture,
    task_dir_fixture,
)
from tests.helpers import make_wheel, twine_upload

MakeJob = Callable[..., AgentJob]
SUPPORTED = [(3, 9), (3, 10), (3, 11), (3, 12), (3, 13)]
CONNECTION_ID = "5b0c7e2a-1d3f-4a6b-8c9d-0e1f2a3b4c5d"


def find_python(major: int, minor: int) -> str | None:
    """A CPython ``major.minor`` installed on this machine (pyenv's, then PATH's)."""
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    candidates: list[str] = []
    for root in dict.fromkeys(r for r in roots if r):
        candidates += sorted(
            glob.glob(f"{root}/versions/{major}.{minor}.*/bin/python{major}.{minor}")
        )
    for folder in ("/usr/local/bin", "/usr/bin"):
        candidates.append(f"{folder}/python{major}.{minor}")
    found = shutil.which(f"python{major}.{minor}")
    if found and "shims" not in Path(found).parts:  # a pyenv shim needs pyenv's own set-up
        candidates.append(found)
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        code = "import sys; print('%d.%d' % sys.version_info[:2])"
        proc = subprocess.run([candidate, "-I", "-c", code], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip() == f"{major}.{minor}":
            return candidate
    return None


def alone_on_path(python: str, folder: Path) -> str:
    """A PATH of one folder holding only ``python3`` (this interpreter) and ``node``."""
    folder.mkdir(parents=True)
    (folder / "python3").symlink_to(python)
    node = shutil.which("node")
    assert node is not None
    (folder / "node").symlink_to(os.path.realpath(node))
    return str(folder)


def python_or_skip(major: int, minor: int) -> str:
    python = find_python(major, minor)
    if python is None:
        pytest.skip(f"CPython {major}.{minor} is not installed on this machine")
    return python


@pytest.mark.parametrize("version", SUPPORTED, ids=[f"py{a}.{b}" for a, b in SUPPORTED])
def test_the_bundle_runs_with_each_supported_python(
    version: tuple[int, int],
    agent_job: MakeJob,
    make_emulator: Any,
    pypiserver: Any,
    tmp_path: Path,
) -> None:
    python = python_or_skip(*version)
    emu = make_emulator(mode="services")
    job = agent_job(
        collection_uri=emu.collection_url,
        access_token=BUILD_TOKEN,
        path=alone_on_path(python, tmp_path / "path"),
        endpoints=[
            Endpoint.username_password(
                CONNECTION_ID, pypiserver.url, "alice", PYPISERVER_PASSWORD, "private"
            )
        ],
    )
    result = job.run({"artifactFeed": "MyFeed", "pythonUploadServiceConnection": CONNECTION_ID})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.result == "Succeeded", result.stdout + result.stderr
    assert result.errors == [] and result.stderr == ""
    pypirc = Path(result.variables["PYPIRC_PATH"])
    assert "index-servers=MyFeed private" in pypirc.read_text()

    wheel = make_wheel(tmp_path / "dist", "versions_pkg", f"1.0.{version[1]}")
    for repository in ("MyFeed", "private"):
        upload = twine_upload(pypirc, repository, wheel)
        assert upload.returncode == 0, upload.stdout + upload.stderr
    assert emu.uploaded_files("MyFeed") == [wheel.name]
    assert [p.name for p in pypiserver.packages.iterdir()] == [wheel.name]

    (cleanup,) = job.post_job()
    assert cleanup.result == "Succeeded", cleanup.stdout
    assert not pypirc.exists()


def test_python_3_8_alone_fails_once_naming_3_9(agent_job: MakeJob, tmp_path: Path) -> None:
    python = python_or_skip(3, 8)
    job = agent_job(path=alone_on_path(python, tmp_path / "path"))
    result = job.run({"artifactFeed": "MyFeed"})
    assert result.returncode == 0, result.stdout + result.stderr  # the failure is reported
    assert result.result == "Failed"
    (error,) = result.errors
    assert error.startswith("No Python 3.9 or later was found"), error
    assert f"{tmp_path / 'path' / 'python3'} is Python 3.8." in error, error
    assert "UsePythonVersion@0" in error
    assert len(result.named("task.complete")) == 1
    assert "PYPIRC_PATH" not in result.variables
