#!/usr/bin/env python3
"""The whole path on this machine, without a Microsoft account.

1. start the Azure Artifacts emulator on loopback (organization ``contoso``);
2. build the task as the agent downloads it (``tools/package.py --no-vsix``: the task
   folder with its vendored dependencies), and the sample package in
   ``examples/sample-package``;
3. run the task exactly as the agent does: ``node index.js`` of the task folder, with
   the environment only, whatever Python is first on PATH (even one with nothing but
   its standard library);
4. ``python -m twine upload -r ProjFeed --config-file $PYPIRC_PATH dist/*``;
5. ``pip install`` the package back from the feed's simple index and import it;
6. run the post-job step (``node cleanup.js``), then stop the emulator.

Run it with ``python3 tools/dev.py demo``; it exits non-zero if any step fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twineauthenticate.commands import parse_output  # noqa: E402

TOKEN = "demo-build-token-7d1c2b9e"
FEED = "ProjFeed"
PROJECT = "My Project"


class DemoError(Exception):
    pass


def step(number: int, text: str) -> None:
    print(f"\n[{number}/6] {text}", flush=True)


def show(output: str, secrets: list[str]) -> None:
    for line in output.splitlines():
        for secret in secrets:
            line = line.replace(secret, "***")
        print("    " + line)


def check(
    proc: subprocess.CompletedProcess[str], what: str, secrets: list[str], quiet: bool = False
) -> None:
    """Show what a step printed (``quiet``: only when it failed); fail on its exit code."""
    if not quiet or proc.returncode != 0:
        show(proc.stdout + proc.stderr, secrets)
    if proc.returncode != 0:
        raise DemoError(f"{what} failed with exit code {proc.returncode}")


def main() -> int:
    node = shutil.which("node")
    if node is None:
        print("node was not found on PATH: the agent starts tasks with Node, install it first.")
        return 1
    work = Path(tempfile.mkdtemp(prefix="twineauthenticate-demo-"))
    secrets = [TOKEN]
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twineauthenticate.emulator",
            "--port",
            "0",
            "--org",
            "contoso",
            "--feed",
            "MyFeed",
            "--feed",
            f"{PROJECT}/{FEED}",
            "--token",
            TOKEN,
            "--storage",
            str(work / "feed-storage"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        step(1, "Starting the Azure Artifacts emulator")
        assert emulator.stdout is not None
        line = emulator.stdout.readline()
        if not line:
            raise DemoError("the emulator did not start")
        info = json.loads(line)
        collection = info["collection_url"]
        print(f"    organization contoso at {collection} (packaging host {info['packaging_url']})")

        step(2, "Building the task folder (as the agent downloads it) and the sample distribution")
        package = subprocess.run(
            [
                sys.executable,
                str(ROOT / "tools" / "package.py"),
                "--no-vsix",
                "--out",
                str(work / "package"),
            ],
            capture_output=True,
            text=True,
        )
        check(package, "tools/package.py", secrets, quiet=True)
        task_dir = work / "package" / "task" / "TwineAuthenticate"
        print(f"    {package.stdout.splitlines()[0]}")
        dist = work / "dist"
        sample = work / "sample-package"
        shutil.copytree(ROOT / "examples" / "sample-package", sample)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "--no-isolation",
                "--wheel",
                "--sdist",
                "--outdir",
                str(dist),
                str(sample),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            check(proc, "python -m build", secrets)
        files = sorted(dist.iterdir())
        for path in files:
            print(f"    {path.name}")

        step(3, "Running the task as the agent does: node index.js, environment only")
        agent_temp = work / "agent-temp"
        agent_temp.mkdir()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AGENT_TEMPDIRECTORY": str(agent_temp),
            "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": collection,
            "SYSTEM_SERVERTYPE": "Hosted",
            "ENDPOINT_URL_SYSTEMVSSCONNECTION": collection,
            "ENDPOINT_AUTH_SYSTEMVSSCONNECTION": json.dumps(
                {"parameters": {"AccessToken": TOKEN}, "scheme": "OAuth"}
            ),
            "INPUT_ARTIFACTFEED": f"{PROJECT}/{FEED}",
        }
        print(
            "    - task: TwineAuthenticate@1\n      inputs:\n"
            f"        artifactFeed: {PROJECT}/{FEED}"
        )
        task = subprocess.run(
            [node, str(task_dir / "index.js")],
            env=env,
            capture_output=True,
            text=True,
            cwd=agent_temp,
        )
        check(task, "the task", secrets)
        commands = parse_output(task.stdout)
        results = [c.properties.get("result") for c in commands if c.command == "task.complete"]
        variables = {
            c.properties["variable"]: c.message for c in commands if c.command == "task.setvariable"
        }
        if results != ["Succeeded"] or "PYPIRC_PATH" not in variables:
            raise DemoError(f"the task did not succeed (result {results})")
        pypirc = variables["PYPIRC_PATH"]
        print(f"    PYPIRC_PATH={pypirc} (mode {oct(os.stat(pypirc).st_mode & 0o777)})")

        step(4, f"twine upload -r {FEED} --config-file $PYPIRC_PATH dist/*")
        upload = subprocess.run(
            [
                sys.executable,
                "-m",
                "twine",
                "upload",
                "--non-interactive",
                "--disable-progress-bar",
                "-r",
                FEED,
                "--config-file",
                pypirc,
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},  # twine wraps long URLs at 80 columns
        )
        check(upload, "twine upload", secrets)

        step(5, "pip install from the feed's simple index, then import")
        parts = urlsplit(info["packaging_url"])
        index = (
            f"{parts.scheme}://build:{quote(TOKEN, safe='')}@{parts.netloc}{parts.path}"
            f"{quote(PROJECT)}/_packaging/{FEED}/pypi/simple/"
        )
        target = work / "installed"
        install = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--isolated",
                "--root-user-action=ignore",
                "--no-deps",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--index-url",
                index,
                "--target",
                str(target),
                "twineauthenticate-demo==1.0.0",
            ],
            capture_output=True,
            text=True,
        )
        check(install, "pip install", secrets)
        imported = subprocess.run(
            [sys.executable, "-c", "import twineauthenticate_demo as d; print(d.GREETING)"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(target)},
        )
        check(imported, "import", secrets)

        step(6, "Post-job step: node cleanup.js")
        env.update(variables)
        done = subprocess.run(
            [node, str(task_dir / "cleanup.js")], env=env, capture_output=True, text=True
        )
        check(done, "the cleanup", secrets)
        if Path(pypirc).exists():
            raise DemoError(f"{pypirc} is still there after the cleanup")
        print(
            "\nDemo succeeded: feed resolved, .pypirc written, package uploaded,"
            " installed and imported."
        )
        return 0
    except (DemoError, OSError, ValueError, KeyError) as exc:
        print(f"\nDemo FAILED: {exc}")
        return 1
    finally:
        emulator.terminate()
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
