"""The README's commands are the ones that run: CI's, the demo's and packaging's."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import ROOT


def fenced_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```[a-z]*\n(.*?)```", body, re.S)]


def test_quick_start_has_the_demo_then_the_test_command_that_ci_runs() -> None:
    demo, tests = fenced_blocks("Quick start")[:2]
    assert demo == "python3 tools/dev.py demo"
    assert tests == "python3 tools/dev.py test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"exec {tests} < /dev/null" in ci


def test_packaging_section_starts_with_the_build_command() -> None:
    assert fenced_blocks("Packaging")[0] == "python3 tools/package.py"


def test_the_demo_succeeds() -> None:
    """The README's demo command, as a user runs it (it sets up .venv when missing)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "dev.py"), "demo"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Demo succeeded" in proc.stdout
    assert "demo-build-token" not in proc.stdout


def test_the_publishing_recipes_are_the_tested_ones() -> None:
    from tests.test_next_steps import RECIPES

    blocks = fenced_blocks("Publishing with uv, poetry, pip, hatch, pdm, flit")
    for tool, recipe in RECIPES.items():
        assert recipe.yaml_text.strip() in blocks, tool
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    from tests.nextstep import pins

    for tool, requirements in pins().items():
        version = requirements[0].partition("==")[2]
        assert f"| {version} |" in text, tool
