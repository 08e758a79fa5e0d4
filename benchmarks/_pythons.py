"""The other CPython versions the task supports, to start the shipped bundle with.

The bundle ships bytecode for the Python that built it; an agent with another version
ignores it and compiles what it imports. The cold runs start the bundle with each other
installed CPython 3.9-3.13 alone on PATH, to show what that costs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MINORS = range(9, 14)  # CPython 3.9 to 3.13
PROBE = (
    "import sys; print(sys.implementation.name, "
    "'%d.%d.%d' % tuple(sys.version_info[:3]), sys.executable)"
)


@dataclass(frozen=True)
class OtherPython:
    version: str  # e.g. "3.9.18"
    executable: Path  # the interpreter itself, not a shim
    path_dir: Path  # a folder holding only this interpreter as python3, and node


def _version_key(path: Path) -> tuple[int, ...]:
    """``3.9.18`` in ``.../versions/3.9.18/bin/python3.9`` as numbers, for sorting."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))


def _pyenv_root() -> Path | None:
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    proc = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30)
    root = proc.stdout.strip()
    return Path(root) if proc.returncode == 0 and root else None


def _probe(candidate: str, minor: int) -> tuple[str, Path] | str:
    """(version, real executable) of a CPython 3.``minor``, or why it is not one."""
    try:
        proc = subprocess.run(
            [candidate, "-I", "-S", "-c", PROBE], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{candidate} does not start: {error}"
    parts = proc.stdout.split(maxsplit=2)
    if proc.returncode != 0 or len(parts) != 3:
        return f"{candidate} does not start: {proc.stderr.strip()[-200:]}"
    name, version, executable = parts
    if name != "cpython" or not version.startswith(f"3.{minor}."):
        return f"{candidate} is {name} {version}, not CPython 3.{minor}"
    return version, Path(executable.strip())


def find_python(minor: int, pyenv_root: Path | None) -> tuple[str, Path] | str:
    """CPython 3.``minor``: the newest under ``$(pyenv root)/versions``, else on PATH."""
    name = f"python3.{minor}"
    candidates: list[str] = []
    if pyenv_root is not None:
        found = (pyenv_root / "versions").glob(f"3.{minor}.*/bin/{name}")
        candidates += [str(path) for path in sorted(found, key=_version_key, reverse=True)]
    on_path = shutil.which(name)
    if on_path is not None:
        candidates.append(on_path)  # may be a shim: the probe gives the real interpreter
    if not candidates:
        where = f"{pyenv_root}/versions/3.{minor}.*/bin/{name}" if pyenv_root else "no pyenv"
        return f"not found ({where}; no {name} on PATH)"
    reasons = []
    for candidate in candidates:
        result = _probe(candidate, minor)
        if not isinstance(result, str):
            return result
        reasons.append(result)
    return "; ".join(reasons)


def other_pythons(builder: Sequence[int], node: str, into: Path) -> list[OtherPython]:
    """Every installed CPython 3.9-3.13 but the builder's, each in a PATH folder of its own."""
    pyenv_root = _pyenv_root()
    found = []
    for minor in MINORS:
        if (3, minor) == tuple(builder[:2]):
            continue
        result = find_python(minor, pyenv_root)
        if isinstance(result, str):
            print(f"cold runs: Python 3.{minor} left out: {result}", file=sys.stderr)
            continue
        version, executable = result
        folder = into / f"python3.{minor}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "python3").symlink_to(executable)
        (folder / "node").symlink_to(node)
        found.append(OtherPython(version, executable, folder))
    return found
