"""The bundle tools/package.py builds: what it holds, its zip, the vendored
dependencies, bytecode with --compile, the .vsix, and the icon."""

from __future__ import annotations

import ast
import json
import struct
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

from tests.agent_harness import build_bundle
from tests.harness_fixtures import task_bundle_fixture  # noqa: F401 (fixture)
from tests.helpers import load_tool

ROOT = Path(__file__).resolve().parent.parent
VENDORED = {"requests", "urllib3", "idna", "certifi", "charset_normalizer"}
TOP_LEVEL = {
    "task.json",
    "task.loc.json",
    "index.js",
    "cleanup.js",
    "launcher.js",
    "bootstrap.py",
    "icon.png",
    "Strings",
    "twineauthenticate",
    "_vendor",
}
ZIP_TARGET = 1_500_000
TFX = ROOT / "node_modules" / ".bin" / "tfx"


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())



CULTURES: tuple[str, ...] = load_tool("localize").CULTURES


def run_package(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(ROOT / "tools" / "package.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_bundle_holds_the_task_and_nothing_else(task_bundle: Path) -> None:
    assert {p.name for p in task_bundle.iterdir()} == TOP_LEVEL
    names = files(task_bundle)
    assert not [n for n in names if "/emulator/" in n or n.startswith("twineauthenticate/tests")]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyi"))]
    assert not [n for n in names if ".dist-info" in n or "/tests/" in n]
    package = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "twineauthenticate").rglob("*.py")
        if "emulator" not in p.parts
    )
    assert [n for n in names if n.startswith("twineauthenticate/") and n.endswith(".py")] == package
    for name in ("task.json", "task.loc.json", "launcher.js", "bootstrap.py"):
        assert (task_bundle / name).read_bytes() == (ROOT / name).read_bytes()
    strings = sorted(n for n in names if n.startswith("Strings/"))
    assert strings == [f"Strings/resources.resjson/{c}/resources.resjson" for c in sorted(CULTURES)]
    for name in strings:
        assert (task_bundle / name).read_bytes() == (ROOT / name).read_bytes()


def test_vendored_dependencies_and_their_licenses(task_bundle: Path) -> None:
    vendor = task_bundle / "_vendor"
    assert {p.name for p in vendor.iterdir()} == VENDORED | {"licenses"}
    licensed = {p.name.split("-")[0] for p in (vendor / "licenses").iterdir()}
    assert licensed == VENDORED
    for folder in (vendor / "licenses").iterdir():
        assert any(f.is_file() and f.stat().st_size > 100 for f in folder.iterdir()), folder


def test_vendored_requests_imports_without_any_site_packages(task_bundle: Path) -> None:
    """-I -S: no site-packages, so only the vendored copies can be found (-B: no .pyc
    written into the shared bundle)."""
    vendor = task_bundle / "_vendor"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import requests, urllib3, idna, certifi, charset_normalizer; "
        "print('\\n'.join(m.__file__ for m in (requests, urllib3, idna, certifi, "
        "charset_normalizer))); print(certifi.where())"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code, str(vendor)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    for line in proc.stdout.splitlines():
        assert Path(line).resolve().is_relative_to(vendor.resolve()), line


def test_zip_is_the_folder_small_and_reproducible(task_bundle: Path, tmp_path: Path) -> None:
    archive = task_bundle.parent.parent / "TwineAuthenticate.zip"
    if not archive.exists():
        pytest.skip("the bundle under test was not built with its zip")
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == files(task_bundle)
        assert zipped.testzip() is None
    assert archive.stat().st_size <= ZIP_TARGET
    again = build_bundle(tmp_path / "dist").parent.parent / "TwineAuthenticate.zip"
    assert again.read_bytes() == archive.read_bytes()


def test_pinned_wheels_support_python_3_9(task_bundle: Path) -> None:
    specifiers = pytest.importorskip("packaging.specifiers")
    tool = load_tool("package")
    pins = tool.read_pins()
    assert {tool.normalize(p.name) for p in pins} == VENDORED
    for wheel in tool.ensure_wheels(pins):
        assert wheel.name.endswith("-py3-none-any.whl") or wheel.name.endswith(
            "-py2.py3-none-any.whl"
        )
        with zipfile.ZipFile(wheel) as zipped:
            (metadata,) = [n for n in zipped.namelist() if n.endswith(".dist-info/METADATA")]
            headers = HeaderParser().parsestr(zipped.read(metadata).decode("utf-8"))
        requires = headers.get("Requires-Python") or ""
        assert specifiers.SpecifierSet(requires).contains("3.9.0"), (wheel.name, requires)


def test_bootstrap_parses_on_old_pythons() -> None:
    source = (ROOT / "bootstrap.py").read_text(encoding="ascii")
    ast.parse(source, feature_version=(3, 4))  # no f-strings, annotations, walrus...
    assert "TOO_OLD = 87" in source


def test_compile_ships_unchecked_hash_bytecode(tmp_path: Path) -> None:
    proc = run_package("--out", str(tmp_path / "dist"), "--no-vsix", "--compile")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    task = tmp_path / "dist" / "task" / "TwineAuthenticate"
    tag = sys.implementation.cache_tag
    sources = [p for p in task.rglob("*.py") if p.parent != task]
    assert len(sources) > 50
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert pyc.is_file(), source
        (flags,) = struct.unpack("<I", pyc.read_bytes()[4:8])
        assert flags == 0b01, pyc  # hash-based, source not checked
    with zipfile.ZipFile(tmp_path / "dist" / "TwineAuthenticate.zip") as zipped:
        assert any(n.endswith(f".{tag}.pyc") for n in zipped.namelist())


@pytest.mark.skipif(not TFX.exists(), reason="tfx-cli is not installed (npm ci)")
def test_vsix_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    proc = run_package("--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    task = json.loads((ROOT / "task.json").read_text(encoding="utf-8"))
    version = "{Major}.{Minor}.{Patch}".format(**task["version"])
    vsix = out / f"twineauthenticate.twineauthenticate-task-{version}.vsix"
    assert vsix.is_file()
    with zipfile.ZipFile(vsix) as zipped:
        names = set(zipped.namelist())
        contributions = json.loads(zipped.read("extension.vsomanifest"))["contributions"]
        packed_task = json.loads(zipped.read("task/TwineAuthenticate/task.json"))
    assert {"extension.vsixmanifest", "images/extension-icon.png"} <= names
    assert "task/TwineAuthenticate/_vendor/requests/__init__.py" in names
    assert contributions[0]["properties"]["name"] == "task/TwineAuthenticate"
    assert packed_task["id"] == task["id"]
    summary = proc.stdout
    count = len(files(out / "task" / "TwineAuthenticate"))
    assert f"{count} files, " in summary
    assert "unpacked" in summary and "largest parts:" in summary and "largest files:" in summary
    assert f"{vsix}: " in summary
    assert "within the 1.50 MB target" in summary


def test_icon_is_the_generated_one() -> None:
    make_icon = load_tool("make_icon")
    data = (ROOT / "icon.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (32, 32)
    assert make_icon.icon_png(32) == data


def test_package_refuses_a_bad_vendor_line(tmp_path: Path) -> None:
    tool = load_tool("package")
    bad = tmp_path / "vendor.txt"
    bad.write_text("requests>=2\n")
    with pytest.raises(tool.PackageError, match="expected name==version --hash=sha256"):
        tool.read_pins(bad)
