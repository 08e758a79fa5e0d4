#!/usr/bin/env python3
"""What one run of TwineAuthenticate@1 costs, started the way the agent starts it.

    python3 benchmarks/run.py [--runs 10] [--latency 0 --latency 50] [--quick] [--write-docs]

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
   One feed and ten feeds on Services run twice, with the feed check (the
   default) and with ``TwineAuthenticate.Verify`` false.
   Two more rows split the launcher's cost: ``node`` spawning ``python3 -I -S -c
   pass``, and ``node index.js`` with an empty ``bootstrap.py``.
   Each measured process runs under ``measure.py``, a fresh wrapper process that
   reports wall time and its own ``RUSAGE_CHILDREN`` (CPU of the whole process
   tree, peak RSS of its largest process).
4. Cold: every run from a freshly unpacked ``TwineAuthenticate.zip`` (no
   ``__pycache__``, as on a hosted agent's first step), with and without the
   precompiled bytecode; and the bundle as shipped started by every other
   installed CPython 3.9-3.13, alone on PATH (``_pythons.py`` says where it looks).
5. Silent server: the emulator accepts every connection and never answers; the
   task must fail within its documented bound (``_http.DEADLINE``).

``--quick`` is a sanity run: 3 rounds, 0 ms only, 3 cold rounds, no silent server.
Prints the tables, keeps the raw numbers in ``benchmarks/results/latest.json``,
and with ``--write-docs`` rewrites ``docs/benchmarks.md`` and the README's summary.
Linux (``ru_maxrss`` in KiB); needs ``node`` and ``trustme`` (the dev extra).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._cases import cold_cases, emulators, warm_cases  # noqa: E402
from benchmarks._docs import markdown, write_docs  # noqa: E402
from benchmarks._measure_runs import run_rounds  # noqa: E402
from benchmarks._profile import import_profile  # noqa: E402
from benchmarks._pythons import other_pythons  # noqa: E402
from benchmarks._report import Report  # noqa: E402
from benchmarks._setup import (  # noqa: E402
    DOCS,
    RESULTS,
    TASK_NAME,
    Setup,
    build_bundles,
    bundle_contents,
    clean_python,
    idle_copy,
    machine,
    version_of,
)
from benchmarks._silent import silent_server  # noqa: E402
from benchmarks._targets import evaluate  # noqa: E402
from tests.helpers import make_tls  # noqa: E402

DEFAULTS = {"runs": 10, "latency": [0, 50], "cold_runs": 10}
QUICK = {"runs": 3, "latency": [0], "cold_runs": 3}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, help="measured rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    parser.add_argument(
        "--latency",
        type=int,
        action="append",
        metavar="MS",
        help="ms added to every emulator answer; repeat (default: 0 and 50)",
    )
    parser.add_argument("--cold-runs", type=int, help="cold rounds (default 10)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold runs")
    parser.add_argument("--silent-runs", type=int, default=1, help="silent-server runs (1)")
    parser.add_argument("--no-silent", action="store_true", help="skip the silent server")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a sanity run: 3 rounds, 0 ms only, 3 cold rounds, no silent server "
        "(explicit options still apply)",
    )
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS.name}")
    args = parser.parse_args(argv)
    if args.quick and args.write_docs:
        parser.error("--quick is a sanity run; --write-docs needs the full benchmark")
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.no_silent = args.no_silent or args.quick
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
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
    report.targets = evaluate(report)
    text = markdown(report)
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
        write_docs(text, args.runs)
    unexpected = [
        s["key"]
        for stats in [*report.blocks.values(), report.cold, report.silent]
        for s in stats
        if not s["ok"]
    ]
    return 1 if unexpected else 0


def measure_all(args: argparse.Namespace, node: str, tmp: Path) -> Report:
    """Every measurement, with the bundles, the interpreters and scratch files under ``tmp``."""
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
            # The compiled bundle's bytecode is for the Python that ran tools/package.py.
            others = other_pythons(sys.version_info[:2], node, tmp / "pythons")
            cases = cold_cases(setup, emus, plain_zip, compiled_zip, others)
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


if __name__ == "__main__":
    sys.exit(main())
