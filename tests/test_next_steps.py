"""Later steps with the real publishers: uv, poetry and pip (configurePublishers), twine,
and the recipes for hatch, pdm and flit.

Each test runs the task's step, then the YAML's script steps as later steps of the job
get them (tests/nextstep.py): only the non-secret variables the task set, and a
secret only where the YAML maps it with ``env:``. Each uploads to the emulator (a
feed of the organization, a feed of a project) or to a real pypiserver (a password
service connection), then installs the package back with pip. The README shows the
same YAML (tests/test_readme.py checks it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUILD_TOKEN, NETRC_PASSWORD, NETRC_USER, agent_env_for
from tests.helpers import TaskRun, base_env, make_wheel, run_task
from tests.nextstep import MIN_PYTHON, Publishers, Recipe, assert_ran, later_step_env, run_scripts
from twineauthenticate.emulator import Feed

UV = Recipe("""\
- task: TwineAuthenticate@1
  name: auth
  inputs:
    artifactFeed: MyFeed
    configurePublishers: true
- script: uv publish --trusted-publishing never --publish-url $(auth.uploadUrl) --check-url $(auth.simpleUrl) dist/*
""")

POETRY = Recipe("""\
- task: TwineAuthenticate@1
  name: auth
  inputs:
    artifactFeed: MyFeed
    configurePublishers: true
- script: poetry publish -r MyFeed
""")

PIP = Recipe("""\
- task: TwineAuthenticate@1
  name: auth
  inputs:
    artifactFeed: MyFeed
    configurePublishers: true
- script: pip install --index-url $(auth.simpleUrl) demo-package
""")

HATCH = Recipe("""\
- task: TwineAuthenticate@1
  name: auth
  inputs:
    artifactFeed: MyFeed
- script: HOME="${PYPIRC_PATH%/*}" hatch publish --repo $(auth.uploadUrl) --no-prompt dist/*
""")

PDM = Recipe("""\
- task: TwineAuthenticate@1
  name: auth
  inputs:
    artifactFeed: MyFeed
- script: pdm publish --no-build --repository $(auth.uploadUrl) --username build
  env:
    PDM_PUBLISH_PASSWORD: $(System.AccessToken)
""")

FLIT = Recipe("""\
- task: TwineAuthenticate@1
  name: auth
  inputs:
    artifactFeed: MyFeed
- script: flit publish --pypirc $(PYPIRC_PATH) --repository MyFeed --format wheel
""")

RECIPES = {"uv": UV, "poetry": POETRY, "pip": PIP, "hatch": HATCH, "pdm": PDM, "flit": FLIT}
SOURCES = ["organization feed", "project feed", "password connection"]


@pytest.fixture(scope="session")
def publishers() -> Publishers:
    if sys.version_info < MIN_PYTHON:
        pytest.skip("the publishers' locks serve Python 3.10 and later (poetry 2.5 needs it)")
    return Publishers()


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel per package name, built once for the session."""
    return tmp_path_factory.mktemp("dists")


def wheel(dists: Path, name: str, version: str = "1.0.0") -> Path:
    path = dists / name / f"{name}-{version}-py3-none-any.whl"
    return path if path.exists() else make_wheel(dists / name, name, version)


class Source:
    """Where a test publishes: an emulator feed or pypiserver, and the job's environment."""

    def __init__(self, kind: str, request: pytest.FixtureRequest, agent_temp: Path) -> None:
        self.kind = kind
        self.agent_temp = agent_temp
        if kind == "password connection":
            server = request.getfixturevalue("pypiserver")
            self.server: Any = server
            self.env = server.job_env(agent_temp, password=NETRC_PASSWORD, username=NETRC_USER)
            self.name = "private"
        else:
            project = "My Project" if kind == "project feed" else None
            self.project = project
            self.name = "ProjFeed" if project else "MyFeed"
            emu = request.getfixturevalue("make_emulator")(feeds=[Feed(self.name, project=project)])
            self.server = emu
            feed = f"{project}/{self.name}" if project else self.name
            self.env = agent_env_for(emu, agent_temp, INPUT_ARTIFACTFEED=feed)

    def uploaded(self) -> list[str]:
        if self.kind == "password connection":
            return sorted(p.name for p in self.server.packages.iterdir())
        return list(self.server.uploaded_files(self.name, project=self.project))

    def recipe(self, recipe: Recipe) -> Recipe:
        """``recipe`` for this source: its inputs replace the YAML's ``artifactFeed``."""
        return Recipe(recipe.yaml_text.replace("MyFeed", self.name))

    def run_task(self, recipe: Recipe) -> TaskRun:
        inputs = {k: v for k, v in recipe.task_inputs_env().items() if k != "INPUT_ARTIFACTFEED"}
        run = run_task({**self.env, **inputs})
        assert run.result == "Succeeded", run.stdout + run.stderr
        return run


@pytest.fixture(params=SOURCES)
def source(request: pytest.FixtureRequest, agent_temp: Path) -> Source:
    return Source(request.param, request, agent_temp)


@pytest.fixture
def step_dir(tmp_path: Path) -> Iterator[Path]:
    """The sources folder of the later steps, with its own HOME (nothing of the machine's)."""
    folder = tmp_path / "s"
    (folder / "dist").mkdir(parents=True)
    yield folder


def step_base(step_dir: Path) -> dict[str, str]:
    home = step_dir.parent / "home"
    home.mkdir(exist_ok=True)
    env = base_env(HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)
    return env


def install_back(
    publishers: Publishers, run: TaskRun, source: Source, step_dir: Path, package: str
) -> str:
    """The pip recipe: install ``package`` from the feed, then import it."""
    recipe = source.recipe(Recipe(PIP.yaml_text.replace("demo-package", package)))
    base = step_base(step_dir)
    base.update(PIP_TARGET=str(step_dir / "site"), PIP_NO_CACHE_DIR="1")
    procs = run_scripts(recipe, run, base, cwd=step_dir, tools=[publishers.bin("pip")])
    assert_ran(procs, 1)
    python = publishers.bin("pip") / "python"
    done = subprocess.run(
        [str(python), "-c", f"import {package}; print({package}.VALUE)"],
        env={**base, "PYTHONPATH": str(step_dir / "site")},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


# -- uv, poetry, pip: configurePublishers ---------------------------------------------


def test_uv_publishes_then_skips_what_is_there(
    publishers: Publishers, source: Source, step_dir: Path, dists: Path
) -> None:
    recipe = source.recipe(UV)
    run = source.run_task(recipe)
    shutil.copy(wheel(dists, "ns_uv_pkg"), step_dir / "dist")
    tools = [publishers.bin("uv")]
    first = run_scripts(recipe, run, step_base(step_dir), cwd=step_dir, tools=tools)
    assert_ran(first, 1)
    assert source.uploaded() == ["ns_uv_pkg-1.0.0-py3-none-any.whl"]
    again = run_scripts(recipe, run, step_base(step_dir), cwd=step_dir, tools=tools)
    assert_ran(again, 1)  # the 409 of the second upload: the check URL shows the file is there
    assert "already exists" in again[0].stdout + again[0].stderr
    without_check = Recipe(recipe.yaml_text.replace(" --check-url $(auth.simpleUrl)", ""))
    failed = run_scripts(without_check, run, step_base(step_dir), cwd=step_dir, tools=tools)
    assert failed[0].returncode != 0
    assert install_back(publishers, run, source, step_dir, "ns_uv_pkg") == "1.0.0"


def test_poetry_publishes_with_the_repository_name(
    publishers: Publishers, source: Source, step_dir: Path, dists: Path
) -> None:
    recipe = source.recipe(POETRY)
    run = source.run_task(recipe)
    shutil.copy(wheel(dists, "ns_poetry_pkg"), step_dir / "dist")
    (step_dir / "pyproject.toml").write_text(
        '[project]\nname = "ns-poetry-pkg"\nversion = "1.0.0"\n', "utf-8"
    )
    procs = run_scripts(
        recipe, run, step_base(step_dir), cwd=step_dir, tools=[publishers.bin("poetry")]
    )
    assert_ran(procs, 1)
    assert source.uploaded() == ["ns_poetry_pkg-1.0.0-py3-none-any.whl"]
    assert install_back(publishers, run, source, step_dir, "ns_poetry_pkg") == "1.0.0"


def test_the_later_steps_get_no_secret_and_no_variable_that_breaks_a_tool(
    source: Source, step_dir: Path
) -> None:
    run = source.run_task(source.recipe(UV))
    env = later_step_env(run, {}, step_name="auth")
    netrc = Path(env["NETRC"])
    assert netrc.parent == run.pypirc.parent
    poetry = "POETRY_REPOSITORIES_" + source.name.upper() + "_URL"
    assert set(env) == {
        "PYPIRC_PATH",
        "TWINEAUTHENTICATE_WRITTEN",
        "NETRC",
        poetry,
        "AUTH_REPOSITORYNAME",
        "AUTH_UPLOADURL",
        "AUTH_SIMPLEURL",
        "AUTH_REPOSITORYNAMES",
        f"AUTH_{source.name.upper()}_UPLOADURL",
        f"AUTH_{source.name.upper()}_SIMPLEURL",
    }
    secret = NETRC_PASSWORD if source.kind == "password connection" else BUILD_TOKEN
    assert all(secret not in value for value in env.values())
    assert secret in netrc.read_text()


def test_with_the_input_off_only_outputs_are_new(source: Source, step_dir: Path) -> None:
    run = source.run_task(Recipe(UV.yaml_text.replace("    configurePublishers: true\n", "")))
    env = later_step_env(run, {}, step_name="auth")
    assert {k for k in env if not k.startswith("AUTH_")} == {
        "PYPIRC_PATH",
        "TWINEAUTHENTICATE_WRITTEN",
    }
    assert "To publish with uv or poetry" in run.stdout


# -- hatch, pdm, flit: recipes (a feed of the organization) ---------------------------


@pytest.fixture
def org_feed(request: pytest.FixtureRequest, agent_temp: Path) -> Source:
    return Source("organization feed", request, agent_temp)


def test_hatch_recipe(
    publishers: Publishers, org_feed: Source, step_dir: Path, dists: Path
) -> None:
    run = org_feed.run_task(HATCH)
    shutil.copy(wheel(dists, "ns_hatch_pkg"), step_dir / "dist")
    procs = run_scripts(
        HATCH, run, step_base(step_dir), cwd=step_dir, tools=[publishers.bin("hatch")]
    )
    assert_ran(procs, 1)
    assert org_feed.uploaded() == ["ns_hatch_pkg-1.0.0-py3-none-any.whl"]


def test_pdm_recipe(publishers: Publishers, org_feed: Source, step_dir: Path, dists: Path) -> None:
    run = org_feed.run_task(PDM)
    shutil.copy(wheel(dists, "ns_pdm_pkg"), step_dir / "dist")
    (step_dir / "pyproject.toml").write_text(
        '[project]\nname = "ns-pdm-pkg"\nversion = "1.0.0"\n', "utf-8"
    )
    procs = run_scripts(
        PDM,
        run,
        step_base(step_dir),
        cwd=step_dir,
        tools=[publishers.bin("pdm")],
        secrets={"System.AccessToken": BUILD_TOKEN},
    )
    assert_ran(procs, 1)
    assert org_feed.uploaded() == ["ns_pdm_pkg-1.0.0-py3-none-any.whl"]


def test_flit_recipe(publishers: Publishers, org_feed: Source, step_dir: Path) -> None:
    run = org_feed.run_task(FLIT)
    (step_dir / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.2"]\nbuild-backend = "flit_core.buildapi"\n\n'
        '[project]\nname = "ns_flit_pkg"\nversion = "1.0.0"\ndescription = "A test package"\n',
        "utf-8",
    )
    (step_dir / "ns_flit_pkg.py").write_text('"""A test package."""\nVALUE = "1.0.0"\n', "utf-8")
    procs = run_scripts(
        FLIT, run, step_base(step_dir), cwd=step_dir, tools=[publishers.bin("flit")]
    )
    assert_ran(procs, 1)
    (uploaded,) = org_feed.uploaded()
    assert uploaded.startswith("ns_flit_pkg-1.0.0-") and uploaded.endswith(".whl")
