"""Sampling: one run of a case under ``measure.py``, and the round-robin rounds."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._setup import MEASURE, TASK_NAME
from twineauthenticate.commands import parse_output
from twineauthenticate.emulator import Emulator

FRESH_ENTRY = "<fresh bundle>/index.js"  # replaced by the entry script of the unpacked copy


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
            "wall_ms": spread(walls),
            "cpu_ms": spread(cpus),
            "rss_mib": spread(rss),
            "walls_ms": walls,
            "requests": requests,
            "pyc_written": sorted(set(self.pyc_written)),
        }


def spread(values: Sequence[float]) -> dict[str, float]:
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
