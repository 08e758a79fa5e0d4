"""pytest fixtures of the agent harness; import them into a test module to use them:

    from tests.harness_fixtures import (
        agent_job_fixture, bare_python_fixture, task_bundle_fixture, task_dir_fixture
    )

(the functions carry a ``_fixture`` suffix so that a test's parameter ``agent_job``
does not shadow the import; pytest knows them by the names below).

``task_bundle`` builds the bundle once per session with tools/package.py (set
``TWINEAUTHENTICATE_TEST_BUNDLE`` to a built task folder to reuse it instead);
``task_dir`` is a fresh copy of it per test, laid out like the agent's ``_tasks``;
``bare_python`` is the interpreter of a venv without pip or any package, like a
clean agent's Python (and unlike the test venv, where an editable install could
supply modules the bundle lacks); ``agent_job`` makes :class:`AgentJob` objects on
the copy, with ``bare_python`` first on PATH unless ``python=``/``path=`` say otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.agent_harness import AgentJob, build_bundle, copy_bundle

BUNDLE_ENV = "TWINEAUTHENTICATE_TEST_BUNDLE"


@pytest.fixture(scope="session", name="task_bundle")
def task_bundle_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The task folder built from this checkout (once per session)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    given = os.environ.get(BUNDLE_ENV)
    if given:
        return Path(given)
    return build_bundle(tmp_path_factory.mktemp("bundle") / "dist")


@pytest.fixture(scope="session", name="bare_python")
def bare_python_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python with the standard library only (a venv made --without-pip)."""
    venv = tmp_path_factory.mktemp("bare-python") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
    )
    folder = venv / ("Scripts" if os.name == "nt" else "bin")
    return folder / ("python.exe" if os.name == "nt" else "python3")


@pytest.fixture(name="task_dir")
def task_dir_fixture(task_bundle: Path, tmp_path: Path) -> Path:
    """A copy of the bundle for one test, where an agent would have downloaded it."""
    return copy_bundle(task_bundle, tmp_path / "agent")


@pytest.fixture(name="agent_job")
def agent_job_fixture(task_dir: Path, tmp_path: Path, bare_python: Path) -> Callable[..., AgentJob]:
    """``agent_job(**options)``: an :class:`AgentJob` on the test's copy of the bundle."""
    count = 0

    def make(**options: Any) -> AgentJob:
        nonlocal count
        count += 1
        options.setdefault("python", bare_python)
        return AgentJob(task_dir, tmp_path / "agent" / f"_work{count}", **options)

    return make
