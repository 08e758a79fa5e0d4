"""Build the task folder, its zip and the extension.

    python3 tools/package.py [--out dist] [--no-compile] [--no-vsix]

Writes, under --out (default dist/):
  task/TwineAuthenticate/     the folder the agent downloads: task.json, task.loc.json, the
                              Node entry scripts, bootstrap.py, icon.png, Strings/ (the ten
                              cultures of tools/localize.py), the twineauthenticate
                              package (without emulator/), and _vendor/ with requests and its
                              dependencies unpacked from the pure-Python wheels of tools/vendor.txt
  TwineAuthenticate.zip       that folder zipped (for tfx build tasks upload --task-zip-path)
  <publisher>.<id>-<version>.vsix
                              the extension, packed by tfx-cli from vss-extension.json
                              (tfx-cli is installed into node_modules/ from package-lock.json)

The bundle ships bytecode (unchecked-hash .pyc) for the Python running this script, so the
first run on an agent with that Python version need not compile (hosted agents start every
job from a fresh task folder); other versions ignore it. --no-compile leaves it out.
Wheels are cached in build/wheels.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import importlib.util
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
TASK_NAME = "TwineAuthenticate"
TASK_FILES = (
    "task.json",
    "task.loc.json",
    "index.js",
    "cleanup.js",
    "launcher.js",
    "bootstrap.py",
    "icon.png",
)
TASK_TREES = ("Strings",)
PACKAGE = "twineauthenticate"
PACKAGE_EXCLUDED = {"emulator", "tests", "__pycache__"}
VENDOR_TXT = ROOT / "tools" / "vendor.txt"
WHEEL_CACHE = ROOT / "build" / "wheels"
PIP_VENV = ROOT / "build" / "pip-venv"  # only when the running Python has no pip
MANIFEST = ROOT / "vss-extension.json"
PIP_TARGET = [
    "--only-binary=:all:",
    "--platform",
    "any",
    "--implementation",
    "py",
    "--python-version",
    "3.9",
    "--no-deps",
]
ZIP_TARGET = 1_500_000
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
LICENSE_NAME = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


class PackageError(Exception):
    """A build step failed; the message says what to do."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...]

    @property
    def key(self) -> str:
        return normalize(self.name)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def read_pins(path: Path = VENDOR_TXT) -> list[Pin]:
    """The ``name==version --hash=sha256:...`` lines of vendor.txt."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    pins = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})+)\s*$", line)
        if match is None:
            expected = "name==version --hash=sha256:..."
            raise PackageError(f"{path}: cannot read {line!r}; expected {expected}")
        hashes = tuple(re.findall(r"sha256:([0-9a-f]{64})", match.group(3)))
        pins.append(Pin(match.group(1), match.group(2), hashes))
    return pins


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_wheel(pin: Pin, cache: Path) -> Path | None:
    for wheel in sorted(cache.glob("*.whl")) if cache.is_dir() else []:
        name, version = wheel.name.split("-")[:2]
        if normalize(name) == pin.key and version == pin.version and sha256(wheel) in pin.hashes:
            return wheel
    return None


def pip_command() -> list[str]:
    """pip of the Python running this script, else of a small venv made for it.

    A Python with only its standard library (Debian's without python3-pip, a venv
    made without pip) has no pip module, but ``venv`` brings pip from ``ensurepip``.
    """
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    python = PIP_VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        shutil.rmtree(PIP_VENV, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-m", "venv", str(PIP_VENV)], capture_output=True, text=True
        )
        if proc.returncode != 0 or not python.exists():
            shutil.rmtree(PIP_VENV, ignore_errors=True)
            raise PackageError(
                f"{sys.executable} has no pip and cannot make a venv with one (install"
                " python3-pip or python3-venv):\n" + proc.stdout + proc.stderr
            )
    return [str(python), "-m", "pip"]


def ensure_wheels(pins: Sequence[Pin], cache: Path = WHEEL_CACHE) -> list[Path]:
    """The wheel of every pin, downloaded with pip (hash-checked) unless cached."""
    if any(cached_wheel(pin, cache) is None for pin in pins):
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [*pip_command(), "download", "--disable-pip-version-check", "-q"]
            cmd += ["--require-hashes", *PIP_TARGET, "-d", tmp, "-r", str(VENDOR_TXT)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise PackageError("pip download failed:\n" + proc.stdout + proc.stderr)
            for wheel in Path(tmp).glob("*.whl"):
                shutil.move(str(wheel), cache / wheel.name)
    wheels = []
    for pin in pins:
        found = cached_wheel(pin, cache)
        if found is None:
            raise PackageError(f"no wheel of {pin.name}=={pin.version} with the hash in vendor.txt")
        wheels.append(found)
    return wheels


def vendored_path(member: str) -> str | None:
    """Where a wheel member goes under _vendor/, or None to leave it out.

    Code and data stay; *.dist-info is dropped except its license files, which go
    to licenses/<distribution>/; tests, bytecode and type stubs are dropped.
    """
    parts = PurePosixPath(member).parts
    if not parts or member.endswith("/"):
        return None
    if parts[0].endswith(".dist-info"):
        if LICENSE_NAME.search(parts[-1]):
            dist = parts[0][: -len(".dist-info")]
            return str(PurePosixPath("licenses", dist, parts[-1]))
        return None
    if parts[0].endswith(".data"):
        return None
    if any(p in {"tests", "test", "__pycache__"} for p in parts[:-1]):
        return None
    if parts[-1].endswith((".pyc", ".pyi")):
        return None
    return member


def unpack_wheels(wheels: Iterable[Path], vendor: Path) -> None:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                target = vendored_path(member)
                if target is None:
                    continue
                dest = vendor / target
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(archive.read(member))


def copy_task(task_dir: Path) -> None:
    for name in TASK_FILES:
        shutil.copyfile(ROOT / name, task_dir / name)
    for tree in TASK_TREES:
        shutil.copytree(ROOT / tree, task_dir / tree)

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == ROOT / PACKAGE
        return {
            n
            for n in names
            if n == "__pycache__" or n.endswith(".pyc") or (top and n in PACKAGE_EXCLUDED)
        }

    shutil.copytree(ROOT / PACKAGE, task_dir / PACKAGE, ignore=ignore)


def compile_bytecode(task_dir: Path) -> None:
    """Unchecked-hash .pyc: valid whatever the file times become after unzipping."""
    for folder in (task_dir / PACKAGE, task_dir / "_vendor"):
        ok = compileall.compile_dir(
            str(folder),
            quiet=1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise PackageError(f"could not compile {folder}")


def bundle_files(task_dir: Path) -> list[Path]:
    return sorted(p for p in task_dir.rglob("*") if p.is_file())


def write_zip(task_dir: Path, zip_path: Path) -> None:
    """A reproducible zip with task.json at its root."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in bundle_files(task_dir):
            info = zipfile.ZipInfo(path.relative_to(task_dir).as_posix(), ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, path.read_bytes())


def task_version() -> str:
    version = json.loads((ROOT / "task.json").read_text(encoding="utf-8-sig"))["version"]
    return f"{version['Major']}.{version['Minor']}.{version['Patch']}"


def tfx_command() -> list[str]:
    """tfx from node_modules, installed from package-lock.json when missing."""
    binary = ROOT / "node_modules" / ".bin" / ("tfx.cmd" if os.name == "nt" else "tfx")
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise PackageError("npm is needed to install tfx-cli (or pass --no-vsix)")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not binary.exists():
            raise PackageError("npm ci (tfx-cli) failed:\n" + proc.stdout + proc.stderr)
    return [str(binary)]


def extension_icon() -> bytes:
    """The icon at 128 px, the size the Marketplace shows, drawn by make_icon.py."""
    spec = importlib.util.spec_from_file_location("make_icon", ROOT / "tools" / "make_icon.py")
    if spec is None or spec.loader is None:
        raise PackageError("tools/make_icon.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data: bytes = module.icon_png(128)
    return data


def build_vsix(out: Path) -> Path:
    """Pack the extension with tfx-cli; the manifest's paths are relative to ``out``."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    if manifest["version"] != task_version():
        raise PackageError(
            f"vss-extension.json has version {manifest['version']}, task.json {task_version()}:"
            " make them the same"
        )
    images = out / "images"
    images.mkdir(exist_ok=True)
    (images / "extension-icon.png").write_bytes(extension_icon())
    shutil.copyfile(MANIFEST, out / MANIFEST.name)
    name = f"{manifest['publisher']}.{manifest['id']}-{manifest['version']}.vsix"
    cmd = [*tfx_command(), "extension", "create", "--root", str(out)]
    cmd += ["--manifest-globs", MANIFEST.name, "--output-path", str(out / name), "--no-prompt"]
    proc = subprocess.run(cmd, cwd=out, capture_output=True, text=True)
    vsix = out / name
    if proc.returncode != 0 or not vsix.exists():
        raise PackageError("tfx extension create failed:\n" + proc.stdout + proc.stderr)
    return vsix


def human(size: int) -> str:
    return f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.2f} MB"


def summary(task_dir: Path, zip_path: Path, vsix: Path | None) -> str:
    files = bundle_files(task_dir)
    sizes = {p.relative_to(task_dir).as_posix(): p.stat().st_size for p in files}
    groups: dict[str, int] = {}
    for rel, size in sizes.items():
        parts = rel.split("/")
        key = "/".join(parts[:2]) if parts[0] == "_vendor" and len(parts) > 2 else parts[0]
        groups[key] = groups.get(key, 0) + size
    zip_size = zip_path.stat().st_size
    verdict = "within" if zip_size <= ZIP_TARGET else "OVER"
    lines = [
        f"{task_dir}: {len(files)} files, {human(sum(sizes.values()))} unpacked",
        f"{zip_path}: {human(zip_size)} ({verdict} the {human(ZIP_TARGET)} target)",
    ]
    if vsix is not None:
        lines.append(f"{vsix}: {human(vsix.stat().st_size)}")
    lines.append("largest parts:")
    for key, size in sorted(groups.items(), key=lambda kv: -kv[1])[:8]:
        lines.append(f"  {human(size):>10}  {key}")
    lines.append("largest files:")
    for key, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:5]:
        lines.append(f"  {human(size):>10}  {key}")
    return "\n".join(lines)


def build(out: Path, compile_: bool = False, vsix: bool = True) -> Path:
    """Build everything under ``out``; returns the task folder."""
    out.mkdir(parents=True, exist_ok=True)
    task_dir = out / "task" / TASK_NAME
    zip_path = out / f"{TASK_NAME}.zip"
    shutil.rmtree(task_dir, ignore_errors=True)
    shutil.rmtree(out / "images", ignore_errors=True)
    for stale in [zip_path, out / MANIFEST.name, *out.glob("*.vsix")]:
        stale.unlink(missing_ok=True)
    task_dir.mkdir(parents=True)
    copy_task(task_dir)
    unpack_wheels(ensure_wheels(read_pins()), task_dir / "_vendor")
    if compile_:
        compile_bytecode(task_dir)
    write_zip(task_dir, zip_path)
    vsix_path = build_vsix(out) if vsix else None
    print(summary(task_dir, zip_path, vsix_path))
    return task_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the task bundle, its zip and the .vsix.")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (dist/)")
    parser.add_argument(
        "--compile",
        action="store_true",
        default=True,
        help="ship .pyc for the Python running this script (the default)",
    )
    parser.add_argument(
        "--no-compile", dest="compile", action="store_false", help="ship no bytecode"
    )
    parser.add_argument("--no-vsix", action="store_true", help="skip the extension (no npm)")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve(), compile_=args.compile, vsix=not args.no_vsix)
    except PackageError as err:
        print(f"package.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
