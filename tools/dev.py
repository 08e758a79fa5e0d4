#!/usr/bin/env python3
"""Set-up, demo and tests in one place: ``python3 tools/dev.py demo|test|setup``.

Needs only Python 3 and Node on the machine: it makes ``.venv`` in the repository,
installs the project with its development tools there (and ``tfx-cli`` with npm
for packaging), then runs the demo or the whole test suite inside it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run(*cmd: str | Path, **kwargs: object) -> None:
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def _make_venv() -> None:
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        return
    except subprocess.CalledProcessError:
        shutil.rmtree(VENV, ignore_errors=True)
    # Debian and Ubuntu ship venv separately.
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        for pkg in (f"python{version}-venv", "python3-venv"):
            if (
                subprocess.run(["apt-get", "install", "-y", "-qq", pkg], check=False).returncode
                == 0
            ):
                break
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        return
    sys.exit("Could not create a virtual environment: install the venv module (python3-venv).")


def setup() -> None:
    """Create .venv and install the project and its tools; skip what is up to date."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not PYTHON.exists():
        say("Creating .venv")
        _make_venv()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        say("Installing the project and its development tools into .venv")
        run(PYTHON, "-m", "pip", "install", "-q", "--upgrade", "pip")
        run(PYTHON, "-m", "pip", "install", "-q", "-e", ".[dev]")
        STAMP.write_text(wanted)
    if (ROOT / "package.json").exists() and not (
        ROOT / "node_modules" / ".package-lock.json"
    ).exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm was not found: install Node.js (with npm) first.")
        say("Installing Node tools (tfx-cli) with npm")
        lock = (ROOT / "package-lock.json").exists()
        run(npm, "ci" if lock else "install", "--no-audit", "--no-fund", "--loglevel=error")


def in_venv(*args: str) -> int:
    """Run the venv's Python, or the venv's script named by the first argument."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [str(PYTHON), *args]
    if args and args[0].isidentifier() and (BIN / args[0]).exists():
        command = [str(BIN / args[0]), *args[1:]]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def test(extra: list[str]) -> int:
    setup()
    checks = [
        ("ruff (lint)", ["-m", "ruff", "check", "."]),
        ("mypy --strict", ["-m", "mypy"]),
        (
            "vermin (runs on Python 3.9)",
            [
                "vermin",
                "-t=3.9-",
                "--violations",
                "--no-tips",
                "-q",
                "twineauthenticate",
                "bootstrap.py",
            ],
        ),
        ("pytest", ["-m", "pytest", "-q", *extra]),
    ]
    failed = []
    for title, args in checks:
        if title.startswith("vermin") and not (ROOT / "bootstrap.py").exists():
            args = args[:-1]
        say(title)
        if in_venv(*args) != 0:
            failed.append(title)
    say("failed: " + ", ".join(failed) if failed else "all checks passed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "setup":
        setup()
        return 0
    if command == "test":
        return test(argv[1:])
    if command == "demo":
        setup()
        return in_venv(str(ROOT / "tools" / "demo.py"), *argv[1:])
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
