"""The results of a benchmark run, and their tables: warm runs and cold runs."""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks._cases import COLD_SCENARIOS

FLOOR_KEYS = ("floor-node", "floor-python", "spawn", "idle")


def fmt_spread(spread: dict[str, float], digits: int = 0) -> str:
    return f"{spread['median']:.{digits}f} ({spread['min']:.{digits}f}-{spread['max']:.{digits}f})"


def cold_kind(key: str) -> tuple[str, str | None, str]:
    """``(variant, Python version or None, scenario)`` of a cold case's key.

    ``cold:<scenario>`` (no bytecode), ``cold-pyc:<scenario>`` (as shipped, the
    builder's Python), ``cold-pyc@<version>:<scenario>`` (as shipped, another Python).
    """
    variant, _, scenario = key.partition(":")
    variant, _, version = variant.partition("@")
    return variant, version or None, scenario


def _rss(s: dict[str, Any]) -> str:
    return f"{s['rss_mib']['median']:.1f} ({s['rss_mib']['max']:.1f})"


class Report:
    """Collects the results; renders its tables as markdown."""

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

    @property
    def builder_minor(self) -> str:
        """``3.11`` of the Python that built the bundle and runs the warm cases."""
        return ".".join(self.info.get("python", "?").split(".")[:2])

    def stat(self, latency: int, key: str) -> dict[str, Any]:
        return next(s for s in self.blocks[latency] if s["key"] == key)

    def floor(self, latency: int, path: str) -> dict[str, float]:
        """Median wall and CPU of the floor of a path: node + python, or python alone."""
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

    def warm(self, scenario: str) -> float:
        """Median wall of the warm agent run the cold runs compare with."""
        return float(self.stat(self.cold_latency, f"agent:{scenario}")["wall_ms"]["median"])

    def table(self, latency: int) -> list[str]:
        rows = [
            "| case | path | wall ms, median (min-max) | CPU ms, median (min-max) "
            "| peak RSS MiB, median (max) | requests/run | wall x floor |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in self.blocks[latency]:
            path, _, key = s["key"].partition(":")
            if path in FLOOR_KEYS:
                continue
            floor = self.floor(latency, path)
            ratio = s["wall_ms"]["median"] / floor["wall"]
            flag = "" if s["ok"] else " ⚠ unexpected outcome"
            rows.append(
                f"| {s['label']}{flag} | {path} | {fmt_spread(s['wall_ms'])} "
                f"| {fmt_spread(s['cpu_ms'])} | {_rss(s)} "
                f"| {', '.join(str(r) for r in s['requests'])} | {ratio:.2f} |"
            )
        for key, label in (("floor-node", "`node -e 0`"), ("floor-python", "`python -c pass`")):
            s = self.stat(latency, key)
            rows.append(
                f"| floor: {label} | - | {fmt_spread(s['wall_ms'])} | {fmt_spread(s['cpu_ms'])} "
                f"| {_rss(s)} | - | - |"
            )
        agent, cli = self.floor(latency, "agent"), self.floor(latency, "cli")
        for key in ("spawn", "idle"):
            s = self.stat(latency, key)
            rows.append(
                f"| {s['label']} (no task) | - | {fmt_spread(s['wall_ms'])} "
                f"| {fmt_spread(s['cpu_ms'])} | {_rss(s)} | - "
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

    def cold_bundle(self, key: str) -> str:
        """What the *bundle* column says of a cold case."""
        variant, version, _ = cold_kind(key)
        if variant == "cold":
            return "fresh, --no-compile"
        if version is None:
            return "fresh, as shipped (bytecode)"
        return f"fresh, as shipped, Python {version} (bytecode for {self.builder_minor})"

    def cold_table(self) -> list[str]:
        rows = [
            "| case | bundle | wall ms, median (min-max) | CPU ms, median (min-max) "
            "| .pyc written per run | wall x warm |",
            "|---|---|---|---|---|---|",
        ]
        for s in self.cold:
            warm = self.warm(cold_kind(s["key"])[2])
            rows.append(
                f"| {s['label']} | {self.cold_bundle(s['key'])} | {fmt_spread(s['wall_ms'])} "
                f"| {fmt_spread(s['cpu_ms'])} | {', '.join(map(str, s['pyc_written']))} "
                f"| {s['wall_ms']['median'] / warm:.2f} |"
            )
        return rows

    def other_pythons(self) -> list[dict[str, Any]]:
        """The cold runs of the shipped bundle by another Python than the builder's."""
        return [s for s in self.cold if cold_kind(s["key"])[1] is not None]

    def cold_advice(self) -> list[str]:
        by_key = {s["key"]: s for s in self.cold}
        lines = []
        for key in COLD_SCENARIOS:
            plain, compiled = by_key.get(f"cold:{key}"), by_key.get(f"cold-pyc:{key}")
            if plain is None or compiled is None:
                continue
            wall = plain["wall_ms"]["median"], compiled["wall_ms"]["median"]
            cpu = plain["cpu_ms"]["median"], compiled["cpu_ms"]["median"]
            lines.append(
                f"- {plain['label']}: with precompiled bytecode the median wall time goes from "
                f"{wall[0]:.0f} to {wall[1]:.0f} ms, CPU from {cpu[0]:.0f} to {cpu[1]:.0f} ms."
            )
        for s in self.other_pythons():
            _, version, key = cold_kind(s["key"])
            shipped = by_key.get(f"cold-pyc:{key}")
            with_pyc = (
                f" ({shipped['wall_ms']['median']:.0f} ms for Python {self.info['python']})"
                if shipped is not None
                else ""
            )
            lines.append(
                f"- {s['label']}, Python {version}: the bytecode for {self.builder_minor} "
                f"goes unused, {', '.join(map(str, s['pyc_written']))} .pyc written per run; "
                f"median wall {s['wall_ms']['median']:.0f} ms{with_pyc}, "
                f"CPU {s['cpu_ms']['median']:.0f} ms."
            )
        return lines
