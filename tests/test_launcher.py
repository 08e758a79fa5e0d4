"""Runs the Node unit tests of launcher.js (tests/node) as part of the pytest run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_TESTS = sorted((ROOT / "tests" / "node").glob("*.test.js"))


def test_node_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    assert NODE_TESTS, "no tests/node/*.test.js"
    # Explicit files rather than the folder: newer Node versions read the
    # arguments of --test as glob patterns.
    proc = subprocess.run(
        [node, "--test", "--test-reporter=tap", *(str(p) for p in NODE_TESTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "# fail 0" in proc.stdout
