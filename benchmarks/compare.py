#!/usr/bin/env python3
"""The same runs of the task, from the bundle of another commit and from this checkout.

    python3 benchmarks/compare.py REV [--runs 30] [--latency MS]

Builds both bundles with their own ``tools/package.py`` (bytecode for this Python,
no .vsix; REV is checked out with ``git worktree`` in a temporary folder), then
starts each as the agent does (``node index.js``, environment only, a Python
without site-packages first on PATH), round-robin, for: one service connection
only (no request), the same with ``configurePublishers`` on (this checkout only,
when it has the input), and one organization feed on Services (against the
emulator, the feed check off, so both make the same requests). Prints the median
wall and CPU time of each. For a before/after figure of one change, e.g.
``python3 benchmarks/compare.py 73de2d4``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._cases import PYPI_TOKEN, TOKEN  # noqa: E402
from benchmarks._setup import clean_python  # noqa: E402
from tests.helpers import build_token_env, connection_env  # noqa: E402
from twineauthenticate.emulator import Emulator, Feed  # noqa: E402

MEASURE = ROOT / "benchmarks" / "measure.py"


def build(source: Path, out: Path) -> Path:
    cmd = [sys.executable, str(source / "tools" / "package.py"), "--no-vsix", "--out", str(out)]
    subprocess.run(cmd, check=True, cwd=source, capture_output=True, text=True)
    return out / "task" / "TwineAuthenticate"


def has_input(bundle: Path, name: str) -> bool:
    task = json.loads((bundle / "task.json").read_text("utf-8-sig"))
    return any(item["name"] == name for item in task["inputs"])


def measure(python: Path, env: dict[str, str], bundle: Path, work: Path) -> tuple[float, float]:
    node = shutil.which("node") or "node"
    cmd = [str(python), "-I", "-S", str(MEASURE), str(work / "out"), "--", node]
    proc = subprocess.run(
        [*cmd, str(bundle / "index.js")], env=env, capture_output=True, text=True, check=True
    )
    report = json.loads(proc.stdout)
    output = (work / "out").read_text("utf-8")
    assert "result=Succeeded" in output, output
    return report["wall"] * 1000, (report["user"] + report["sys"]) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the commit to compare with (e.g. the one before a change)")
    parser.add_argument("--runs", type=int, default=30, help="measured rounds (default 30)")
    parser.add_argument(
        "--latency", type=float, default=0, help="ms the emulator adds to each answer (0)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(tmp / "rev"), args.rev],
            cwd=ROOT,
            check=True,
        )
        try:
            bundles = {args.rev: build(tmp / "rev", tmp / "dist-rev"), "this checkout": None}
            bundles["this checkout"] = build(ROOT, tmp / "dist-head")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "rev")], cwd=ROOT)
        python_bin = clean_python(tmp)
        temp = tmp / "agent-temp"
        temp.mkdir()
        base = {"PATH": f"{python_bin}:/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8"}
        base["AGENT_TEMPDIRECTORY"] = str(temp)
        pypi = connection_env(
            "c1", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken=PYPI_TOKEN
        )
        connection = {**base, **pypi, "INPUT_PYTHONUPLOADSERVICECONNECTION": "c1"}
        with Emulator(feeds=[Feed("MyFeed")], token=TOKEN) as emu:
            emu.set_latency(args.latency / 1000)
            feed = {
                **base,
                **build_token_env(TOKEN, emu.collection_url),
                "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": emu.collection_url,
                "SYSTEM_SERVERTYPE": "Hosted",
                "INPUT_ARTIFACTFEED": "MyFeed",
                "TWINEAUTHENTICATE_VERIFY": "false",
            }
            cases: list[tuple[str, str, dict[str, str]]] = []
            for name, bundle in bundles.items():
                assert bundle is not None
                cases.append((name, "one service connection only", connection))
                if has_input(bundle, "configurePublishers"):
                    on = {**connection, "INPUT_CONFIGUREPUBLISHERS": "true"}
                    cases.append((name, "one service connection, configurePublishers on", on))
                cases.append((name, "one organization feed, Services, check off", feed))
            samples: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(cases))}
            for round_ in range(args.runs + 1):  # the first round warms up
                for index, (name, _, env) in enumerate(cases):
                    bundle = bundles[name]
                    assert bundle is not None
                    result = measure(python_bin / "python3", env, bundle, tmp)
                    if round_:
                        samples[index].append(result)
    print(f"{args.runs} rounds, {args.latency:g} ms per request")
    print("| case | bundle | wall ms, median | CPU ms, median |")
    print("|---|---|---|---|")
    for index, (name, label, _) in enumerate(cases):
        walls = [w for w, _ in samples[index]]
        cpus = [c for _, c in samples[index]]
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(f"| {label} | {name} | {wall:.1f} | {cpu:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
