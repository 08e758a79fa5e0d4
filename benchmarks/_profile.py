"""Where the import time goes: ``python -X importtime`` on the CLI path, warm."""

from __future__ import annotations

import subprocess
from pathlib import Path

from benchmarks._cases import PROFILED_SCENARIOS, Emulators, cli_env, scenarios
from benchmarks._setup import Setup

Entry = tuple[int, str, float, float]  # depth, module, self us, cumulative us
Row = tuple[str, float, float]  # module, self ms, cumulative ms


def import_profile(
    setup: Setup, emus: Emulators, bundle: Path, work: Path, runs: int = 5, top: int = 12
) -> dict[str, list[Row]]:
    """For two cases: the heaviest modules the task's code imports, with ``-X importtime``."""
    python = str(setup.python_bin / "python3")
    profiles: dict[str, list[Row]] = {}
    # What every interpreter loads at start-up, and runpy (-m): not the task's.
    start_up = subprocess.run(
        [python, "-X", "importtime", "-c", "pass"], capture_output=True, text=True, check=True
    )
    ignore = {name for _, name, _, _ in parse_importtime(start_up.stderr)} | {"runpy"}
    for key, scenario in scenarios(setup, emus).items():
        if key not in PROFILED_SCENARIOS:
            continue
        env = cli_env(scenario.env, bundle)
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
        profiles[scenario.title] = [("(all imports)", 0.0, min(totals)), *rows]
    return profiles


def parse_importtime(stderr: str) -> list[Entry]:
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


def direct_imports(entries: list[Entry]) -> list[Row]:
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
