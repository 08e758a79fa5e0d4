"""A later step of the job, and the real publishers (uv, poetry, pip, hatch, pdm, flit).

A later step gets exactly what the agent gives it: the job's environment, every
non-secret variable the task set (name upper-cased, ``.`` → ``_``; an output
variable as ``<STEPNAME>_<NAME>``), and a secret only where the step's YAML maps
it with ``env:``. ``$(name)`` macros in the script and in ``env:`` are expanded
first, secrets included, as the agent does.

Each publisher is pinned in ``tools/publishers.txt`` and installed, with every
dependency at the version and hash ``requirements/publishers/<tool>.txt`` holds
(``python3 tools/dev.py lock`` writes them), into its own venv under
``.venv-publishers/<tool>`` (reused while the lock is the same), so that the tools'
dependencies never mix with the development tools. The locks serve Python 3.10 and
later (poetry 2.5 needs it); on an older Python these tests are skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.agent_harness import expand_macros
from tests.helpers import ROOT, TaskRun
from twineauthenticate.agent import env_key

PINS_FILE = ROOT / "tools" / "publishers.txt"
LOCKS = ROOT / "requirements" / "publishers"
VENVS = ROOT / ".venv-publishers"
MIN_PYTHON = (3, 10)


def pins() -> dict[str, list[str]]:
    """``{tool: ["tool==version", "dependency==version", ...]}`` from ``tools/publishers.txt``."""
    out: dict[str, list[str]] = {}
    for line in PINS_FILE.read_text("utf-8").splitlines():
        requirements = line.split("#", 1)[0].split()
        if not requirements:
            continue
        for requirement in requirements:
            _name, _, version = requirement.partition("==")
            assert version, f"{PINS_FILE}: {requirement!r} is not pinned to an exact version"
        out[requirements[0].partition("==")[0]] = requirements
    return out


class Publishers:
    """The pinned tools, each in its own venv; installed on first use."""

    def __init__(self) -> None:
        self.pins = pins()

    def bin(self, tool: str) -> Path:
        """The venv's ``bin`` folder holding ``tool`` (installed when missing or outdated)."""
        lock = LOCKS / f"{tool}.txt"
        text = lock.read_text("utf-8")
        wanted = [re.sub(r"\[.*?\]", "", pin) for pin in self.pins[tool]]  # extras expand
        assert all(f"\n{pin}" in text for pin in wanted), (
            f"{lock} does not hold {self.pins[tool]}: run python3 tools/dev.py lock"
        )
        venv = VENVS / tool
        scripts = venv / ("Scripts" if os.name == "nt" else "bin")
        marker = venv / "lock.txt"
        if marker.is_file() and marker.read_text("utf-8") == text and scripts.is_dir():
            return scripts
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        python = scripts / "python"
        install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        install += ["--require-hashes", "--no-deps", "-r", str(lock)]
        subprocess.run(install, check=True, timeout=900)
        marker.write_text(text, "utf-8")
        return scripts

    def version(self, tool: str) -> str:
        return self.pins[tool][0].partition("==")[2]


def step_variables(run: TaskRun, step_name: str) -> dict[str, str]:
    """The variables the task's step left for the job, by pipeline name (non-secret)."""
    out: dict[str, str] = {}
    for command in run.named("task.setvariable"):
        name = command.properties.get("variable", "")
        if command.properties.get("issecret", "").lower() == "true" or not name:
            continue
        if command.properties.get("isOutput", "").lower() == "true":
            name = f"{step_name}.{name}"
        out[name] = command.message
    return out


def later_step_env(
    run: TaskRun,
    base: Mapping[str, str],
    *,
    step_name: str = "auth",
    env_map: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a later step: ``base``, the task's non-secret variables, and
    the step's ``env:`` map (macros expanded, secrets included)."""
    variables = step_variables(run, step_name)
    env = dict(base)
    for name, value in variables.items():
        env[env_key(name)] = value
    macros = {**variables, **(secrets or {})}
    for name, value in (env_map or {}).items():
        env[name] = expand_macros(value, macros)
    return env


@dataclass
class Recipe:
    """Pipeline YAML: the task's step, then script steps (the README shows the same)."""

    yaml_text: str

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps = yaml.safe_load(self.yaml_text)
        assert isinstance(steps, list)
        return steps

    @property
    def task_step(self) -> dict[str, Any]:
        (step,) = [s for s in self.steps if "task" in s]
        assert step["task"] == "TwineAuthenticate@1"
        return step

    def task_inputs_env(self) -> dict[str, str]:
        """``INPUT_*`` of the task's step (booleans as the agent writes them)."""
        out = {}
        for name, value in (self.task_step.get("inputs") or {}).items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out["INPUT_" + env_key(name)] = text
        return out


def run_scripts(
    recipe: Recipe,
    run: TaskRun,
    base: Mapping[str, str],
    *,
    cwd: Path,
    tools: Sequence[Path] = (),
    secrets: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> list[subprocess.CompletedProcess[str]]:
    """Run every ``script:`` step of ``recipe`` after ``run``, as later steps of the job
    (bash, the tools' folders first on PATH); stops at the first failing step."""
    step_name = recipe.task_step.get("name", "")
    variables = step_variables(run, step_name)
    done = []
    for step in recipe.steps:
        if "script" not in step:
            continue
        env = later_step_env(
            run, base, step_name=step_name, env_map=step.get("env"), secrets=secrets
        )
        env["PATH"] = os.pathsep.join([*map(str, tools), env.get("PATH", "")])
        script = expand_macros(step["script"], {**variables, **(secrets or {})})
        proc = subprocess.run(
            ["bash", "-eu", "-c", script],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        done.append(proc)
        if proc.returncode != 0:
            break
    return done


def assert_ran(procs: list[subprocess.CompletedProcess[str]], steps: int) -> None:
    report = "\n".join(f"$ {p.args[-1]}\n{p.stdout}\n{p.stderr}" for p in procs)
    assert [p.returncode for p in procs] == [0] * steps, report
