"""Hostile input, property-based: feed and project names, endpoint names, URLs, user
names, passwords and tokens drawn from printable Unicode plus ``%``, ``;``, ``[``,
``]``, ``#``, quotes, CR, LF and ``##vso[`` fragments, always in debug mode.

Three properties, each over 500 examples (fixed seed: ``derandomize=True``):

(a) no secret ever shows in stdout or stderr outside a ``task.setsecret``
    command, neither in the raw lines nor once the agent has unescaped them;
(b) parsing stdout as the agent does (``commands.parse_output``) gives exactly the
    commands the task meant to emit, in order (recorded as the task asks for them),
    only of the allowed kinds and in the expected numbers: no injected command;
(c) a run either writes a ``.pypirc`` that ``configparser.RawConfigParser`` (opened
    with ``open()`` like twine) and twine itself read back to exactly the values
    given, or fails with one clear error, writing nothing. It fails exactly when a
    value is one the contract (§8) says cannot be written faithfully.

Half of the runs set ``configurePublishers``, some with a netrc file of the user's:
then (a) and (b) cover the output, ``NETRC`` and ``POETRY_*`` variables too (never a
secret, never a variable that breaks a tool), and (c) the netrc file (Python's netrc
reads back exactly the entries meant, the user's kept, or the run is refused before
anything is written) and the summary (no secret, no markup of the user's).

The task runs in-process (an :class:`Agent` on a ``StringIO``, stderr captured), so
that 500 examples stay fast; the feeds' REST calls go to one emulator in this
process, over loopback. Two subprocess runs at the end keep it honest.

About the secrets drawn: they are at least 8 characters long and are not part of
the fixed text the task prints (messages, URLs of the emulator, the temporary
folder). Nor may they contain ``***`` (the mask) or an escape sequence
(``%AZP25``, ``%0A``...), nor be created by escaping another input. Otherwise a
"leak" would only be a coincidence: a 2-character secret is in every line.
"""

from __future__ import annotations

import configparser
import contextlib
import functools
import io
import json
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tests.conftest import BUILD_TOKEN
from tests.helpers import base_env, build_token_env, connection_env, run_task
from tests.hostile_publishing import (
    USER_HOST,
    Publishing,
    check_netrc,
    check_summary,
    expected_publishing,
)
from tests.test_reliability_helpers import secret_leaks
from twineauthenticate import task
from twineauthenticate.agent import MASK, Agent
from twineauthenticate.commands import (
    Command,
    escape_message,
    escape_property,
    neutralize,
    parse_output,
)
from twineauthenticate.outputs import NEVER_SET
from twineauthenticate.pypirc import RESERVED

EXAMPLES = 500
ALLOWED = {
    "task.setsecret",
    "task.setvariable",
    "task.logissue",
    "task.debug",
    "task.complete",
    "task.uploadsummary",
}
VARIABLES = {"PYPIRC_PATH", "TWINEAUTHENTICATE_WRITTEN"}
OUTPUTS = {"repositoryName", "uploadUrl", "simpleUrl", "repositoryNames"}

ESCAPES = ("%AZP25", "AZP25", "%0A", "%0D", "%3B", "%5D", "%5B")

# -- strategies --------------------------------------------------------------------------

SPECIALS = ["%", ";", "]", "[", "#", '"', "'", "\r", "\n", "=", ":", "\\", " ", "$", "(", ")"]
FRAGMENTS = [
    "##vso[",
    "##vso[task.setvariable variable=PYPIRC_PATH;]/tmp/evil",
    "##vso[task.complete result=Succeeded;]",
    "##vso[task.setsecret]",
    "\n##vso[task.logissue type=error]injected",
    "\r##vso[task.uploadsummary]/etc/passwd",
    "]##vso[task.debug]",
    "%AZP25",
    "%0A",
    "%3B",
    "%5D",
    "%(x)s",
    "$(PYPIRC_PATH)",
    "[distutils]",
    "\npassword=",
]
# Printable Unicode (no surrogates, control, private-use or unassigned characters).
CHAR = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"))
PIECE = st.one_of(CHAR, CHAR, st.sampled_from(SPECIALS), st.sampled_from(FRAGMENTS))
# Secrets: the same, less the escape sequences a secret cannot be told apart from.
SECRET_PIECE = st.one_of(
    CHAR.filter(lambda c: c != "*"),
    st.sampled_from(SPECIALS),
    st.sampled_from([f for f in FRAGMENTS if not any(e in f for e in ESCAPES)]),
)


def text(min_pieces: int = 0, max_pieces: int = 10, piece: Any = PIECE) -> st.SearchStrategy[str]:
    return st.lists(piece, min_size=min_pieces, max_size=max_pieces).map("".join)


def _writable(value: str) -> str:
    return value.replace("\r", "").replace("\n", "").strip()


NAME_CHAR = st.one_of(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Co", "Cn", "Zs", "Zl", "Zp", "Cf"),
        blacklist_characters="[],/",
    ),
    st.sampled_from(list("%;#'\"=:$().-_")),
)
# Names: hostile ones (mostly refused), and unusual ones twine can still select.
NAME = st.one_of(text(1, 6), st.text(NAME_CHAR, min_size=1, max_size=12))
# Values: hostile ones, and the same made writable (no line break, no outer space).
VALUE = st.one_of(text(0, 10), text(1, 10).map(_writable))
# Secrets: hostile, made writable, or such as a netrc file can hold (token-like, ASCII).
NETRC_CHAR = st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="\"'\\*")
NETRC_SECRET = st.text(NETRC_CHAR, min_size=8, max_size=16).filter(lambda s: not s.startswith("#"))
SECRET = st.one_of(
    text(8, 14, SECRET_PIECE), text(10, 16, SECRET_PIECE).map(_writable), NETRC_SECRET
).filter(lambda s: len(s) >= 8)
# Values of the user's own netrc file: what any tool reads, and hostile ones.
NETRC_VALUE = st.one_of(
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12),
    text(1, 6),
)
# Upload URLs with a host netrc can name, and a hostile path.
UPLOAD_URL = st.tuples(
    st.sampled_from(
        [
            "https://pkgs.example/_packaging/f/pypi/upload",
            "http://127.0.0.1:9/",
            "https://upload.pypi.org/legacy/",
            "https://Mixed.Case.example:8443/x",
        ]
    ),
    text(0, 4).map(_writable),
).map("".join)
# ',' and '/' are the syntax of the artifactFeed input, not part of a name.
FEED_PART = st.one_of(
    text(1, 6).map(lambda s: s.replace(",", "").replace("/", "")),
    st.text(NAME_CHAR, min_size=1, max_size=10),
)


@dataclass(frozen=True)
class Source:
    """One repository the inputs describe: what the .pypirc must say about it."""

    name: str
    url: str
    username: str
    password: str


@dataclass
class Inputs:
    build_token: str
    feed: tuple[str, str] | None  # (project, feed); project may be ""
    token_connection: tuple[str, str, str] | None  # name, url, apitoken
    password_connection: tuple[str, str, str, str] | None  # name, url, user, password
    proxy_user: str
    proxy_password: str
    pypirc_name: str | None = None  # PYPIRC_PATH set by the job: {temp}/given/{name}
    publishers: bool = False  # configurePublishers
    user_netrc: tuple[str, str] | None = None  # login, password of the user's USER_HOST entry
    secrets: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)  # the non-secret values


@st.composite
def inputs(draw: st.DrawFn, publishing: bool = False) -> Inputs:
    """Hostile inputs; with ``publishing``, always configurePublishers and mostly secrets
    a netrc file can hold, so that most runs write one."""
    secret = NETRC_SECRET if publishing and draw(st.integers(0, 3)) else SECRET
    build_token, proxy_password, api_token, password = (draw(secret) for _ in range(4))
    secrets = [build_token, proxy_password, api_token, password]

    def value(strategy: st.SearchStrategy[str], strip: str = "") -> str:
        """A value, or one that holds a secret (a token pasted into a name or a URL)."""
        if draw(st.integers(0, 4)) == 0:
            secret = draw(st.sampled_from(secrets))
            for char in strip:
                secret = secret.replace(char, "")
            return (
                draw(st.text(NAME_CHAR, max_size=3)) + secret + draw(st.text(NAME_CHAR, max_size=3))
            )
        return draw(strategy)

    feed = None
    if draw(st.booleans()):
        project = draw(st.one_of(st.just(""), FEED_PART)) if draw(st.booleans()) else ""
        feed = (value(st.just(project), ",/") if project else "", value(FEED_PART, ",/"))
    url = st.one_of(VALUE, UPLOAD_URL) if publishing else VALUE
    token_connection = None
    if draw(st.booleans()):
        token_connection = (value(NAME), value(url), api_token)
    password_connection = None
    if draw(st.booleans()):
        password_connection = (value(NAME), value(url), value(VALUE), password)
    pypirc_name = None
    if draw(st.integers(0, 3)) == 0:
        pypirc_name = value(text(1, 6)).replace("/", "")
        if not pypirc_name or pypirc_name in (".", "..") or len(pypirc_name.encode()) > 150:
            pypirc_name = None
    publishers = publishing or draw(st.booleans())
    user_netrc = None
    if publishers and draw(st.booleans()):
        user_netrc = (draw(NETRC_VALUE), draw(NETRC_VALUE))
    result = Inputs(
        build_token,
        feed,
        token_connection,
        password_connection,
        value(VALUE),
        proxy_password,
        pypirc_name,
        publishers,
        user_netrc,
    )
    result.secrets = [build_token, proxy_password]
    if token_connection:
        result.secrets.append(api_token)
        result.plain += token_connection[:2]
    if password_connection:
        result.secrets.append(password)
        result.plain += password_connection[:3]
    if feed:
        result.plain += feed
    if pypirc_name:
        result.plain.append(pypirc_name)
    result.plain.append(result.proxy_user)
    return result


# -- the environment the agent would build -----------------------------------------------

TOKEN_CONNECTION = "0f1e2d3c-token"
PASSWORD_CONNECTION = "4b5a6978-password"
PROXY_URL = "http://127.0.0.1:9"  # never used: everything bypasses it


def environment(given: Inputs, temp: Path, collection: str) -> dict[str, str]:
    """The task's environment; HOME (with the user's netrc) is next to ``temp``."""
    home = temp.parent / "home"
    home.mkdir(exist_ok=True)
    if given.user_netrc:
        login, password = given.user_netrc
        (home / ".netrc").write_text(
            f"machine {USER_HOST}\n  login {login}\n  password {password}\n", "utf-8"
        )
    env = base_env(
        HOME=str(home),
        AGENT_TEMPDIRECTORY=str(temp),
        SYSTEM_DEBUG="true",
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=collection,
        SYSTEM_SERVERTYPE="Hosted",
        AGENT_PROXYURL=PROXY_URL,
        AGENT_PROXYUSERNAME=given.proxy_user,
        SECRET_AGENT_PROXYPASSWORD=given.proxy_password,
        AGENT_PROXYBYPASSLIST=json.dumps([".*"]),
        # Made-up feed names do not exist: the check would refuse them before they
        # are written, and writing them is what these tests are about.
        TWINEAUTHENTICATE_VERIFY="false",
        **build_token_env(given.build_token, collection),
    )
    if given.feed:
        project, feed = given.feed
        env["INPUT_ARTIFACTFEED"] = f"{project}/{feed}" if project else feed
    connections = []
    if given.token_connection:
        name, url, token = given.token_connection
        env.update(connection_env(TOKEN_CONNECTION, url, name, "Token", apitoken=token))
        connections.append(TOKEN_CONNECTION)
    if given.password_connection:
        name, url, user, password = given.password_connection
        env.update(
            connection_env(
                PASSWORD_CONNECTION,
                url,
                name,
                "UsernamePassword",
                username=user,
                password=password,
            )
        )
        connections.append(PASSWORD_CONNECTION)
    if connections:
        env["INPUT_PYTHONUPLOADSERVICECONNECTION"] = ",".join(connections)
    if given.pypirc_name:
        env["PYPIRC_PATH"] = str(temp / "given" / given.pypirc_name)
    if given.publishers:
        env["INPUT_CONFIGUREPUBLISHERS"] = "true"
    return env


# -- the contract, stated independently of the task's code -------------------------------


def _encode(value: str) -> str:
    return quote(value, safe="!*'()")  # JavaScript's encodeURIComponent


def expected_sources(given: Inputs, packaging: str) -> tuple[list[Source], str | None]:
    """The repositories the .pypirc must list, or why the run must fail."""
    sources: list[Source] = []
    if given.feed:
        project, feed = given.feed
        raw = (f"{project}/{feed}" if project else feed).strip()
        if project:
            project_name, _, feed_name = raw.partition("/")
            project_name, feed_name = project_name.strip(), feed_name.strip()
            if not project_name or not feed_name:
                return [], "feed"
            url = f"{packaging}{_encode(project_name)}/_packaging/{_encode(feed_name)}/pypi/upload"
            sources.append(Source(feed_name, url, "build", given.build_token))
        elif raw:
            url = f"{packaging}_packaging/{_encode(raw)}/pypi/upload"
            sources.append(Source(raw, url, "build", given.build_token))
    # A service connection needs a URL, a name and its credentials.
    if given.token_connection:
        name, url, token = given.token_connection
        if not url.strip() or not name:
            return [], "incomplete service connection"
        sources.append(Source(name, url, "__token__", token))
    if given.password_connection:
        name, url, user, password = given.password_connection
        if not url.strip() or not name or not user:
            return [], "incomplete service connection"
        sources.append(Source(name, url, user, password))
    names = [s.name for s in sources]
    for source in sources:
        name = source.name
        if (
            not name
            or any(c.isspace() for c in name)
            or "[" in name
            or "]" in name
            or not name.isprintable()
            or name in RESERVED
        ):
            return [], f"unusable name {name!r}"
        if names.count(name) > 1:
            return [], f"duplicate name {name!r}"
        for value in (source.url, source.username, source.password):
            if "\r" in value or "\n" in value or value != value.strip():
                return [], f"unwritable value {value!r}"
    return sources, None


# -- running the task in-process ---------------------------------------------------------


class RecordingAgent(Agent):
    """An agent that remembers every command the task asks for, as the agent should see it."""

    def __init__(self, environ: Mapping[str, str], stdout: io.StringIO) -> None:
        super().__init__(environ, stdout)
        self.meant: list[Command] = []

    def set_secret(self, value: str) -> None:
        if value and value not in self._secrets:
            self.meant.append(Command("task.setsecret", {}, value))
        super().set_secret(value)

    def command(
        self, name: str, properties: Mapping[str, str] | None = None, message: str = ""
    ) -> None:
        props = {k: self.mask(v) for k, v in (properties or {}).items() if v}
        self.meant.append(Command(name, props, self.mask(message)))
        super().command(name, properties, message)

    def set_variable(
        self, name: str, value: str, *, secret: bool = False, output: bool = False
    ) -> None:
        # A variable's value is meant as it is: never masked (see Agent.set_variable).
        props = {"variable": name, "isOutput": str(output).lower(), "issecret": str(secret).lower()}
        self.meant.append(Command("task.setvariable", props, value))
        super().set_variable(name, value, secret=secret, output=output)


@dataclass
class Outcome:
    succeeded: bool
    stdout: str
    stderr: str
    meant: list[Command]
    commands: list[Command]

    def named(self, name: str) -> list[Command]:
        return [c for c in self.commands if c.command == name]

    def issues(self, kind: str) -> list[Command]:
        return [c for c in self.named("task.logissue") if c.properties.get("type") == kind]


def run_in_process(env: dict[str, str]) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    agent = RecordingAgent(env, out)
    with contextlib.redirect_stderr(err):
        ok = task.run(agent)
    stdout = out.getvalue()
    return Outcome(ok, stdout, err.getvalue(), agent.meant, parse_output(stdout))


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from twineauthenticate.emulator import Emulator

    with Emulator(token=BUILD_TOKEN) as emu:
        yield emu


@dataclass
class Case:
    given: Inputs
    temp: Path
    outcome: Outcome
    sources: list[Source]
    problem: str | None
    publishing: Publishing


@functools.lru_cache(maxsize=1)
def _messages() -> tuple[str, ...]:
    task_json = json.loads((Path(task.__file__).parent.parent / "task.json").read_text("utf-8"))
    return tuple(task_json["messages"].values())


def fixed_text(emu: Any, temp: Path) -> str:
    """Text the task prints whatever the inputs: messages, URLs, paths, property names."""
    return "\n".join(
        [
            *_messages(),
            emu.url,
            emu.collection_url,
            emu.packaging_url,
            PROXY_URL,
            str(temp),
            "##vso[task.setvariable variable=PYPIRC_PATH;isOutput=false;issecret=false;]",
            "TWINEAUTHENTICATE_WRITTEN",
            "task.logissue type=error task.debug task.complete result=Succeeded Failed",
            '{"path": "", "dir": "", "id": ""}',
            "{project}/_packaging/{feedId}/pypi/upload",
            "Upload route template: GET OPTIONS (attempt 1 of 4) -> HTTP 200",
            "__token__ build",
        ]
    )


def usable_secrets(given: Inputs, corpus: str) -> bool:
    """Secrets whose appearance would mean a leak, not a coincidence (see the docstring)."""
    for secret in given.secrets:
        if len(secret) < 8 or secret in corpus or MASK in secret or "*" in secret:
            return False
        if any(token in secret for token in ESCAPES):
            return False
        for value in [*given.plain, *given.secrets]:
            if secret in value:
                continue
            transformed = (escape_property(value), escape_message(value), neutralize(value))
            if any(secret in t for t in transformed):
                return False
    return True


@contextlib.contextmanager
def run_case(emu: Any, given: Inputs) -> Iterator[Case]:
    """Run the task on ``given`` in a fresh agent temp folder (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        temp = Path(folder) / "agent-temp"
        temp.mkdir()
        corpus = fixed_text(emu, temp)
        if given.pypirc_name:
            # PYPIRC_PATH's value is set as it is, never masked (the agent masks its
            # display): a secret inside the path is a coincidence, not a leak.
            path = str(temp / "given" / given.pypirc_name)
            corpus += "\n" + path + "\n" + json.dumps(path)
        assume(usable_secrets(given, corpus))
        emu.add_token(given.build_token)
        outcome = run_in_process(environment(given, temp, emu.collection_url))
        sources, problem, publishing = expected(given, emu.packaging_url)
        event("succeeded" if outcome.succeeded else "refused")
        event("configurePublishers" if given.publishers else "twine only")
        if given.publishers and outcome.succeeded:
            event("netrc written")
            if given.user_netrc:
                event("netrc written, with the user's entries")
        yield Case(given, temp, outcome, sources, problem, publishing)


def expected(given: Inputs, packaging: str) -> tuple[list[Source], str | None, Publishing]:
    sources, problem = expected_sources(given, packaging)
    publishing = expected_publishing(given, sources)
    return sources, problem or publishing.problem, publishing


SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


# -- (a) no secret in clear --------------------------------------------------------------


def check_no_secret_in_clear(stdout: str, stderr: str, secrets: Sequence[str]) -> None:
    for secret in secrets:
        assert secret_leaks(stdout, stderr, secret) == [], secret


@SETTINGS
@given(given=inputs())
def test_a_no_secret_in_clear(emulator: Any, given: Inputs) -> None:
    with run_case(emulator, given) as case:
        check_no_secret_in_clear(case.outcome.stdout, case.outcome.stderr, given.secrets)
        # Every secret the run could touch was registered, before anything else.
        registered = [c.message for c in case.outcome.named("task.setsecret")]
        assert sorted(registered) == sorted(set(given.secrets))
        first = case.outcome.stdout.split("\n")[: len(registered)]
        assert all(line.startswith("##vso[task.setsecret]") for line in first)


# -- (b) exactly the commands meant ------------------------------------------------------


def check_commands(
    commands: Sequence[Command],
    succeeded: bool,
    secrets: Sequence[str],
    sources: int,
    publishing: Publishing,
    publishers: bool,
) -> None:
    names = [c.command for c in commands]
    assert set(names) <= ALLOWED, names
    assert names.count("task.setsecret") == len(set(secrets))
    assert names.count("task.complete") == 1 and names[-1] == "task.complete"
    assert commands[-1].properties == {"result": "Succeeded" if succeeded else "Failed"}
    assert names.count("task.uploadsummary") == (1 if succeeded else 0)
    set_variables = [c for c in commands if c.command == "task.setvariable"]
    variables = {c.properties.get("variable"): c.message for c in set_variables}
    types = [c.properties.get("type") for c in commands if c.command == "task.logissue"]
    if succeeded:
        expected = dict.fromkeys(["PYPIRC_PATH", "TWINEAUTHENTICATE_WRITTEN"], "")
        expected.update(publishing.outputs)
        if publishers:
            expected["NETRC"] = ""
            expected.update(publishing.poetry)
        assert list(variables) == list(expected)
        assert len(set_variables) == len(expected)
        for name, value in expected.items():
            if value or name in publishing.outputs:
                assert variables[name] == value, name
        assert set(types) <= {"warning"}
        if not sources:
            assert types == ["warning"]
    else:
        assert variables == {}
        # One error, last; warnings may come before it (a token that is not a PyPI token).
        assert types.count("error") == 1 and types[-1] == "error", types
        assert set(types) == {"warning", "error"} or types == ["error"], types
    for command in set_variables:
        name = command.properties["variable"]
        assert name not in NEVER_SET
        assert command.properties == {
            "variable": name,
            "isOutput": "true" if name in publishing.outputs else "false",
            "issecret": "false",
        }
        assert (
            name in VARIABLES
            or name in publishing.outputs
            or (publishers and (name == "NETRC" or name in publishing.poetry))
        )
        if name != "PYPIRC_PATH" and name != "TWINEAUTHENTICATE_WRITTEN":
            assert not any(secret in command.message for secret in secrets), name


@SETTINGS
@given(given=inputs())
def test_b_exactly_the_commands_meant(emulator: Any, given: Inputs) -> None:
    with run_case(emulator, given) as case:
        outcome = case.outcome
        assert outcome.commands == outcome.meant
        check_commands(
            outcome.commands,
            outcome.succeeded,
            given.secrets,
            len(case.sources),
            case.publishing,
            given.publishers,
        )
        # Plain lines are plain: none starts a command, none holds a line break.
        for line in outcome.stdout.split("\n")[:-1]:
            assert "\r" not in line
            if not line.startswith("##vso["):
                assert "##vso[" not in line


# -- (c) written faithfully, or refused before writing -----------------------------------


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if not p.is_dir())


def check_file(
    temp: Path,
    succeeded: bool,
    sources: Sequence[Source],
    problem: str | None,
    pypirc_name: str | None = None,
    publishing: Publishing | None = None,
    given: Inputs | None = None,
) -> None:
    files = files_under(temp)
    assert succeeded == (problem is None), problem
    if not succeeded:
        assert files == []
        return
    summaries = [f for f in files if f.name.startswith("summary-") and f.suffix == ".md"]
    netrcs = [f for f in files if f.name == ".netrc"]
    assert len(summaries) == 1
    check_summary(summaries[0], sources, given.secrets if given else [])
    if given is not None and given.publishers:
        (netrc_path,) = netrcs
        assert publishing is not None
        check_netrc(netrc_path, publishing)
    else:
        assert netrcs == []
    (path,) = sorted(set(files) - set(summaries) - set(netrcs))
    if pypirc_name:
        assert path == temp / "given" / pypirc_name
    else:
        assert path.name == ".pypirc"
        assert path.parent.parent == temp / "twineAuthenticate"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    parser = configparser.RawConfigParser()
    with open(path) as handle:  # as twine opens it
        parser.read_file(handle)
    assert parser.get("distutils", "index-servers").split() == [s.name for s in sources]
    for source in sources:
        assert parser.get(source.name, "repository") == source.url
        assert parser.get(source.name, "username") == source.username
        assert parser.get(source.name, "password") == source.password
    from twine.utils import get_config

    config = get_config(str(path))
    for source in sources:
        assert config[source.name]["repository"] == source.url
        assert config[source.name]["username"] == source.username
        assert config[source.name]["password"] == source.password


@SETTINGS
@given(given=inputs())
def test_c_written_faithfully_or_refused(emulator: Any, given: Inputs) -> None:
    with run_case(emulator, given) as case:
        outcome = case.outcome
        check_file(
            case.temp,
            outcome.succeeded,
            case.sources,
            case.problem,
            given.pypirc_name,
            case.publishing,
            given,
        )
        if not outcome.succeeded:
            (error,) = outcome.issues("error")
            assert not error.message.startswith("The task failed unexpectedly"), error.message
            assert outcome.named("task.complete")[0].message == error.message


# -- the same, as a process --------------------------------------------------------------

EVIL = "##vso[task.setvariable variable=PYPIRC_PATH;]/tmp/evil"


@pytest.mark.parametrize(
    ("given", "succeeds"),
    [
        (
            Inputs(
                build_token="tok%;]" + EVIL + "é",
                feed=("Proj %;#'\"", "feed%;#'\"=é"),
                token_connection=("x%;#'\"=:$()", "https://h/" + EVIL, "apí;]#'\"tok"),
                password_connection=(
                    "пароль%",
                    "https://h/%0A%3B",
                    "us;]er" + EVIL,
                    "pw %;]\"'#" + "x9",
                ),
                proxy_user="proxy;]" + EVIL,
                proxy_password="proxy-pw;]#'\"%",
            ),
            True,
        ),
        (
            Inputs(
                build_token="tok%;]" + EVIL,
                feed=None,
                token_connection=("ok", "https://h/\n" + EVIL, "apí;]#'\"tok"),
                password_connection=None,
                proxy_user="",
                proxy_password="proxy-pw;]#'\"%",
            ),
            False,
        ),
    ],
)
def test_as_a_process(make_emulator: Any, agent_temp: Path, given: Inputs, succeeds: bool) -> None:
    emu = make_emulator()
    emu.add_token(given.build_token)
    secrets = [given.build_token, given.proxy_password]
    secrets += [c[-1] for c in (given.token_connection, given.password_connection) if c]
    given.secrets = secrets
    env = environment(given, agent_temp, emu.collection_url)
    run = run_task(env)
    sources, problem, publishing = expected(given, emu.packaging_url)
    assert run.returncode == (0 if succeeds else 1), run.stdout
    assert (problem is None) == succeeds
    check_no_secret_in_clear(run.stdout, run.stderr, secrets)
    check_commands(run.commands, succeeds, secrets, len(sources), publishing, given.publishers)
    check_file(agent_temp, succeeds, sources, problem, None, publishing, given)
    assert "/tmp/evil" not in run.variables.get("PYPIRC_PATH", "")
    assert run.stderr == ""
