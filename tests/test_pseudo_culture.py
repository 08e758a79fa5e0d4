"""No user-visible text is left hard-coded: runs in a generated pseudo-culture.

The pseudo-culture ``qps-ploc`` (every letter of every string accented, each string
bracketed) is written into a temporary copy of the task folder, never into the
repository or the bundle. The task then runs through its main paths in that
culture: success with feeds, service connections and a federated feed, each kind
of failure, the post-job cleanup, and the entry script's no-Python error. A plain
English word in what it prints, outside names, URLs, paths, numbers and the syntax
of logging commands, is text the task did not take from its messages.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BUILD_TOKEN
from tests.harness_fixtures import (  # noqa: F401 (fixtures)
    agent_job_fixture,
    bare_python_fixture,
    task_bundle_fixture,
    task_dir_fixture,
)
from tests.helpers import (
    ROOT,
    Tls,
    base_env,
    build_token_env,
    connection_env,
    load_tool,
    make_tls,
)
from tests.test_agent_launcher import fake_python
from tests.test_federation import (
    CLIENT_ID,
    CONNECTION,
    federated_url,
    wif_connection_env,
    with_connection,
)
from twineauthenticate.commands import parse_line

PSEUDO = "qps-ploc"
WORD = re.compile(r"[A-Za-z]{2,}")
URL = re.compile(r"https?://\S+")
PATH = re.compile(r"\S*[/\\]\S*")
# What the task prints that is no language: status codes, and what the
# operating system says (its own language, not the task's).
NEUTRAL = (
    re.compile(r"\bHTTP \d{3}\b"),
    re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b"),  # ids
    re.compile(re.escape(os.strerror(errno.ENOENT))),
    # the task's input names, which messages name as they are (code, like a variable)
    re.compile(
        r"\b(?:"
        + "|".join(
            item["name"]
            for item in json.loads((ROOT / "task.json").read_text("utf-8-sig"))["inputs"]
        )
        + r")\b"
    ),
)
SERVER_TEXT = "ŝéŕṽîçé ûñåṽåîļåƀļé"  # what the emulator's faults say: a server's own words



localize = load_tool("localize")


def add_pseudo_culture(task_dir: Path) -> None:
    task = json.loads((task_dir / "task.json").read_text(encoding="utf-8-sig"))
    folder = task_dir / "Strings" / "resources.resjson" / PSEUDO
    folder.mkdir(parents=True, exist_ok=True)
    strings = localize.pseudo_strings(localize.english_strings(task))
    (folder / "resources.resjson").write_text(json.dumps(strings, ensure_ascii=False), "utf-8")


@pytest.fixture(scope="module")
def pseudo_task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the task folder (task.json, Strings/, the package) with the pseudo-culture."""
    folder = tmp_path_factory.mktemp("pseudo-task")
    shutil.copyfile(ROOT / "task.json", folder / "task.json")
    shutil.copytree(ROOT / "Strings", folder / "Strings")
    ignore = shutil.ignore_patterns("__pycache__", "emulator")
    shutil.copytree(ROOT / "twineauthenticate", folder / "twineauthenticate", ignore=ignore)
    add_pseudo_culture(folder)
    return folder


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


class Checker:
    """Collects what the runs showed and the plain English words in it."""

    def __init__(self) -> None:
        self.lines = 0
        self.runs = 0
        self.found: list[str] = []

    def texts(self, stdout: str) -> Iterator[tuple[str, bool]]:
        """What a user reads of a run's output: plain lines, issues and results, and the
        summary on the run's page; each with whether it is one message of the task
        (a line of the summary is Markdown around messages, names and URLs)."""
        for line in stdout.splitlines():
            command = parse_line(line)
            if command is None:
                yield line, True
            elif command.command in ("task.logissue", "task.issue", "task.complete"):
                if command.message:
                    yield command.message, True
            elif command.command == "task.uploadsummary":
                for row in Path(command.message).read_text("utf-8").splitlines():
                    cells = [c.strip(" #*`") for c in row.strip().strip("|").split("|")]
                    for cell in cells:
                        if cell.strip("-: "):
                            yield cell, False
            else:  # setsecret, setvariable: values, not text; debug is off
                assert command.command in ("task.setsecret", "task.setvariable"), line

    def check(self, label: str, stdout: str, names: tuple[str, ...] = ()) -> None:
        self.runs += 1
        for text, whole in self.texts(stdout):
            self.lines += 1
            text = text.strip()  # a line may be indented under the one it belongs to
            if whole and not (text.startswith("[") and text.endswith("]")):
                self.found.append(f"{label}: not a message of the task: {text!r}")
            rest = URL.sub(" ", text)
            for name in sorted(names, key=len, reverse=True):  # whole names, not in a word
                rest = re.sub(rf"(?<![\w.]){re.escape(name)}(?!\w)", " ", rest)
            rest = PATH.sub(" ", rest)
            for pattern in NEUTRAL:
                rest = pattern.sub(" ", rest)
            words = WORD.findall(rest)
            if words:
                self.found.append(f"{label}: {words} in {text!r}")


def run_python(
    task: Path, env: dict[str, str], *args: str, culture: str = PSEUDO
) -> subprocess.CompletedProcess[str]:
    """``python -m twineauthenticate`` from the copy, in the pseudo-culture."""
    full = dict(env, PYTHONPATH=str(task), SYSTEM_CULTURE=culture)
    return subprocess.run(
        [sys.executable, "-m", "twineauthenticate", *args],
        env=full,
        cwd=task,  # -m puts the working folder first on sys.path: the copy
        capture_output=True,
        text=True,
        timeout=120,
    )


def result_of(stdout: str) -> str:
    for line in stdout.splitlines():
        command = parse_line(line)
        if command is not None and command.command == "task.complete":
            return command.properties.get("result", "")
    return ""


def test_no_english_is_left_in_the_pseudo_culture(
    pseudo_task: Path,
    make_emulator: Any,
    tls: Tls,
    tmp_path: Path,
    agent_job: Callable[..., Any],
    task_dir: Path,
) -> None:
    from twineauthenticate.emulator import Feed

    checker = Checker()
    temp = tmp_path / "agent-temp"
    temp.mkdir()
    emu = make_emulator(
        feeds=[
            Feed("MyFeed"),
            Feed("ProjFeed", project="My Project"),
            Feed("FedFeed", project="Other Project"),
        ],
        tls=(tls.cert, tls.key),
        service_connections={CONNECTION: CLIENT_ID},
    )
    job = {
        **build_token_env(BUILD_TOKEN, emu.collection_url),
        "AGENT_TEMPDIRECTORY": str(temp),
        "AGENT_CAINFO": str(tls.ca),
        "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": emu.collection_url,
        "SYSTEM_SERVERTYPE": "Hosted",
        "TWINEAUTHENTICATE_ATTEMPTS": "2",
    }
    ext = connection_env(
        "ext-id", "https://upload.example/legacy/", "ext", "Token", apitoken="t0ken-1"
    )

    def run(label: str, expect: str, extra: dict[str, str], *names: str) -> str:
        env = base_env(**job)
        env.update(extra)
        proc = run_python(pseudo_task, env)
        assert result_of(proc.stdout) == expect, (label, proc.stdout, proc.stderr)
        assert proc.stderr == "", (label, proc.stderr)
        checker.check(label, proc.stdout, names)
        return proc.stdout

    # -- success: feeds, a service connection and a federated feed in one file --------
    fed = {
        "SYSTEM_OIDCREQUESTURI": emu.oidc_request_uri,
        "INPUT_WORKLOADIDENTITYSERVICECONNECTION": CONNECTION,
        "INPUT_FEEDURL": federated_url(emu),
        **wif_connection_env(authority_url=emu.authority_url),
    }
    everything = {
        "INPUT_ARTIFACTFEED": "MyFeed, My Project/ProjFeed",
        "INPUT_PYTHONUPLOADSERVICECONNECTION": "ext-id",
        **ext,
        **fed,
    }
    out = run(
        "success", "Succeeded", everything, "MyFeed", "My Project", "ProjFeed", "ext", "FedFeed"
    )
    assert out.count("PYPIRC_PATH") >= 1
    written = next(
        json.loads(c.message)
        for c in map(parse_line, out.splitlines())
        if c is not None and c.properties.get("variable") == "TWINEAUTHENTICATE_WRITTEN"
    )
    text = Path(written["path"]).read_text()
    assert text.startswith("[distutils]\nindex-servers=MyFeed ProjFeed ext FedFeed\n")
    run("nothing configured", "Succeeded", {})

    # -- the post-job cleanup -----------------------------------------------------------
    state = {"PYPIRC_PATH": written["path"], "TWINEAUTHENTICATE_WRITTEN": json.dumps(written)}

    def cleanup(label: str, extra: dict[str, str]) -> None:
        env = base_env(AGENT_TEMPDIRECTORY=str(temp), **extra)
        proc = run_python(pseudo_task, env, "cleanup")
        assert result_of(proc.stdout) == "Succeeded", (label, proc.stdout, proc.stderr)
        checker.check(label, proc.stdout)

    stranger = tmp_path / "someone-elses.pypirc"
    stranger.write_text("[distutils]\n")
    cleanup("cleanup: not ours", {"PYPIRC_PATH": str(stranger)})
    cleanup("cleanup: not a file", {"PYPIRC_PATH": str(tmp_path)})
    cleanup("cleanup: removed", state)
    cleanup("cleanup: gone", state)

    # -- uv, poetry and pip too: the netrc file, the commands, its cleanup ---------------
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine other.example login me password p4ss\n")
    on = {"INPUT_CONFIGUREPUBLISHERS": "true", "HOME": str(home)}
    out = run(
        "publishers",
        "Succeeded",
        {**everything, **on},
        "MyFeed",
        "My Project",
        "ProjFeed",
        "ext",
        "FedFeed",
        "uv",
        "poetry",
        "pip",
        "twine",
        "netrc",
        "localhost",
    )
    written = next(
        json.loads(c.message)
        for c in map(parse_line, out.splitlines())
        if c is not None and c.properties.get("variable") == "TWINEAUTHENTICATE_WRITTEN"
    )
    state = {"PYPIRC_PATH": written["path"], "TWINEAUTHENTICATE_WRITTEN": json.dumps(written)}
    cleanup("cleanup: every file", state)
    spaced = connection_env(
        "s-id",
        "https://upload.example/legacy/",
        "ext",
        "UsernamePassword",
        username="me",
        password="two words",
    )
    unsafe = {"INPUT_PYTHONUPLOADSERVICECONNECTION": "s-id", **spaced, **on}
    run("netrc value", "Failed", unsafe, "ext", "netrc", "configurePublishers")
    cleanup("cleanup: nothing set", {})

    # -- each kind of failure -----------------------------------------------------------
    fail = "Failed"
    run("invalid feed", fail, {"INPUT_ARTIFACTFEED": "a/b/c"}, "a/b/c")
    run("space in a name", fail, {"INPUT_ARTIFACTFEED": "my feed"}, "my feed")
    run("brackets", fail, {"INPUT_ARTIFACTFEED": "a[1]"}, "a[1]")
    run("reserved name", fail, {"INPUT_ARTIFACTFEED": "distutils"}, "distutils")
    run("reserved default", fail, {"INPUT_ARTIFACTFEED": "DEFAULT"}, "DEFAULT")
    pypi = connection_env(
        "pypi-id", "https://upload.pypi.org/legacy/", "pypi", "Token", apitoken="t1"
    )
    run(
        "duplicate",
        fail,
        {"INPUT_ARTIFACTFEED": "pypi", "INPUT_PYTHONUPLOADSERVICECONNECTION": "pypi-id", **pypi},
        "pypi",
        "upload.pypi.org",  # the warning that "t1" is not a PyPI token names the host
    )
    run("unknown connection", fail, {"INPUT_PYTHONUPLOADSERVICECONNECTION": "nope"}, "nope")
    for label, scheme, params, url, name in [
        ("no token", "Token", {}, "https://u.example/", "c"),
        ("no user", "UsernamePassword", {"password": "p4ss"}, "https://u.example/", "c"),
        ("no password", "UsernamePassword", {"username": "me"}, "https://u.example/", "c"),
        ("no url", "Token", {"apitoken": "t2"}, " ", "c"),
        ("no endpoint name", "Token", {"apitoken": "t2"}, "https://u.example/", ""),
        ("no scheme", "", {"apitoken": "t2"}, "https://u.example/", "c"),
        ("other scheme", "Certificate", {}, "https://u.example/", "c"),
        (
            "unsafe value",
            "UsernamePassword",
            {"username": "me", "password": " p4ss"},
            "https://u/",
            "c",
        ),
    ]:
        conn = connection_env("c-id", url, name, scheme, **params)
        extra = {"INPUT_PYTHONUPLOADSERVICECONNECTION": "c-id", **conn}
        run(label, fail, extra, "c-id", "Certificate")
    feed = {"INPUT_ARTIFACTFEED": "MyFeed"}
    no_token = {k: "" for k in build_token_env(BUILD_TOKEN, emu.collection_url)}
    run("no build token", fail, {**feed, **no_token}, "MyFeed")
    run("no collection", fail, {**feed, "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": ""}, "MyFeed")
    run("no temp dir", fail, {**feed, "AGENT_TEMPDIRECTORY": ""})
    run("relative PYPIRC_PATH", fail, {**feed, "PYPIRC_PATH": "rel.pypirc"}, "rel.pypirc")
    link = tmp_path / "link.pypirc"
    link.symlink_to(tmp_path / "elsewhere")
    run("PYPIRC_PATH a link", fail, {**feed, "PYPIRC_PATH": str(link)})
    run("PYPIRC_PATH a folder", fail, {**feed, "PYPIRC_PATH": str(tmp_path)})
    inputs = ("feedUrl", "azureDevOpsServiceConnection")
    run("federation half", fail, {"INPUT_FEEDURL": fed["INPUT_FEEDURL"]}, *inputs)
    run("federation URL", fail, {**fed, "INPUT_FEEDURL": "https://example.com/nofeed"})
    no_client = dict(fed)
    with_connection(no_client, tenantid="t")
    run("federation client", fail, no_client, CONNECTION)
    run("federation OIDC URI", fail, {**fed, "SYSTEM_OIDCREQUESTURI": ""}, CONNECTION)
    run("unauthorized", fail, {**feed, **build_token_env("wrong-token", emu.collection_url)})
    areas, locations = "resourceAreas/92F0314B", "_apis/pypi"  # the PyPI area's lookup
    emu.inject_faults(count=1, status=404, path_contains=areas)
    run("area not found", fail, feed)
    emu.inject_faults(count=1, status=200, body='{"locationUrl": ', path_contains=areas)
    run("not JSON", fail, feed)
    emu.inject_faults(count=1, status=200, body="{}", path_contains=areas)
    run("no locationUrl", fail, feed, "locationUrl")
    emu.inject_faults(count=1, status=200, body='{"value": 1}', path_contains=locations)
    run("no locations", fail, feed)
    emu.inject_faults(count=1, status=200, body='{"value": []}', path_contains=locations)
    run("no upload location", fail, feed)
    busy = json.dumps({"message": SERVER_TEXT})
    emu.inject_faults(count=2, status=503, body=busy, path_contains=areas)
    run("retried, then failed", fail, feed)
    emu.inject_faults(count=1, status=503, retry_after=600, body=busy, path_contains=areas)
    run("Retry-After too long", fail, feed)
    emu.inject_faults(count=2, hang=True, path_contains=areas)
    slow = {**feed, "TWINEAUTHENTICATE_READTIMEOUT": "0.3", "TWINEAUTHENTICATE_DEADLINE": "1.5"}
    run("timeout", fail, slow)
    run("CA file", fail, {**feed, "AGENT_CAINFO": str(tmp_path / "no-ca.pem")})

    # -- the feed check: what it fails, what it warns about -----------------------------
    project = ("My Project", "ProjFeed", "MyFeed")
    run("feed without its project", fail, {"INPUT_ARTIFACTFEED": "ProjFeed"}, *project)
    run("feed with a project", fail, {"INPUT_ARTIFACTFEED": "My Project/MyFeed"}, *project)
    run("feed misspelt", fail, {"INPUT_ARTIFACTFEED": "MyFed"}, "MyFed", "MyFeed")
    run(
        "project misspelt",
        fail,
        {"INPUT_ARTIFACTFEED": "My Projekt/ProjFeed"},
        "My Projekt",
        *project,
    )
    identity = ("Project Collection Build Service (contoso)",)
    emu.set_permission("ProjFeed", "none", project="My Project")
    scoped = {"INPUT_ARTIFACTFEED": "My Project/ProjFeed", "SYSTEM_TEAMPROJECT": "Web"}
    run("feed forbidden, other project", fail, scoped, *identity, *project, "Web")
    visible = ("Other Project", "FedFeed")
    run("no feed visible", fail, {"INPUT_ARTIFACTFEED": "Nothing"}, "Nothing", *project, *visible)
    emu.set_permission("ProjFeed", "publish", project="My Project")
    emu.set_permission("MyFeed", "none")
    run("feed forbidden", fail, feed, *identity, "MyFeed")
    emu.set_permission("MyFeed", "publish")
    emu.inject_faults(count=2, status=503, body=busy, path_contains="_apis/packaging/feeds")
    run("feed unchecked", "Succeeded", feed, "MyFeed")
    sign_in = "<html><body>Sign in</body></html>"
    emu.inject_faults(count=1, status=203, body=sign_in, path_contains=areas)
    run("sign-in page", fail, feed)
    index = "https://pkgs.dev.azure.com/contoso/Team/_packaging/Releases/pypi/simple/"
    conn = connection_env("i-id", index, "releases", "Token", apitoken="t3")
    to_index = {"INPUT_PYTHONUPLOADSERVICECONNECTION": "i-id", **conn}
    run("connection to an index", fail, to_index, "releases")
    token_form = {"INPUT_PYTHONUPLOADSERVICECONNECTION": "pypi-id", **pypi}
    run("PyPI token form", "Succeeded", token_form, "pypi", "upload.pypi.org")

    # -- through the agent's entry script: a run, and no Python at all ------------------
    add_pseudo_culture(task_dir)
    from tests.agent_harness import Endpoint

    agent = agent_job(culture=PSEUDO)
    agent.add_endpoint(Endpoint.token("ext-id", "https://upload.example/legacy/", "t0ken-1", "ext"))
    result = agent.run({"pythonUploadServiceConnection": "ext-id"})
    assert result.result == "Succeeded", result.stdout
    checker.check("node: connection", result.stdout, ("ext",))
    no_python = agent_job(python=None, path=str(tmp_path), culture=PSEUDO)
    result = no_python.run({"pythonUploadServiceConnection": "ext-id"})
    assert result.result == "Failed", result.stdout
    checker.check("node: no Python", result.stdout, ("python3", "python"))
    (post,) = no_python.post_job()
    checker.check("node: no Python, post-job", post.stdout, ("python3", "python"))
    old = fake_python(tmp_path / "old", "python3", "exit 87")
    crash = fake_python(tmp_path / "crash", "python", "exit 3", version="3.12.1")
    broken = agent_job(python=None, path=f"{old.parent}{os.pathsep}{crash.parent}", culture=PSEUDO)
    result = broken.run({"pythonUploadServiceConnection": "ext-id"})
    assert result.result == "Failed", result.stdout
    checker.check("node: Python crashed", result.stdout)
    only_old = agent_job(python=None, path=str(old.parent), culture=PSEUDO)
    result = only_old.run({"pythonUploadServiceConnection": "ext-id"})
    assert result.result == "Failed", result.stdout
    checker.check("node: only an old Python", result.stdout, ("python3", "python"))

    print(
        f"\npseudo-culture: {checker.runs} runs, {checker.lines} lines checked, "
        f"{len(checker.found)} with English"
    )
    assert checker.lines > 80
    assert not checker.found, "\n".join(checker.found)


def test_the_check_finds_english(pseudo_task: Path, tmp_path: Path) -> None:
    """The same run in English fails the check: it can tell the two apart."""
    env = base_env(AGENT_TEMPDIRECTORY=str(tmp_path), INPUT_ARTIFACTFEED="my feed")
    english, pseudo = Checker(), Checker()
    english.check("en-US", run_python(pseudo_task, env, culture="en-US").stdout, ("my feed",))
    pseudo.check(PSEUDO, run_python(pseudo_task, env).stdout, ("my feed",))
    assert english.lines == pseudo.lines == 2
    assert len(english.found) == 4 and "white" in english.found[1]
    assert pseudo.found == []
