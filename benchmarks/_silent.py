"""The silent server: the task must fail within its documented bound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks._cases import TOKEN, job_env
from benchmarks._measure_runs import Case, measure
from benchmarks._setup import Setup
from twineauthenticate._settings import DEADLINE
from twineauthenticate.emulator import Emulator, Feed

TIMEOUT_MESSAGE = "did not answer within the time limit"


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
        timed_out = TIMEOUT_MESSAGE in output
        stats = case.stats()
        stats["ok"] = stats["ok"] and timed_out
        return stats
