"""What the benchmark runs on: the paths, the bundles, the interpreter, the machine."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import Tls

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
MEASURE = HERE / "measure.py"
NOTES = HERE / "notes.md"
DOCS = ROOT / "docs" / "benchmarks.md"
README = ROOT / "README.md"
TASK_NAME = "TwineAuthenticate"


@dataclass(frozen=True)
class Setup:
    node: str
    python_bin: Path
    base_env: dict[str, str]
    tls: Tls
    agent_temp: Path


def build_bundles(out: Path) -> tuple[Path, Path]:
    """The plain and the precompiled bundle: (plain out dir, compiled out dir)."""
    plain, compiled = out / "bundle", out / "bundle-compiled"
    for folder, extra in ((plain, ["--no-compile"]), (compiled, ["--compile"])):
        cmd = [sys.executable, str(ROOT / "tools" / "package.py"), "--out", str(folder)]
        proc = subprocess.run([*cmd, "--no-vsix", *extra], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"tools/package.py failed:\n{proc.stdout}{proc.stderr}")
    return plain, compiled


def clean_python(out: Path) -> Path:
    """A venv without pip or site-packages; returns its bin folder."""
    venv = out / "python"
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / ("Scripts" if os.name == "nt" else "bin")


def idle_copy(bundle: Path, into: Path) -> Path:
    """A copy of the bundle whose bootstrap.py does nothing: the launcher's own cost."""
    copy = into / TASK_NAME
    shutil.copytree(bundle, copy)
    (copy / "bootstrap.py").write_text("", encoding="utf-8")
    return copy


def bundle_contents(zip_path: Path) -> dict[str, Any]:
    """Sizes of the zip: in total, per top-level part, and its largest files."""
    with zipfile.ZipFile(zip_path) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
    groups: dict[str, list[int]] = {}
    for info in infos:
        parts = info.filename.split("/")
        if parts[0] == "_vendor" and len(parts) > 2:
            key = "/".join(parts[:2])
        elif len(parts) > 1:
            key = parts[0]
        else:
            key = "(top-level files)"
        sizes = groups.setdefault(key, [0, 0, 0])
        sizes[0] += info.compress_size
        sizes[1] += info.file_size
        sizes[2] += 1
    top_groups = sorted(groups.items(), key=lambda kv: -kv[1][0])
    top_files = sorted(infos, key=lambda i: -i.compress_size)[:10]
    return {
        "zip_bytes": zip_path.stat().st_size,
        "files": len(infos),
        "unpacked_bytes": sum(i.file_size for i in infos),
        "groups": [(k, v[0], v[1], v[2]) for k, v in top_groups],
        "top_files": [(i.filename, i.compress_size, i.file_size) for i in top_files],
    }


def machine() -> dict[str, str]:
    """CPU, cores, memory and OS, as the docs show them."""

    def first(path: str, prefix: str) -> str:
        try:
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip() if ":" in line else line
        except OSError:
            pass
        return "?"

    memory = first("/proc/meminfo", "MemTotal")
    try:
        memory = f"{int(memory.split()[0]) / 1024 / 1024:.1f} GiB"
    except (ValueError, IndexError):
        pass
    os_name = first("/etc/os-release", "PRETTY_NAME").replace("PRETTY_NAME=", "").strip('"')
    return {
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": f"{os_name} ({platform.system()} {platform.release()}, {platform.machine()})",
    }


def version_of(command: Sequence[str]) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, check=True)
    return (proc.stdout or proc.stderr).strip()
