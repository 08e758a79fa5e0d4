#!/usr/bin/env python3
"""Set-up, demo and tests in one place: ``python3 tools/dev.py demo|test|setup|lock``.

Needs only Python 3.9+ (its standard library: no pip, no site packages) and Node on
the machine. It makes ``.venv`` in the repository and installs into it exactly the
versions pinned, with their hashes, in ``requirements/`` (``demo.txt``: what the demo
needs; ``dev.txt``: every development and test tool), then runs the demo or the whole
test suite inside it. ``test`` also installs ``tfx-cli`` with npm (for the .vsix).

``lock`` refreshes ``requirements/*.txt`` from the ranges in ``pyproject.toml``, and
``requirements/publishers/<tool>.txt`` from ``tools/publishers.txt``, with a pinned
``uv`` (``LOCK_TOOL``) resolving for every Python from 3.9 on.
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
REQUIREMENTS = ROOT / "requirements"
# What each set-up installs: the lock file of its extra. dev.txt holds demo.txt's pins.
LOCKS = {"demo": REQUIREMENTS / "demo.txt", "dev": REQUIREMENTS / "dev.txt"}
PUBLISHERS = ROOT / "tools" / "publishers.txt"  # the next-step tests' uv, poetry, pip, ...
LOCK_TOOL = "uv==0.13.9"
LOCK_PYTHON = "3.9"  # the oldest Python the lock must serve
PUBLISHERS_PYTHON = "3.10"  # poetry 2.5 needs 3.10: the next-step tests skip an older one
# pip and npm, quiet about what is no problem of the user's: no version nag, no
# warning about running as root (CI and containers do), no prompts.
QUIET_ENV = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_NO_INPUT": "1",
    "NPM_CONFIG_UPDATE_NOTIFIER": "false",
    "NPM_CONFIG_FUND": "false",
    "NPM_CONFIG_AUDIT": "false",
}


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def quiet_env() -> dict[str, str]:
    return {**os.environ, **QUIET_ENV}


def run(*cmd: str | Path, **kwargs: object) -> None:
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    kwargs.setdefault("env", quiet_env())
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def make_venv(path: Path, with_pip: bool = True) -> None:
    """A virtual environment at ``path``; Debian and Ubuntu ship venv separately."""
    args = [sys.executable, "-m", "venv", *([] if with_pip else ["--without-pip"]), str(path)]
    try:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        return
    except subprocess.CalledProcessError:
        shutil.rmtree(path, ignore_errors=True)
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        for pkg in (f"python{version}-venv", "python3-venv"):
            if (
                subprocess.run(["apt-get", "install", "-y", "-qq", pkg], check=False).returncode
                == 0
            ):
                break
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        return
    sys.exit("Could not create a virtual environment: install the venv module (python3-venv).")


def _stamp(kind: str) -> Path:
    return VENV / f".installed-{kind}"


def _wanted(kind: str) -> str:
    """What the set-up ``kind`` installs: its lock file and the project's metadata."""
    digest = hashlib.sha256(LOCKS[kind].read_bytes())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def _up_to_date(kind: str) -> bool:
    kinds = ("demo", "dev") if kind == "demo" else ("dev",)  # dev.txt holds demo.txt's pins
    return any(_stamp(k).is_file() and _stamp(k).read_text() == _wanted(k) for k in kinds)


def setup(kind: str = "dev") -> None:
    """Create .venv and install the pinned tools of ``kind``; skip what is up to date."""
    if not PYTHON.exists():
        say("Creating .venv")
        make_venv(VENV)
    if not _up_to_date(kind):
        say(f"Installing the pinned {kind} tools ({LOCKS[kind].relative_to(ROOT)}) into .venv")
        pip = [PYTHON, "-m", "pip", "install", "-q"]
        run(*pip, "--require-hashes", "--no-deps", "-r", LOCKS[kind])
        link_checkout()
        for stale in VENV.glob(".installed*"):
            stale.unlink()
        _stamp(kind).write_text(_wanted(kind))
    if kind == "dev":
        node_tools()


def link_checkout() -> None:
    """Make the checkout importable in .venv, as an editable install does (a .pth file),
    without running a build backend for it."""
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([str(PYTHON), "-c", code], check=True, capture_output=True, text=True)
    (Path(out.stdout.strip()) / "twineauthenticate-checkout.pth").write_text(f"{ROOT}\n")


def node_tools() -> None:
    """tfx-cli (packs the .vsix) from package-lock.json, when not installed yet."""
    installed = (ROOT / "node_modules" / ".package-lock.json").exists()
    if installed or not (ROOT / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm was not found: install Node.js (with npm) first.")
    say("Installing Node tools (tfx-cli) with npm")
    lock = (ROOT / "package-lock.json").exists()
    run(npm, "ci" if lock else "install", "--no-update-notifier", "--loglevel=error")


def lock() -> int:
    """Resolve requirements/*.txt anew from pyproject.toml (needs the network)."""
    tool = ROOT / "build" / "lock-tool"
    uv = tool / ("Scripts" if os.name == "nt" else "bin") / "uv"
    if not uv.exists():
        say(f"Installing {LOCK_TOOL} into {tool.relative_to(ROOT)}")
        shutil.rmtree(tool, ignore_errors=True)
        make_venv(tool)
        python = uv.parent / PYTHON.name
        run(python, "-m", "pip", "install", "-q", LOCK_TOOL)
    REQUIREMENTS.mkdir(exist_ok=True)
    common = ["pip", "compile", "pyproject.toml", "--universal", "--python-version", LOCK_PYTHON]
    common += ["--generate-hashes", "--custom-compile-command", "python3 tools/dev.py lock", "-q"]
    say("Resolving requirements/dev.txt")
    run(uv, *common, "--extra", "dev", "--upgrade", "-o", LOCKS["dev"])
    say("Resolving requirements/demo.txt (the same versions as dev.txt)")
    run(uv, *common, "--extra", "demo", "-c", LOCKS["dev"], "-o", LOCKS["demo"])
    options = common[3:]
    options[options.index(LOCK_PYTHON)] = PUBLISHERS_PYTHON
    lock_publishers(uv, options)
    return 0


def lock_publishers(uv: Path, options: list[str]) -> None:
    """requirements/publishers/<tool>.txt: each publisher of tools/publishers.txt (the
    next-step tests install each in its own venv) with every dependency, hashed."""
    folder = REQUIREMENTS / "publishers"
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("*.txt"):
        stale.unlink()
    for line in PUBLISHERS.read_text(encoding="utf-8").splitlines():
        wanted = line.split("#", 1)[0].split()
        if not wanted:
            continue
        tool = wanted[0].partition("==")[0]
        say(f"Resolving requirements/publishers/{tool}.txt")
        source = ROOT / "build" / f"publisher-{tool}.in"
        source.write_text("\n".join(wanted) + "\n", encoding="utf-8")
        run(uv, "pip", "compile", source, *options, "-o", folder / f"{tool}.txt")
        source.unlink()


def in_venv(*args: str) -> int:
    """Run the venv's Python, or the venv's script named by the first argument."""
    env = dict(quiet_env(), PYTHONPATH=str(ROOT))
    command = [str(PYTHON), *args]
    if args and args[0].isidentifier() and (BIN / args[0]).exists():
        command = [str(BIN / args[0]), *args[1:]]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def test(extra: list[str]) -> int:
    setup("dev")
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
        say(title)
        if in_venv(*args) != 0:
            failed.append(title)
    say("failed: " + ", ".join(failed) if failed else "all checks passed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "setup":
        setup("dev")
        return 0
    if command == "test":
        return test(argv[1:])
    if command == "demo":
        setup("demo")
        return in_venv(str(ROOT / "tools" / "demo.py"), *argv[1:])
    if command == "lock":
        return lock()
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
