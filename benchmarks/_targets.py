"""The targets the benchmark checks, each with what was measured and whether it is met."""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks._cases import CHECKED, NO_CHECK, expected_requests
from benchmarks._report import Report, cold_kind
from twineauthenticate._settings import DEADLINE

FLOOR_RATIO_TARGET = 1.15  # agent path, warm, connection only
FEED_OVERHEAD_MS = 90.0  # one feed on Services: floor + 2 x latency + this
CHECK_ALLOWANCE_MS = 10.0  # the feed check: one round trip (the latency) + this
COLD_RATIO_TARGET = 1.5
ZIP_TARGET = 1_500_000
PYTHON_RSS_TARGET_MIB = 35.0
SILENT_ALLOWANCE = 2.0  # s beyond the deadline for start-up and the failure report

Target = tuple[str, str, "bool | None"]


def evaluate(report: Report) -> list[Target]:
    """Every target, in the order the docs list them."""
    return [
        _requests(report),
        _floor_ratio(report),
        *_feed_latency(report),
        *_feed_check(report),
        *_cold(report),
        _silent(report),
        _bundle_size(report),
        _python_memory(report),
    ]


def _requests(report: Report) -> Target:
    wrong = []
    for latency, stats in report.blocks.items():
        for s in stats:
            expected = expected_requests(s["key"].partition(":")[2])
            if expected is not None and s["requests"] != [expected]:
                wrong.append(f"{s['key']} at {latency} ms: {s['requests']}")
    for s in report.cold:
        if s["requests"] != [expected_requests(cold_kind(s["key"])[2])]:
            wrong.append(f"{s['key']}: {s['requests']}")
    return (
        "Requests per run, the check off: Services 2 whatever the number of feeds, Server 1, "
        "connections only 0 (federated: 3); the check adds one per feed (Services: and the "
        "Packaging area; federated: 1), none for connections",
        "every run as expected" if not wrong else "; ".join(wrong),
        not wrong,
    )


def _floor_ratio(report: Report) -> Target:
    """Agent path, warm, connection only vs the floor. It makes no request, so the runs
    of every latency block are pooled, and so are those of the floor."""

    def pooled(key: str) -> float:
        walls = [w for latency in report.blocks for w in report.stat(latency, key)["walls_ms"]]
        return float(statistics.median(walls))

    task = pooled("agent:connection")
    floor = pooled("floor-node") + pooled("floor-python")
    idle = pooled("idle")
    runs = sum(
        len(report.stat(latency, "agent:connection")["walls_ms"]) for latency in report.blocks
    )
    return (
        f"Agent path, warm, connection only ≤ {FLOOR_RATIO_TARGET}x the floor",
        f"{task:.0f} ms = {task / floor:.2f}x the floor ({floor:.0f} ms; limit "
        f"{floor * FLOOR_RATIO_TARGET:.0f} ms), medians of {runs} runs; the launcher "
        f"with a bootstrap.py that does nothing: {idle:.0f} ms = {idle / floor:.2f}x",
        task / floor <= FLOOR_RATIO_TARGET,
    )


def _feed_latency(report: Report) -> list[Target]:
    """One feed on Services at every latency above 0."""
    targets: list[Target] = []
    for latency in sorted(report.blocks):
        if latency == 0:
            continue
        s = report.stat(latency, "agent:services-feed")
        floor = report.floor(latency, "agent")["wall"]
        limit = floor + 2 * latency + FEED_OVERHEAD_MS
        targets.append(
            (
                f"One feed on Services at {latency} ms per request ≤ floor + 2 x "
                f"{latency} ms + {FEED_OVERHEAD_MS:.0f} ms",
                f"{s['wall_ms']['median']:.0f} ms; limit {limit:.0f} ms (floor {floor:.0f} ms)",
                s["wall_ms"]["median"] <= limit,
            )
        )
    return targets


def _feed_check(report: Report) -> list[Target]:
    """The feed check costs at most one round trip: agent path, with and without it."""
    names = ", ".join(CHECKED.values())
    latencies = [latency for latency in sorted(report.blocks) if latency > 0]
    if not latencies:
        return [
            (
                f"The check adds at most one round trip ({names})",
                "not measured (no latency above 0 ms)",
                None,
            )
        ]
    targets: list[Target] = []
    for latency in latencies:
        allowed = latency + CHECK_ALLOWANCE_MS
        measured, met = [], True
        for key, name in CHECKED.items():
            on: dict[str, Any] = report.stat(latency, f"agent:{key}")
            off: dict[str, Any] = report.stat(latency, f"agent:{key}+{NO_CHECK.suffix}")
            wall_on, wall_off = on["wall_ms"]["median"], off["wall_ms"]["median"]
            met = met and wall_on <= wall_off + allowed
            measured.append(
                f"{name}: {wall_on:.0f} ms with, {wall_off:.0f} ms without (limit "
                f"{wall_off + allowed:.0f} ms); requests/run "
                f"{', '.join(map(str, on['requests']))} with, "
                f"{', '.join(map(str, off['requests']))} without"
            )
        targets.append(
            (
                f"The check adds at most one round trip: at {latency} ms per request, wall "
                f"with check ≤ wall without + {allowed:.0f} ms ({names})",
                "; ".join(measured),
                met,
            )
        )
    return targets


def _cold(report: Report) -> list[Target]:
    """The builder's Python from a fresh bundle, with and without bytecode, vs warm."""
    targets: list[Target] = []
    for s in report.cold:
        variant, version, key = cold_kind(s["key"])
        if version is not None:
            continue  # another Python: shown in the cold table, no target
        warm = report.warm(key)
        ratio = s["wall_ms"]["median"] / warm
        what = "no bytecode" if variant == "cold" else "precompiled bytecode"
        targets.append(
            (
                f"Cold ({what}), {s['label']} ≤ {COLD_RATIO_TARGET}x warm",
                f"{s['wall_ms']['median']:.0f} ms = {ratio:.2f}x warm ({warm:.0f} ms)",
                ratio <= COLD_RATIO_TARGET,
            )
        )
    return targets


def _silent(report: Report) -> Target:
    if not report.silent:
        return (
            "A silent server never holds the task longer than its bound",
            "not measured (--no-silent)",
            None,
        )
    worst = max(s["wall_ms"]["max"] for s in report.silent) / 1000
    bound = DEADLINE + SILENT_ALLOWANCE
    failed = all(s["ok"] for s in report.silent)
    return (
        "A silent server never holds the task longer than its bound "
        f"(deadline {DEADLINE:g} s + {SILENT_ALLOWANCE:g} s start-up)",
        f"longest run {worst:.1f} s, failed with the timeout error: {'yes' if failed else 'NO'}",
        worst <= bound and failed,
    )


def _bundle_size(report: Report) -> Target:
    plain = report.bundles["plain"]["zip_bytes"]
    compiled = report.bundles["compiled"]["zip_bytes"]
    return (
        "Task bundle (zip) ≤ 1.5 MB",
        f"{compiled / 1e6:.2f} MB as shipped, with bytecode"
        f" ({plain / 1e6:.2f} MB with --no-compile)",
        compiled <= ZIP_TARGET,
    )


def _python_memory(report: Report) -> Target:
    """The CLI path is the Python process alone."""
    peak = max(
        s["rss_mib"]["max"]
        for stats in report.blocks.values()
        for s in stats
        if s["key"].startswith("cli:")
    )
    return (
        f"Peak memory of the Python process ≤ {PYTHON_RSS_TARGET_MIB:g} MiB",
        f"{peak:.1f} MiB (largest of every CLI run)",
        peak <= PYTHON_RSS_TARGET_MIB,
    )
