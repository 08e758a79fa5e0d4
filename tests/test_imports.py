"""What the task loads: no network stack unless it makes a request, nothing at import.

Each check runs a fresh interpreter (``-I``), so ``sys.modules`` and the audit
events are those of a real run, not of the test process; ``-B``, because ``-I``
ignores PYTHONDONTWRITEBYTECODE and writing bytecode opens files too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import BUILD_TOKEN
from tests.helpers import ROOT, base_env, build_token_env, connection_env
from twineauthenticate.commands import parse_output

PACKAGE = ROOT / "twineauthenticate"
NETWORK = ("requests", "urllib3", "socket", "ssl", "http.client", "twineauthenticate._http")
# Slow to import, and needed by nothing a run without flags does. Allowed only when
# the standard library modules the task needs load them anyway (e.g. on another Python).
HEAVY = ("argparse", "dataclasses", "inspect", "secrets", "traceback", "typing")
STDLIB_NEEDED = "import configparser, json, os, pathlib, re, stat, string"

RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from twineauthenticate.cli import main
code = main([])
with open(sys.argv[2], "w") as out:
    json.dump(sorted(sys.modules), out)
sys.exit(code)
"""

IMPORT_ONLY = """
import json, os, sys, traceback
root, report, *names = sys.argv[1:]
events = []

def audit(event, args):
    if event == "open":
        path = args[0]
        if isinstance(path, (str, bytes)):
            events.append(["open", os.fsdecode(path)])
        else:  # a file descriptor: say who opened it
            events.append(["open", f"<{path!r}> " + "".join(traceback.format_stack(limit=8))])
    elif event.startswith("socket."):
        events.append([event, repr(args)[:200]])

sys.addaudithook(audit)
import socket

def refuse(*args, **kwargs):
    raise OSError("network access while importing the task")

class RefusedSocket(socket.socket):  # a class: ssl subclasses socket.socket
    def __init__(self, *args, **kwargs):
        refuse()

socket.socket = RefusedSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.path.insert(0, root)
import importlib
for name in names:
    importlib.import_module(name)
mine = list(events)
with open(report, "w") as out:
    json.dump({"events": mine, "modules": sorted(sys.modules)}, out)
"""


def modules_after(code: str, env: dict[str, str], tmp_path: Path, *args: str) -> list[str]:
    report = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-I", "-B", "-c", code, str(ROOT), str(report), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    done = [c for c in parse_output(proc.stdout) if c.command == "task.complete"]
    assert [c.properties.get("result") for c in done] == ["Succeeded"], proc.stdout
    modules: list[str] = json.loads(report.read_text())
    return modules


def test_a_run_with_only_service_connections_loads_no_network_code(tmp_path: Path) -> None:
    agent_temp = tmp_path / "agent-temp"
    agent_temp.mkdir()
    env = base_env(
        AGENT_TEMPDIRECTORY=str(agent_temp),
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI="https://dev.azure.com/contoso/",
        SYSTEM_SERVERTYPE="Hosted",
        INPUT_PYTHONUPLOADSERVICECONNECTION="c-1,c-2",
        **build_token_env(BUILD_TOKEN, "https://dev.azure.com/contoso/"),
        **connection_env(
            "c-1", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken="pypi-token-1"
        ),
        **connection_env(
            "c-2",
            "https://ext.example/upload",
            "ext",
            "UsernamePassword",
            username="user-2",
            password="password-2",
        ),
    )
    loaded = set(modules_after(RUN, env, tmp_path))
    assert "twineauthenticate.task" in loaded  # it did run
    assert [m for m in NETWORK if m in loaded] == []
    assert not any(m.startswith(("requests.", "urllib3.")) for m in loaded)

    baseline = set(modules_after_stdlib(env, tmp_path))
    assert [m for m in HEAVY if m in loaded and m not in baseline] == []


def modules_after_stdlib(env: dict[str, str], tmp_path: Path) -> list[str]:
    code = f"{STDLIB_NEEDED}; import json, sys; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    modules: list[str] = json.loads(proc.stdout)
    return modules


def test_importing_the_package_is_offline_and_reads_only_its_own_files(tmp_path: Path) -> None:
    names = sorted(
        f"twineauthenticate.{p.stem}" if p.stem != "__init__" else "twineauthenticate"
        for p in PACKAGE.glob("*.py")
        if p.stem != "__main__"  # runs the task when imported
    )
    assert "twineauthenticate.task" in names and "twineauthenticate.federation" in names
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-I", "-B", "-c", IMPORT_ONLY, str(ROOT), str(report), *names],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    data = json.loads(report.read_text())
    assert [e for e in data["events"] if e[0] != "open"] == []
    allowed = {
        os.path.realpath(p)
        for p in (
            PACKAGE,
            sysconfig.get_paths()["stdlib"],
            sysconfig.get_paths()["platstdlib"],
            os.path.dirname(os.__file__),
        )
    }
    opened = {
        path if path.startswith("<") else os.path.realpath(path)
        for kind, path in data["events"]
        if kind == "open"
    }
    outside = sorted(
        path
        for path in opened
        if not any(path == root or path.startswith(root + os.sep) for root in allowed)
    )
    assert outside == []
    assert any(path.startswith(str(PACKAGE.resolve())) for path in opened)
    assert [m for m in data["modules"] if m.split(".")[0] in ("requests", "urllib3")] == []
