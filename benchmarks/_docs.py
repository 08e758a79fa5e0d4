"""The benchmark as a document: ``docs/benchmarks.md``, and its summary in the README."""

from __future__ import annotations

import sys

from benchmarks._report import Report
from benchmarks._setup import DOCS, NOTES, README, ROOT
from twineauthenticate._settings import ATTEMPTS, CONNECT_TIMEOUT, DEADLINE, READ_TIMEOUT

README_START = "<!-- benchmarks: written by benchmarks/run.py --write-docs -->"
README_END = "<!-- end of benchmarks -->"

HOW_IT_IS_MEASURED = """\
## How it is measured

- **agent**: `node index.js` from the bundle `tools/package.py` builds, with the
  environment the agent gives a task and nothing else: the launcher finds
  `python3` on PATH and starts `bootstrap.py` with it once. Warm: the same
  unpacked bundle every time, so the `__pycache__` the first run writes is used.
- **cli**: `python -m twineauthenticate` alone, the same environment, the
  bundle's copy of the package and its `_vendor/` on PYTHONPATH.
- **floor**: `node -e 0` and `python -c pass`, measured the same way in the same
  rounds. The floor of the agent path is the sum of their medians, the floor of
  the CLI path the Python one; *wall x floor* divides a median by it.
- Every measured process runs under `benchmarks/measure.py`, a fresh wrapper
  process per run that reports the wall time around spawn and wait, and its
  own `RUSAGE_CHILDREN`: the CPU time (user + sys) of the whole process tree
  (node and the Python it starts) and `ru_maxrss`, the peak RSS of its largest
  process (on the agent path that is Node's; the CLI rows give Python's).
- The emulator runs in the benchmark's own process (a thread per connection);
  its CPU time is not counted. *requests/run* is the number of requests it
  logged during each run (every distinct value seen). The latency is added
  to every answer.
"""


def markdown(report: Report) -> str:
    info = report.info
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
        f"- Runs: {report.args.warmup} warm-up round, then {report.args.runs} measured rounds "
        "per latency, every case once per round (round-robin)",
        f"- Load average (1 min): {info.get('load', '?')}; other work on the machine "
        "widens the wall-time ranges, CPU times hold better",
        "",
        *HOW_IT_IS_MEASURED.splitlines(),
        "",
    ]
    for latency in sorted(report.blocks):
        lines += [f"## Warm runs, {latency} ms per request", "", *report.table(latency), ""]
    if report.cold:
        lines += [*cold_section(report), ""]
    lines += [*silent_section(report), ""]
    lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for what, measured, met in report.targets:
        verdict = "n/a" if met is None else ("met" if met else "**not met**")
        lines.append(f"| {what} | {measured} | {verdict} |")
    lines += ["", *import_section(report), *bundle_section(report), ""]
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def cold_section(report: Report) -> list[str]:
    lines = [
        f"## Cold runs ({report.cold_latency} ms per request)",
        "",
        "Every run from a freshly unpacked `TwineAuthenticate.zip` (entry times kept, as",
        "the agent unpacks it), as on a hosted agent's first step. Built with",
        "`--no-compile` the bundle has no `__pycache__`, so Python compiles every module",
        "it imports and writes the bytecode; as shipped it has unchecked-hash `.pyc`",
        f"for the Python that built it (here {report.info['python']}); *.pyc written per run*",
        "shows whether Python used them (0: all used).",
    ]
    if report.other_pythons():
        lines += [
            "The rows *as shipped, Python 3.x* start the same bundle with another installed",
            "CPython, alone on PATH (a folder holding only its `python3` and `node`): it",
            "ignores bytecode for another version and compiles what it imports, as an",
            "agent with that Python does; *wall x warm* compares them with the warm run of",
            f"the Python that built the bundle ({report.info['python']}).",
        ]
    return [*lines, "", *report.cold_table(), "", *report.cold_advice()]


def silent_section(report: Report) -> list[str]:
    lines = ["## Silent server", ""]
    if not report.silent:
        return [*lines, "Not measured in this run (`--no-silent`)."]
    lines += [
        "The emulator accepts every connection and never answers (fault `hang`); one",
        f"feed on Services, agent path, default bounds: connect {CONNECT_TIMEOUT:g} s, "
        f"read {READ_TIMEOUT:g} s, {ATTEMPTS} attempts per request, deadline "
        f"{DEADLINE:g} s for all requests of the run (`twineauthenticate/_settings.py`).",
        "",
        "| case | runs | wall s, median (min-max) | CPU ms, median | requests/run "
        "| failed cleanly |",
        "|---|---|---|---|---|---|",
    ]
    for s in report.silent:
        wall = s["wall_ms"]
        lines.append(
            f"| {s['label']} | {s['runs']} | {wall['median'] / 1000:.1f} "
            f"({wall['min'] / 1000:.1f}-{wall['max'] / 1000:.1f}) "
            f"| {s['cpu_ms']['median']:.0f} | {', '.join(map(str, s['requests']))} "
            f"| {'yes' if s['ok'] else 'no'} |"
        )
    return lines


def import_section(report: Report) -> list[str]:
    if not report.imports:
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
    for title, rows in report.imports.items():
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


def kb(size: float) -> str:
    return f"{size / 1000:.1f} kB"


def bundle_section(report: Report) -> list[str]:
    plain, compiled = report.bundles["plain"], report.bundles["compiled"]
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


def _section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of ``text``."""
    body = text.split(f"\n## {heading}\n", 1)[1]
    return body.split("\n## ", 1)[0].strip()


def update_readme(text: str, runs: int) -> None:
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
            f"Warm runs, no added latency (medians of {runs} runs after a warm-up):",
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


def write_docs(text: str, runs: int) -> None:
    """Rewrite ``docs/benchmarks.md`` with ``text``, and the README's summary of it."""
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")
    print(f"wrote {DOCS.relative_to(ROOT)}", file=sys.stderr)
    update_readme(text, runs)
