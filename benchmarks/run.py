#!/usr/bin/env python3
"""What one run of TwineAuthenticate@1 costs, started the way the agent starts it.

    python3 benchmarks/run.py [--runs 10] [--latency 0 --latency 50] [--write-docs]

1. Builds the task bundle with ``tools/package.py`` twice (plain, and ``--compile``
   with bytecode for this Python) in a temporary folder.
2. Makes a Python without site-packages (a venv without pip) and puts it first on
   PATH, so that the launcher finds it as ``python3``, the way a hosted agent's
   PATH has one interpreter, and nothing the machine's own site-packages load
   (``.pth`` files) is counted.
3. Starts the emulator in this process (Services, Server, Services over TLS for
   the federated feed) and measures, for every case, ``node index.js`` of the
   bundle with the agent's environment only (the agent path) and
   ``python -m twineauthenticate`` (the CLI path), round-robin with the floor
   (``node -e 0`` and ``python -c pass``): one warm-up round, then ``--runs``
   measured rounds, at every ``--latency`` (ms added to each emulator answer).
   Two more rows split the launcher's cost: ``node`` spawning ``python3 -I -S -c
   pass``, and ``node index.js`` with an empty ``bootstrap.py``.
   Each measured process runs under ``measure.py``, a fresh wrapper process that
   reports wall time and its own ``RUSAGE_CHILDREN`` (CPU of the whole process
   tree, peak RSS of its largest process).
4. Cold: every run from a freshly unpacked ``TwineAuthenticate.zip`` (no
   ``__pycache__``, as on a hosted agent's first step), with and without the
   precompiled bytecode.
5. Silent server: the emulator accepts every connection and never answers; the
   task must fail within its documented bound (``_http.DEADLINE``).

Prints the tables, keeps the raw numbers in ``benchmarks/results/latest.json``,
and with ``--write-docs`` rewrites ``docs/benchmarks.md``. Linux (``ru_maxrss`` in
KiB); needs ``node`` and ``trustme`` (the dev extra).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import build_token_env, connection_env  # noqa: E402
from tests.test_reliability_helpers import Tls, make_tls  # noqa: E402
from twineauthenticate._http import ATTEMPTS, CONNECT_TIMEOUT, DEADLINE, READ_TIMEOUT  # noqa: E402
from twineauthenticate.commands import parse_output  # noqa: E402
from twineauthenticate.emulator import Emulator, Feed  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MEASURE = HERE / "measure.py"
DOCS = ROOT / "docs" / "benchmarks.md"
README = ROOT / "README.md"
README_START = "<!-- benchmarks: written by benchmarks/run.py --write-docs -->"
README_END = "<!-- end of benchmarks -->"
TASK_NAME = "TwineAuthenticate"
FRESH_ENTRY = "<fresh bundle>/index.js"  # replaced by the entry script of the unpacked copy

TOKEN = "bench-build-token-5b8e2c"
PYPI_TOKEN = "pypi-bench-AgEIcHlwaS5vcmc"
WIF_CONNECTION = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
WIF_CLIENT = "0f1e2d3c-4b5a-4697-8877-665544332211"
WIF_TENANT = "99999999-8888-7777-6666-555555555555"
TEN_FEEDS = [Feed(f"Feed{i}") for i in range(5)] + [
    Feed(f"Feed{i}", project="Team Project") for i in range(5, 10)
]

# Targets of the issue.
FLOOR_RATIO_TARGET = 1.15  # agent path, warm, connection only
FEED_OVERHEAD_MS = 90.0  # one feed on Services: floor + 2 x latency + this
COLD_RATIO_TARGET = 1.5
ZIP_TARGET = 1_500_000
PYTHON_RSS_TARGET_MIB = 35.0
SILENT_ALLOWANCE = 2.0  # s beyond the deadline for start-up and the failure report
# What the launcher cannot avoid: start node, spawn the interpreter (with the
# launcher's flags), wait for it.
SPAWN_ONLY = (
    "require('child_process').spawn(process.argv[1], ['-I', '-S', '-c', 'pass'],"
    " {stdio: 'inherit'})"
)
EXPECTED_REQUESTS = {
    "services-feed": 2,
    "project-feed": 2,
    "server-feed": 1,
    "connection": 0,
    "ten-feeds": 2,
    "federated": 3,
}


# -- measuring ----------------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    cpu: float
    maxrss_kib: int
    returncode: int
    requests: int | None
    ok: bool


@dataclass
class Case:
    """One command measured repeatedly: a scenario on one path, or a floor process."""

    key: str
    label: str
    command: list[str]
    env: dict[str, str]
    emulator: Emulator | None = None
    expect: str | None = "Succeeded"  # the task.complete result; None for floor processes
    fresh_bundle: Path | None = None  # cold: unpack this zip before every run
    samples: list[Sample] = field(default_factory=list)
    pyc_written: list[int] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        walls = [s.wall * 1000 for s in self.samples]
        cpus = [s.cpu * 1000 for s in self.samples]
        rss = [s.maxrss_kib / 1024 for s in self.samples]
        requests = sorted({s.requests for s in self.samples if s.requests is not None})
        return {
            "key": self.key,
            "label": self.label,
            "runs": len(self.samples),
            "ok": all(s.ok for s in self.samples),
            "wall_ms": _spread(walls),
            "cpu_ms": _spread(cpus),
            "rss_mib": _spread(rss),
            "walls_ms": walls,
            "requests": requests,
            "pyc_written": sorted(set(self.pyc_written)),
        }


def _spread(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure(case: Case, workdir: Path, timeout: float) -> Sample:
    """One run of ``case`` under a fresh ``measure.py`` process."""
    output = workdir / "stdout.txt"
    command = case.command
    env = case.env
    bundle: Path | None = None
    if case.fresh_bundle is not None:
        bundle = unpack(case.fresh_bundle, workdir / "fresh")
        command = [str(bundle / "index.js") if part == FRESH_ENTRY else part for part in command]
    before = _pyc_files(bundle) if bundle is not None else set()
    if case.emulator is not None:
        case.emulator.clear_log()
    wrapper = [sys.executable, "-I", "-S", str(MEASURE), str(output), "--", *command]
    proc = subprocess.run(
        wrapper, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"measure.py failed for {case.label}: {proc.stderr}")
    report = json.loads(proc.stdout)
    requests = len(case.emulator.requests) if case.emulator is not None else None
    ok = report["returncode"] == 0
    if case.expect is not None:
        commands = parse_output(output.read_text(encoding="utf-8", errors="replace"))
        results = [c.properties.get("result") for c in commands if c.command == "task.complete"]
        ok = ok and results == [case.expect]
    if not ok:
        tail = output.read_text(errors="replace") + Path(f"{output}.err").read_text(
            errors="replace"
        )
        print(f"  ! {case.key}: unexpected outcome:\n{tail[-2000:]}", file=sys.stderr)
    if bundle is not None:
        case.pyc_written.append(len(_pyc_files(bundle) - before))
        shutil.rmtree(bundle.parent)
    return Sample(
        report["wall"],
        report["user"] + report["sys"],
        int(report["maxrss_kib"]),
        report["returncode"],
        requests,
        ok,
    )


def _pyc_files(folder: Path) -> set[Path]:
    return set(folder.rglob("*.pyc"))


def unpack(zip_path: Path, into: Path) -> Path:
    """Unzip the bundle into a new folder, keeping the entries' times as the agent does."""
    if into.exists():
        shutil.rmtree(into)
    target = into / TASK_NAME
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, target))
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(path, (stamp, stamp))
    return target


def run_rounds(
    cases: Sequence[Case], runs: int, warmup: int, workdir: Path, timeout: float
) -> None:
    """Every case once per round, in the same order, so that drift hits all alike."""
    for index in range(warmup + runs):
        for case in cases:
            sample = measure(case, workdir, timeout)
            if index >= warmup:
                case.samples.append(sample)
        print(f"  round {index + 1}/{warmup + runs}", end="\r", file=sys.stderr, flush=True)
    print(file=sys.stderr)


# -- set-up ---------------------------------------------------------------------------------


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


@dataclass
class Emulators:
    services: Emulator
    server: Emulator
    federation: Emulator

    def all(self) -> list[Emulator]:
        return [self.services, self.server, self.federation]


@contextmanager
def emulators(tls: Tls) -> Iterator[Emulators]:
    with ExitStack() as stack:
        feeds = [Feed("MyFeed"), Feed("ProjFeed", project="My Project"), *TEN_FEEDS]
        services = stack.enter_context(Emulator(feeds=feeds, token=TOKEN))
        server = stack.enter_context(Emulator(feeds=[Feed("MyFeed")], token=TOKEN, mode="server"))
        federation = stack.enter_context(
            Emulator(
                feeds=[Feed("FedFeed", project="Other Project")],
                token=TOKEN,
                tls=(tls.cert, tls.key),
                service_connections={WIF_CONNECTION: WIF_CLIENT},
            )
        )
        yield Emulators(services, server, federation)


@dataclass(frozen=True)
class Setup:
    node: str
    python_bin: Path
    base_env: dict[str, str]
    tls: Tls
    agent_temp: Path


def job_env(setup: Setup, emu: Emulator, **extra: str) -> dict[str, str]:
    """The environment the agent gives the task in a job of ``emu``'s organization.

    Not tests.conftest.agent_env_for: its base environment sets PYTHONPATH and
    PYTHONDONTWRITEBYTECODE, which would change what is imported and make every
    run cold.
    """
    env = dict(setup.base_env)
    env.update(
        AGENT_TEMPDIRECTORY=str(setup.agent_temp),
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=emu.collection_url,
        SYSTEM_SERVERTYPE="Hosted" if emu.mode == "services" else "OnPremises",
        **build_token_env(TOKEN, emu.collection_url),
    )
    env.update(extra)
    return env


def scenarios(setup: Setup, emus: Emulators) -> dict[str, tuple[str, Emulator, dict[str, str]]]:
    """key -> (title, the emulator it talks to, the job's environment)."""
    services, server, fed = emus.services, emus.server, emus.federation
    pypi = connection_env(
        "bench-pypi", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken=PYPI_TOKEN
    )
    wif = connection_env(
        WIF_CONNECTION,
        "https://dev.azure.com/contoso/",
        "",
        "WorkloadIdentityFederation",
        serviceprincipalid=WIF_CLIENT,
        tenantid=WIF_TENANT,
    )
    wif[f"ENDPOINT_DATA_{WIF_CONNECTION}_ENVIRONMENTAUTHORITYURL"] = fed.authority_url
    ten = ",".join(f.name if f.project is None else f"{f.project}/{f.name}" for f in TEN_FEEDS)
    return {
        "services-feed": (
            "one organization feed, Services",
            services,
            job_env(setup, services, INPUT_ARTIFACTFEED="MyFeed"),
        ),
        "project-feed": (
            "one project feed, Services",
            services,
            job_env(setup, services, INPUT_ARTIFACTFEED="My Project/ProjFeed"),
        ),
        "server-feed": (
            "one feed, Server",
            server,
            job_env(setup, server, INPUT_ARTIFACTFEED="MyFeed"),
        ),
        "connection": (
            "one service connection only",
            services,
            job_env(setup, services, INPUT_PYTHONUPLOADSERVICECONNECTION="bench-pypi", **pypi),
        ),
        "ten-feeds": (
            "ten feeds at once, Services",
            services,
            job_env(setup, services, INPUT_ARTIFACTFEED=ten),
        ),
        "federated": (
            "one federated feed (TLS)",
            fed,
            job_env(
                setup,
                fed,
                AGENT_CAINFO=str(setup.tls.ca),
                SYSTEM_OIDCREQUESTURI=fed.oidc_request_uri,
                INPUT_WORKLOADIDENTITYSERVICECONNECTION=WIF_CONNECTION,
                INPUT_FEEDURL=fed.feed_upload_url("FedFeed", project="Other Project") + "/",
                **wif,
            ),
        ),
    }


def warm_cases(setup: Setup, emus: Emulators, bundle: Path, idle: Path) -> list[Case]:
    python = str(setup.python_bin / "python3")
    cases = [
        Case("floor-node", "node -e 0", [setup.node, "-e", "0"], setup.base_env, expect=None),
        Case("floor-python", "python -c pass", [python, "-c", "pass"], setup.base_env, expect=None),
        Case(
            "spawn",
            "`node` spawning `python3 -I -S -c pass` and waiting for it",
            [setup.node, "-e", SPAWN_ONLY, python],
            setup.base_env,
            expect=None,
        ),
        Case(
            "idle",
            "`node index.js` with a bootstrap.py that does nothing",
            [setup.node, str(idle / "index.js")],
            setup.base_env,
            expect=None,
        ),
    ]
    for key, (title, emu, env) in scenarios(setup, emus).items():
        cases.append(Case(f"agent:{key}", title, [setup.node, str(bundle / "index.js")], env, emu))
        cli_env = dict(env, PYTHONPATH=os.pathsep.join([str(bundle), str(bundle / "_vendor")]))
        cases.append(Case(f"cli:{key}", title, [python, "-m", "twineauthenticate"], cli_env, emu))
    return cases


def cold_cases(setup: Setup, emus: Emulators, plain_zip: Path, compiled_zip: Path) -> list[Case]:
    all_scenarios = scenarios(setup, emus)
    cases = []
    for key in ("connection", "services-feed"):
        title, emu, env = all_scenarios[key]
        for variant, zip_path in (("cold", plain_zip), ("cold-pyc", compiled_zip)):
            cases.append(
                Case(
                    f"{variant}:{key}",
                    title,
                    [setup.node, FRESH_ENTRY],
                    env,
                    emu,
                    fresh_bundle=zip_path,
                )
            )
    return cases


# -- reporting --------------------------------------------------------------------------------


def machine() -> dict[str, str]:
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


def fmt_spread(spread: dict[str, float], digits: int = 0) -> str:
    return f"{spread['median']:.{digits}f} ({spread['min']:.{digits}f}-{spread['max']:.{digits}f})"


def bundle_contents(zip_path: Path) -> dict[str, Any]:
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


def kb(size: float) -> str:
    return f"{size / 1000:.1f} kB"


class Report:
    """Collects the results; renders them as markdown."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.blocks: dict[int, list[dict[str, Any]]] = {}
        self.cold: list[dict[str, Any]] = []
        self.cold_latency = 0
        self.silent: list[dict[str, Any]] = []
        self.bundles: dict[str, dict[str, Any]] = {}
        self.info: dict[str, str] = {}
        self.targets: list[tuple[str, str, bool | None]] = []
        self.imports: dict[str, list[tuple[str, float, float]]] = {}

    def stat(self, latency: int, key: str) -> dict[str, Any]:
        return next(s for s in self.blocks[latency] if s["key"] == key)

    def floor(self, latency: int, path: str) -> dict[str, float]:
        """Median wall, CPU and RSS of the floor of a path: node + python, or python alone."""
        node = self.stat(latency, "floor-node")
        python = self.stat(latency, "floor-python")
        if path == "cli":
            return {
                "wall": python["wall_ms"]["median"],
                "cpu": python["cpu_ms"]["median"],
            }
        return {
            "wall": node["wall_ms"]["median"] + python["wall_ms"]["median"],
            "cpu": node["cpu_ms"]["median"] + python["cpu_ms"]["median"],
        }

    def table(self, latency: int) -> list[str]:
        rows = [
            "| case | path | wall ms, median (min-max) | CPU ms, median (min-max) "
            "| peak RSS MiB, median (max) | requests/run | wall x floor |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in self.blocks[latency]:
            path, _, key = s["key"].partition(":")
            if path in ("floor-node", "floor-python", "spawn", "idle"):
                continue
            floor = self.floor(latency, path)
            ratio = s["wall_ms"]["median"] / floor["wall"]
            flag = "" if s["ok"] else " ⚠ unexpected outcome"
            rows.append(
                f"| {s['label']}{flag} | {path} | {fmt_spread(s['wall_ms'])} "
                f"| {fmt_spread(s['cpu_ms'])} "
                f"| {s['rss_mib']['median']:.1f} ({s['rss_mib']['max']:.1f}) "
                f"| {', '.join(str(r) for r in s['requests'])} | {ratio:.2f} |"
            )
        for key, label in (("floor-node", "`node -e 0`"), ("floor-python", "`python -c pass`")):
            s = self.stat(latency, key)
            rows.append(
                f"| floor: {label} | - | {fmt_spread(s['wall_ms'])} | {fmt_spread(s['cpu_ms'])} "
                f"| {s['rss_mib']['median']:.1f} ({s['rss_mib']['max']:.1f}) | - | - |"
            )
        agent, cli = self.floor(latency, "agent"), self.floor(latency, "cli")
        for key in ("spawn", "idle"):
            s = self.stat(latency, key)
            rows.append(
                f"| {s['label']} (no task) | - | {fmt_spread(s['wall_ms'])} "
                f"| {fmt_spread(s['cpu_ms'])} "
                f"| {s['rss_mib']['median']:.1f} ({s['rss_mib']['max']:.1f}) | - "
                f"| {s['wall_ms']['median'] / agent['wall']:.2f} |"
            )
        rows.append(
            f"| **floor of the agent path** (node + python) | - | {agent['wall']:.0f} "
            f"| {agent['cpu']:.0f} | - | - | 1.00 |"
        )
        rows.append(
            f"| **floor of the CLI path** (python) | - | {cli['wall']:.0f} "
            f"| {cli['cpu']:.0f} | - | - | 1.00 |"
        )
        return rows

    def cold_table(self) -> list[str]:
        rows = [
            "| case | bundle | wall ms, median (min-max) | CPU ms, median (min-max) "
            "| .pyc written per run | wall x warm |",
            "|---|---|---|---|---|---|",
        ]
        for s in self.cold:
            variant, _, key = s["key"].partition(":")
            warm = self.stat(self.cold_latency, f"agent:{key}")["wall_ms"]["median"]
            bundle = "fresh, --no-compile" if variant == "cold" else "fresh, as shipped (bytecode)"
            rows.append(
                f"| {s['label']} | {bundle} | {fmt_spread(s['wall_ms'])} "
                f"| {fmt_spread(s['cpu_ms'])} | {', '.join(map(str, s['pyc_written']))} "
                f"| {s['wall_ms']['median'] / warm:.2f} |"
            )
        return rows

    def evaluate(self) -> None:
        targets: list[tuple[str, str, bool | None]] = []
        # Requests per run.
        wrong = []
        for latency, stats in self.blocks.items():
            for s in stats:
                key = s["key"].partition(":")[2]
                if key in EXPECTED_REQUESTS and s["requests"] != [EXPECTED_REQUESTS[key]]:
                    wrong.append(f"{s['key']} at {latency} ms: {s['requests']}")
        for s in self.cold:
            key = s["key"].partition(":")[2]
            if s["requests"] != [EXPECTED_REQUESTS[key]]:
                wrong.append(f"{s['key']}: {s['requests']}")
        targets.append(
            (
                "Requests per run: Services 2 whatever the number of feeds, Server 1, "
                "connections only 0 (federated: 3)",
                "every run as expected" if not wrong else "; ".join(wrong),
                not wrong,
            )
        )

        # Agent path, warm, connection only vs the floor. It makes no request, so the
        # runs of every latency block are pooled, and so are those of the floor.
        def pooled(key: str) -> float:
            walls = [w for latency in self.blocks for w in self.stat(latency, key)["walls_ms"]]
            return float(statistics.median(walls))

        task = pooled("agent:connection")
        floor = pooled("floor-node") + pooled("floor-python")
        idle = pooled("idle")
        runs = sum(
            len(self.stat(latency, "agent:connection")["walls_ms"]) for latency in self.blocks
        )
        targets.append(
            (
                f"Agent path, warm, connection only ≤ {FLOOR_RATIO_TARGET}x the floor",
                f"{task:.0f} ms = {task / floor:.2f}x the floor ({floor:.0f} ms; limit "
                f"{floor * FLOOR_RATIO_TARGET:.0f} ms), medians of {runs} runs; the launcher "
                f"with a bootstrap.py that does nothing: {idle:.0f} ms = {idle / floor:.2f}x",
                task / floor <= FLOOR_RATIO_TARGET,
            )
        )
        # One feed on Services at a latency.
        for latency in sorted(self.blocks):
            if latency == 0:
                continue
            s = self.stat(latency, "agent:services-feed")
            floor = self.floor(latency, "agent")["wall"]
            limit = floor + 2 * latency + FEED_OVERHEAD_MS
            targets.append(
                (
                    f"One feed on Services at {latency} ms per request ≤ floor + 2 x "
                    f"{latency} ms + {FEED_OVERHEAD_MS:.0f} ms",
                    f"{s['wall_ms']['median']:.0f} ms; limit {limit:.0f} ms (floor {floor:.0f} ms)",
                    s["wall_ms"]["median"] <= limit,
                )
            )
        # Cold.
        for s in self.cold:
            variant, _, key = s["key"].partition(":")
            warm = self.stat(self.cold_latency, f"agent:{key}")["wall_ms"]["median"]
            ratio = s["wall_ms"]["median"] / warm
            what = "no bytecode" if variant == "cold" else "precompiled bytecode"
            targets.append(
                (
                    f"Cold ({what}), {s['label']} ≤ {COLD_RATIO_TARGET}x warm",
                    f"{s['wall_ms']['median']:.0f} ms = {ratio:.2f}x warm ({warm:.0f} ms)",
                    ratio <= COLD_RATIO_TARGET,
                )
            )
        # Silent server.
        if self.silent:
            worst = max(s["wall_ms"]["max"] for s in self.silent) / 1000
            bound = DEADLINE + SILENT_ALLOWANCE
            failed = all(s["ok"] for s in self.silent)
            targets.append(
                (
                    "A silent server never holds the task longer than its bound "
                    f"(deadline {DEADLINE:g} s + {SILENT_ALLOWANCE:g} s start-up)",
                    f"longest run {worst:.1f} s, failed with the timeout error: "
                    f"{'yes' if failed else 'NO'}",
                    worst <= bound and failed,
                )
            )
        else:
            targets.append(
                (
                    "A silent server never holds the task longer than its bound",
                    "not measured (--no-silent)",
                    None,
                )
            )
        # Bundle size.
        plain = self.bundles["plain"]["zip_bytes"]
        compiled = self.bundles["compiled"]["zip_bytes"]
        targets.append(
            (
                "Task bundle (zip) ≤ 1.5 MB",
                f"{compiled / 1e6:.2f} MB as shipped, with bytecode"
                f" ({plain / 1e6:.2f} MB with --no-compile)",
                compiled <= ZIP_TARGET,
            )
        )
        # Memory of the Python process: the CLI path is the Python process alone.
        peak = max(
            s["rss_mib"]["max"]
            for stats in self.blocks.values()
            for s in stats
            if s["key"].startswith("cli:")
        )
        targets.append(
            (
                f"Peak memory of the Python process ≤ {PYTHON_RSS_TARGET_MIB:g} MiB",
                f"{peak:.1f} MiB (largest of every CLI run)",
                peak <= PYTHON_RSS_TARGET_MIB,
            )
        )
        self.targets = targets

    def markdown(self) -> str:
        info = self.info
        lines = [
            "# Benchmarks",
            "",
            "What one run of the task costs, started the way the agent starts it. Written by",
            "`python3 benchmarks/run.py --write-docs`; the raw numbers of the last run are in",
            "`benchmarks/results/latest.json` (not committed). Do not edit by hand.",
            "",
            f"- Date: {info['date']}",
            f"- Machine: {info['cpu']}, {info['cores']} cores, {info['memory']} memory",
            f"- OS: {info['os']}",
            f"- Python {info['python']} (a venv without site-packages, first on PATH), "
            f"Node {info['node']}",
            f"- Runs: {self.args.warmup} warm-up round, then {self.args.runs} measured rounds "
            "per latency, every case once per round (round-robin)",
            f"- Load average (1 min): {info.get('load', '?')}; other work on the machine "
            "widens the wall-time ranges, CPU times hold better",
            "",
            "## How it is measured",
            "",
            "- **agent**: `node index.js` from the bundle `tools/package.py` builds, with the",
            "  environment the agent gives a task and nothing else: the launcher finds",
            "  `python3` on PATH and starts `bootstrap.py` with it once. Warm: the same",
            "  unpacked bundle every time, so the `__pycache__` the first run writes is used.",
            "- **cli**: `python -m twineauthenticate` alone, the same environment, the",
            "  bundle's copy of the package and its `_vendor/` on PYTHONPATH.",
            "- **floor**: `node -e 0` and `python -c pass`, measured the same way in the same",
            "  rounds. The floor of the agent path is the sum of their medians, the floor of",
            "  the CLI path the Python one; *wall x floor* divides a median by it.",
            "- Every measured process runs under `benchmarks/measure.py`, a fresh wrapper",
            "  process per run that reports the wall time around spawn and wait, and its",
            "  own `RUSAGE_CHILDREN`: the CPU time (user + sys) of the whole process tree",
            "  (node and the Python it starts) and `ru_maxrss`, the peak RSS of its largest",
            "  process (on the agent path that is Node's; the CLI rows give Python's).",
            "- The emulator runs in the benchmark's own process (a thread per connection);",
            "  its CPU time is not counted. *requests/run* is the number of requests it",
            "  logged during each run (every distinct value seen). The latency is added",
            "  to every answer.",
            "",
        ]
        for latency in sorted(self.blocks):
            lines += [f"## Warm runs, {latency} ms per request", "", *self.table(latency), ""]
        if self.cold:
            lines += [
                f"## Cold runs ({self.cold_latency} ms per request)",
                "",
                "Every run from a freshly unpacked `TwineAuthenticate.zip` (entry times kept, as",
                "the agent unpacks it), as on a hosted agent's first step. Built with",
                "`--no-compile` the bundle has no `__pycache__`, so Python compiles every module",
                "it imports and writes the bytecode; as shipped it has unchecked-hash `.pyc`",
                f"for the Python that built it (here {info['python']}); *.pyc written per run*",
                "shows whether Python used them (0: all used).",
                "",
                *self.cold_table(),
                "",
                *self.cold_advice(),
                "",
            ]
        lines += ["## Silent server", ""]
        if self.silent:
            lines += [
                "The emulator accepts every connection and never answers (fault `hang`); one",
                f"feed on Services, agent path, default bounds: connect {CONNECT_TIMEOUT:g} s, "
                f"read {READ_TIMEOUT:g} s, {ATTEMPTS} attempts per request, deadline "
                f"{DEADLINE:g} s for all requests of the run (`twineauthenticate/_http.py`).",
                "",
                "| case | runs | wall s, median (min-max) | CPU ms, median | requests/run "
                "| failed cleanly |",
                "|---|---|---|---|---|---|",
            ]
            for s in self.silent:
                wall = s["wall_ms"]
                lines.append(
                    f"| {s['label']} | {s['runs']} | {wall['median'] / 1000:.1f} "
                    f"({wall['min'] / 1000:.1f}-{wall['max'] / 1000:.1f}) "
                    f"| {s['cpu_ms']['median']:.0f} | {', '.join(map(str, s['requests']))} "
                    f"| {'yes' if s['ok'] else 'no'} |"
                )
            lines.append("")
        else:
            lines += ["Not measured in this run (`--no-silent`).", ""]
        lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
        for what, measured, met in self.targets:
            verdict = "n/a" if met is None else ("met" if met else "**not met**")
            lines.append(f"| {what} | {measured} | {verdict} |")
        lines += ["", *self.import_section(), *self.bundle_section(), ""]
        notes = Path(HERE / "notes.md")
        if notes.exists():
            lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
        return "\n".join(lines)

    def cold_advice(self) -> list[str]:
        by_key = {s["key"]: s for s in self.cold}
        lines = []
        for key in ("connection", "services-feed"):
            plain, compiled = by_key.get(f"cold:{key}"), by_key.get(f"cold-pyc:{key}")
            if plain is None or compiled is None:
                continue
            wall = plain["wall_ms"]["median"], compiled["wall_ms"]["median"]
            cpu = plain["cpu_ms"]["median"], compiled["cpu_ms"]["median"]
            lines.append(
                f"- {plain['label']}: with precompiled bytecode the median wall time goes from "
                f"{wall[0]:.0f} to {wall[1]:.0f} ms, CPU from {cpu[0]:.0f} to {cpu[1]:.0f} ms."
            )
        return lines

    def import_section(self) -> list[str]:
        if not self.imports:
            return []
        lines = [
            "## Where the import time goes",
            "",
            "`python -X importtime`, CLI path, warm (the best of 5 runs per module; the",
            "tool itself adds some overhead). *Modules* are what the task's own modules",
            "(and the lazy `import requests`) import directly, with everything below them;",
            "a module counts where it is first imported (`_http.py` imports `ssl` before",
            "`requests` does, so `ssl` shows on its own).",
            "",
        ]
        for key, rows in self.imports.items():
            title = key
            total = next((cum for name, _, cum in rows if name == "(all imports)"), 0.0)
            lines += [
                f"**{title}**: {total:.1f} ms of imports in the whole process "
                "(the interpreter's own start-up included).",
                "",
                "| module | ms, with what it imports |",
                "|---|---|",
            ]
            for name, _, cum in rows:
                if name != "(all imports)" and cum >= 0.1:
                    lines.append(f"| `{name}` | {cum:.1f} |")
            lines.append("")
        return lines

    def bundle_section(self) -> list[str]:
        plain, compiled = self.bundles["plain"], self.bundles["compiled"]
        lines = [
            "## The task bundle",
            "",
            f"`TwineAuthenticate.zip` as shipped: **{compiled['zip_bytes'] / 1e6:.2f} MB** "
            f"({compiled['files']} files, with bytecode); with `--no-compile`: "
            f"{plain['zip_bytes'] / 1e6:.2f} MB ({plain['files']} files, "
            f"{plain['unpacked_bytes'] / 1e6:.2f} MB unpacked). Target ≤ 1.5 MB.",
            "",
            "| part | in the zip | unpacked | files |",
            "|---|---|---|---|",
        ]
        for key, packed, unpacked, count in plain["groups"]:
            lines.append(f"| `{key}` | {kb(packed)} | {kb(unpacked)} | {count} |")
        lines += ["", "Largest files:", "", "| file | in the zip | unpacked |", "|---|---|---|"]
        for name, packed, unpacked in plain["top_files"]:
            lines.append(f"| `{name}` | {kb(packed)} | {kb(unpacked)} |")
        return lines


# -- main ---------------------------------------------------------------------------------


def version_of(command: Sequence[str]) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, check=True)
    return (proc.stdout or proc.stderr).strip()


def _section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of ``text``."""
    body = text.split(f"\n## {heading}\n", 1)[1]
    return body.split("\n## ", 1)[0].strip()


def update_readme(text: str) -> None:
    """Put the machine, the warm runs and the targets between the README's markers."""
    readme = README.read_text(encoding="utf-8")
    if README_START not in readme or README_END not in readme:
        print("README.md has no benchmark markers; left as it is", file=sys.stderr)
        return
    facts = [
        line for line in text.splitlines() if line.startswith(("- Date:", "- Machine:", "- OS:"))
    ]
    facts += [line for line in text.splitlines() if line.startswith("- Python ")]
    block = "\n\n".join(
        [
            README_START,
            "\n".join(facts),
            "Warm runs, no added latency (medians of 10 runs after a warm-up):",
            _section(text, "Warm runs, 0 ms per request"),
            "Targets:",
            _section(text, "Targets"),
            "Every table, the cold and silent-server runs and where the time goes:"
            " [docs/benchmarks.md](docs/benchmarks.md).",
            README_END,
        ]
    )
    head, rest = readme.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    README.write_text(head + block + tail, encoding="utf-8")
    print("updated README.md", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10, help="measured rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    parser.add_argument(
        "--latency",
        type=int,
        action="append",
        metavar="MS",
        help="ms added to every emulator answer; repeat (default: 0 and 50)",
    )
    parser.add_argument("--cold-runs", type=int, default=10, help="cold rounds (default 10)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold runs")
    parser.add_argument("--silent-runs", type=int, default=1, help="silent-server runs (1)")
    parser.add_argument("--no-silent", action="store_true", help="skip the silent server")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS.name}")
    args = parser.parse_args(argv)
    args.latency = args.latency or [0, 50]
    node = shutil.which("node")
    if node is None:
        print("node is not on PATH: the agent starts the task with node.", file=sys.stderr)
        return 2
    started = time.monotonic()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory(prefix="twineauthenticate-bench-") as tmp:
        report = measure_all(args, node, Path(tmp))
    report.info["load"] = (
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        if hasattr(os, "getloadavg")
        else "?"
    )
    report.evaluate()
    text = report.markdown()
    elapsed = time.monotonic() - started
    raw = {
        "info": report.info,
        "elapsed_s": elapsed,
        "blocks": {str(k): v for k, v in report.blocks.items()},
        "cold": report.cold,
        "silent": report.silent,
        "bundles": report.bundles,
        "targets": report.targets,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
    print(text)
    print(f"\n(benchmark took {elapsed:.0f} s)", file=sys.stderr)
    if args.write_docs:
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text(text, encoding="utf-8")
        print(f"wrote {DOCS.relative_to(ROOT)}", file=sys.stderr)
        update_readme(text)
    unexpected = [
        s["key"]
        for stats in [*report.blocks.values(), report.cold, report.silent]
        for s in stats
        if not s["ok"]
    ]
    return 1 if unexpected else 0


def measure_all(args: argparse.Namespace, node: str, tmp: Path) -> Report:
    """Every measurement, with the bundles, the interpreter and scratch files under ``tmp``."""
    work, agent_temp = tmp / "work", tmp / "agent-temp"
    work.mkdir()
    agent_temp.mkdir()
    print("building the bundles (tools/package.py, plain and --compile)", file=sys.stderr)
    plain_out, compiled_out = build_bundles(tmp)
    plain_zip, compiled_zip = plain_out / f"{TASK_NAME}.zip", compiled_out / f"{TASK_NAME}.zip"
    python_bin = clean_python(tmp)
    warm_bundle = plain_out / "task" / TASK_NAME
    idle_bundle = idle_copy(warm_bundle, tmp / "idle")
    base_env = {
        "PATH": os.pathsep.join([str(python_bin), os.environ.get("PATH", "")]),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    setup = Setup(node, python_bin, base_env, make_tls(tmp / "tls"), agent_temp)
    report = Report(args)
    report.info = {
        **machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": version_of([str(python_bin / "python3"), "--version"]).split()[-1],
        "node": version_of([node, "--version"]).lstrip("v"),
    }
    report.bundles = {
        "plain": bundle_contents(plain_zip),
        "compiled": bundle_contents(compiled_zip),
    }
    with emulators(setup.tls) as emus:
        for latency in args.latency:
            print(f"warm runs, {latency} ms per request", file=sys.stderr)
            for emu in emus.all():
                emu.set_latency(latency / 1000)
            cases = warm_cases(setup, emus, warm_bundle, idle_bundle)
            run_rounds(cases, args.runs, args.warmup, work, timeout=120)
            report.blocks[latency] = [c.stats() for c in cases]
        if not args.no_cold:
            report.cold_latency = args.latency[0]
            print(f"cold runs, {report.cold_latency} ms per request", file=sys.stderr)
            for emu in emus.all():
                emu.set_latency(report.cold_latency / 1000)
            cases = cold_cases(setup, emus, plain_zip, compiled_zip)
            run_rounds(cases, args.cold_runs, 1, work, timeout=120)
            report.cold = [c.stats() for c in cases]
        for emu in emus.all():
            emu.set_latency(0)
        print("import times (python -X importtime)", file=sys.stderr)
        report.imports = import_profile(setup, emus, warm_bundle, work)
    if not args.no_silent and args.silent_runs > 0:
        print("silent server (one run takes about the deadline)", file=sys.stderr)
        report.silent = [silent_server(setup, warm_bundle, work, args.silent_runs)]
    return report


def import_profile(
    setup: Setup, emus: Emulators, bundle: Path, work: Path, runs: int = 5, top: int = 12
) -> dict[str, list[tuple[str, float, float]]]:
    """For two cases: the heaviest modules the task's code imports, with ``-X importtime``."""
    python = str(setup.python_bin / "python3")
    profiles: dict[str, list[tuple[str, float, float]]] = {}
    # What every interpreter loads at start-up, and runpy (-m): not the task's.
    start_up = subprocess.run(
        [python, "-X", "importtime", "-c", "pass"], capture_output=True, text=True, check=True
    )
    ignore = {name for _, name, _, _ in parse_importtime(start_up.stderr)} | {"runpy"}
    for key, (title, _, env) in scenarios(setup, emus).items():
        if key not in ("connection", "services-feed"):
            continue
        env = dict(env, PYTHONPATH=os.pathsep.join([str(bundle), str(bundle / "_vendor")]))
        best: dict[str, tuple[float, float]] = {}
        totals = []
        for _ in range(runs):
            proc = subprocess.run(
                [python, "-X", "importtime", "-m", "twineauthenticate"],
                env=env,
                cwd=work,
                capture_output=True,
                text=True,
                timeout=120,
            )
            entries = parse_importtime(proc.stderr)
            totals.append(sum(cum for depth, _, _, cum in entries if depth == 0) / 1000)
            for name, own, cum in direct_imports(entries):
                if name in ignore:
                    continue
                old = best.get(name)
                if old is None or cum < old[1]:
                    best[name] = (own / 1000, cum / 1000)
        rows = sorted(((n, o, c) for n, (o, c) in best.items()), key=lambda r: -r[2])[:top]
        profiles[title] = [("(all imports)", 0.0, min(totals)), *rows]
    return profiles


def parse_importtime(stderr: str) -> list[tuple[int, str, float, float]]:
    """``(depth, module, self us, cumulative us)`` per line, in the order printed."""
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        try:
            own, cum, name = line[len("import time:") :].split("|")
            own_us, cum_us = float(own), float(cum)
        except ValueError:
            continue  # the header line
        stripped = name.lstrip(" ")
        depth = (len(name) - len(stripped) - 1) // 2
        entries.append((depth, stripped.strip(), own_us, cum_us))
    return entries


def direct_imports(entries: list[tuple[int, str, float, float]]) -> list[tuple[str, float, float]]:
    """Modules imported directly by the task's modules or at the top (the lazy requests).

    ``-X importtime`` prints a module after everything it imported, one level deeper,
    so a module's importer is the next line with a smaller depth.
    """
    found = []
    for index, (depth, name, own, cum) in enumerate(entries):
        if name.startswith("twineauthenticate") or name in ("site", "encodings"):
            continue
        parent = next((e[1] for e in entries[index + 1 :] if e[0] < depth), None)
        if depth == 0 or (parent or "").startswith("twineauthenticate"):
            found.append((name, own, cum))
    return found


def idle_copy(bundle: Path, into: Path) -> Path:
    """A copy of the bundle whose bootstrap.py does nothing: the launcher's own cost."""
    copy = into / TASK_NAME
    shutil.copytree(bundle, copy)
    (copy / "bootstrap.py").write_text("", encoding="utf-8")
    return copy


def silent_server(setup: Setup, bundle: Path, work: Path, runs: int) -> dict[str, Any]:
    """One feed on Services against an emulator that accepts and never answers."""
    with Emulator(feeds=[Feed("MyFeed")], token=TOKEN) as emu:
        emu.inject_faults(count=10_000, hang=True)
        env = job_env(setup, emu, INPUT_ARTIFACTFEED="MyFeed")
        case = Case(
            "silent:services-feed",
            "one organization feed, Services, silent server",
            [setup.node, str(bundle / "index.js")],
            env,
            emu,
            expect="Failed",
        )
        for _ in range(runs):
            case.samples.append(measure(case, work, timeout=DEADLINE * 3))
        output = (work / "stdout.txt").read_text(encoding="utf-8", errors="replace")
        timed_out = "did not answer within the time limit" in output
        stats = case.stats()
        stats["ok"] = stats["ok"] and timed_out
        return stats


if __name__ == "__main__":
    sys.exit(main())
