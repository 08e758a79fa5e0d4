"""The README's commands on a fresh machine: a Python with only its standard library.

Whatever this machine has installed, these tests make a bare interpreter (a venv
created without pip: no pip, no site packages), put it first on the system's
default PATH, clone the repository fresh, and run the README's commands there
with only that PATH, an empty HOME and CI=true, as a new user (or a new CI
machine) would. They need the package registries (PyPI, npm) for the installs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUILD_TOKEN
from tests.harness_fixtures import bare_python_fixture  # noqa: F401 (fixture)
from tests.helpers import ROOT, build_token_env
from twineauthenticate.commands import parse_output

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What a user would take for a problem in a command's output (the machine's own pip
# configuration may add notes of its own: those are not the project's).
PROBLEM = re.compile(
    r"ModuleNotFoundError|Traceback|npm notice|npm warn|DeprecationWarning|deprecated"
    r"|Running pip as the 'root' user|new release of pip",
    re.IGNORECASE,
)

pytestmark = pytest.mark.skipif(
    os.name == "nt" or shutil.which("git") is None or shutil.which("node") is None,
    reason="needs a POSIX system with git and node",
)


def fresh_env(bare_python: Path, home: Path) -> dict[str, str]:
    """Only PATH (the bare interpreter first, then the system's), HOME and CI."""
    folders = [str(bare_python.parent)]
    node = Path(os.path.realpath(shutil.which("node") or "node")).parent
    if str(node) not in SYSTEM_PATH.split(":"):
        folders.append(str(node))  # a Node installed elsewhere (nvm, a tarball)
    home.mkdir()
    return {"PATH": ":".join([*folders, SYSTEM_PATH]), "HOME": str(home), "CI": "true"}


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    proc = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(command)} failed ({proc.returncode}):\n{output}"
    return output


def problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if PROBLEM.search(line)]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of this repository (what is committed, as CI gets it)."""
    target = tmp_path_factory.mktemp("fresh") / "twineauthenticate"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True, timeout=120)
    return target


def test_the_bare_interpreter_has_only_the_standard_library(bare_python: Path) -> None:
    for module in ("pip", "requests", "twine", "setuptools"):
        proc = subprocess.run([str(bare_python), "-c", f"import {module}"], capture_output=True)
        assert proc.returncode != 0, f"{bare_python} can import {module}"


def test_readme_demo_command_from_a_fresh_clone(
    clone: Path, bare_python: Path, tmp_path: Path
) -> None:
    env = fresh_env(bare_python, tmp_path / "home")
    python3 = shutil.which("python3", path=env["PATH"])
    assert python3 is not None and Path(python3).parent == bare_python.parent
    output = run(["python3", "tools/dev.py", "demo"], clone, env, timeout=900)
    assert "Demo succeeded" in output, output
    assert problems(output) == [], output
    assert "demo-build-token" not in output
    # Only what the demo needs: no tfx-cli, no test tools.
    assert not (clone / "node_modules").exists()
    assert not (clone / ".venv" / "bin" / "pytest").exists()


def test_readme_packaging_command_from_a_fresh_clone(
    clone: Path, bare_python: Path, tmp_path: Path
) -> None:
    env = fresh_env(bare_python, tmp_path / "home")
    output = run(["python3", "tools/package.py"], clone, env, timeout=900)
    assert problems(output) == [], output
    dist = clone / "dist"
    assert (dist / "task" / "TwineAuthenticate" / "task.json").is_file()
    assert (dist / "TwineAuthenticate.zip").is_file()
    assert list(dist.glob("*.vsix")), output
    assert "within the 1.50 MB target" in output, output


def test_readme_test_command_from_a_fresh_clone(
    clone: Path, bare_python: Path, tmp_path: Path
) -> None:
    """The whole set-up of the test command (every tool, lint, types, minimum version),
    with pytest on one quick file: the suite itself is what runs this test."""
    env = fresh_env(bare_python, tmp_path / "home")
    output = run(
        ["python3", "tools/dev.py", "test", "tests/test_commands.py"], clone, env, timeout=900
    )
    assert "== all checks passed" in output, output
    assert re.search(r"^\d+ passed", output, re.M), output
    assert problems(output) == [], output


def test_checkout_run_by_a_python_without_requests_says_what_to_do(
    bare_python: Path, make_emulator: Any, tmp_path: Path
) -> None:
    """``node index.js`` of the checkout (not the bundle) with a bare Python first on PATH:
    one error line that says what to do, never a ModuleNotFoundError."""
    emu = make_emulator()
    agent_temp = tmp_path / "agent-temp"
    agent_temp.mkdir()
    env = fresh_env(bare_python, tmp_path / "home")
    env.update(
        AGENT_TEMPDIRECTORY=str(agent_temp),
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=emu.collection_url,
        SYSTEM_SERVERTYPE="Hosted",
        INPUT_ARTIFACTFEED="MyFeed",
        **build_token_env(BUILD_TOKEN, emu.collection_url),
    )
    proc = subprocess.run(
        ["node", str(ROOT / "index.js")],
        env=env,
        cwd=agent_temp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    assert "ModuleNotFoundError" not in proc.stdout and "Traceback" not in proc.stdout
    commands = parse_output(proc.stdout)
    errors = [c.message for c in commands if c.properties.get("type") == "error"]
    assert errors == [
        f"The task needs the Python package 'requests', which {bare_python} cannot import. "
        "The published task brings its own copy; to run the task from a source checkout, "
        "build it with 'python3 tools/package.py' and run that folder's index.js, "
        "or install the project for this Python ('pip install .')."
    ]
    assert [c.properties.get("result") for c in commands if c.command == "task.complete"] == [
        "Failed"
    ]
    assert list(agent_temp.iterdir()) == []
    assert sys.executable != str(bare_python)
