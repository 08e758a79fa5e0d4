"""The ``.pypirc`` file: names twine can use, exact layout, private atomic write.

The layout is byte for byte the one of Microsoft's task, so the same
``twine upload -r NAME --config-file $(PYPIRC_PATH)`` works with either.
"""

from __future__ import annotations

import configparser
import json
from collections.abc import Sequence
from pathlib import Path

from ._files import FOLDER as FOLDER  # re-exported: the post-job step and the tests use them
from ._files import file_identity as file_identity
from ._files import make_private_dirs, private_dir, write_atomic
from ._messages import Msg
from ._record import dataclass
from .agent import Agent
from .exceptions import TaskError
from .repository import Repository

FILE_NAME = ".pypirc"
# The job variable through which a run tells later runs and the post-job step which
# file it wrote: {"path": ..., "dir": the private folder it made or "", "id": file_identity}.
STATE_VARIABLE = "TWINEAUTHENTICATE_WRITTEN"
# Section names twine cannot select, and why (message keys).
RESERVED = {
    "distutils": "Reason_NameDistutils",
    "DEFAULT": "Reason_NameDefault",
}


def name_problem(name: str) -> Msg | None:
    """Why twine could not select ``name`` with ``-r``, or ``None`` when it can."""
    if not name:
        return Msg("Reason_NameEmpty")
    if any(c.isspace() for c in name):
        return Msg("Reason_NameSpace")
    if "[" in name or "]" in name:
        return Msg("Reason_NameBracket")
    if not name.isprintable():
        return Msg("Reason_NameControl")
    if name in RESERVED:  # configparser and twine match these names exactly
        return Msg(RESERVED[name])
    return None


def value_problem(value: str) -> Msg | None:
    """Why ``value`` would not read back unchanged, or ``None`` when it would."""
    if "\n" in value or "\r" in value:
        return Msg("Reason_ValueLineBreak")
    if value != value.strip():
        return Msg("Reason_ValueSpace")
    if "\x00" in value:
        return Msg("Reason_ValueNul")
    return None


def check_names(sources: Sequence[tuple[str, Msg]]) -> None:
    """Refuse names twine cannot select and duplicates; ``sources`` are (name, origin)."""
    seen: dict[str, Msg] = {}
    for name, origin in sources:
        problem = name_problem(name)
        if problem:
            raise TaskError("Error_UnusableName", name, origin, problem)
        if name in seen:
            raise TaskError("Error_DuplicateName", name, seen[name], origin)
        seen[name] = origin


def check_repositories(repositories: Sequence[Repository]) -> None:
    """Refuse names twine cannot select, duplicates, and values that would not read back."""
    check_names([(repo.name, repo.origin) for repo in repositories])
    for repo in repositories:
        for label, value in (
            ("Field_Url", repo.url),
            ("Field_UserName", repo.username),
            ("Field_Password", repo.password),
        ):
            problem = value_problem(value)
            if problem:
                raise TaskError("Error_UnsafeValue", Msg(label), repo.origin, problem)


def render(repositories: Sequence[Repository]) -> str:
    """The file's text: the exact layout of Microsoft's task (no trailing newline)."""
    header = "[distutils]\nindex-servers=" + " ".join(r.name for r in repositories) + "\n\n"
    blocks = (
        f"[{r.name}]\nrepository={r.url}\nusername={r.username}\npassword={r.password}"
        for r in repositories
    )
    return header + "\n\n".join(blocks)


def read_back_problem(path: Path, repositories: Sequence[Repository]) -> str | Msg | None:
    """Read ``path`` as twine does and compare; ``None`` when every value matches."""
    parser = configparser.RawConfigParser()
    try:
        with open(path) as handle:  # the locale's encoding, as twine opens it
            parser.read_file(handle)
    except (configparser.Error, UnicodeError, OSError) as exc:
        return type(exc).__name__
    servers = parser.get("distutils", "index-servers", fallback="").split()
    if servers != [r.name for r in repositories]:
        return Msg("Reason_ReadBackList")
    for repo in repositories:
        for key, value in (
            ("repository", repo.url),
            ("username", repo.username),
            ("password", repo.password),
        ):
            if parser.get(repo.name, key, fallback=None) != value:
                return Msg("Reason_ReadBackValue", key, repo.name)
    return None


@dataclass(frozen=True)
class Target:
    """Where the file goes: ``PYPIRC_PATH`` when set, else a new private folder."""

    explicit: Path | None
    base: Path | None  # Agent.TempDirectory/twineAuthenticate when no explicit path


def plan_target(agent: Agent) -> Target:
    """Check where the file will go, without creating anything yet."""
    explicit = agent.get_variable("PYPIRC_PATH")
    if explicit:
        path = Path(explicit)
        if not path.is_absolute():  # it would depend on the folder each step runs in
            raise TaskError("Error_PypircRelative", explicit)
        if path.is_symlink():
            raise TaskError("Error_PypircIsLink", explicit)
        if path.exists() and not path.is_file():
            raise TaskError("Error_PypircNotFile", explicit)
        return Target(path, None)
    temp = agent.get_variable("Agent.TempDirectory")
    if not temp:
        raise TaskError("Error_NoTempDirectory")
    return Target(None, Path(temp) / FOLDER)


def earlier_record(agent: Agent) -> dict[str, str]:
    """What a run of this job recorded in ``STATE_VARIABLE`` (empty when nothing)."""
    raw = agent.get_variable(STATE_VARIABLE)
    try:
        state = json.loads(raw) if raw else None
    except ValueError:
        return {}
    if not isinstance(state, dict):
        return {}
    return {key: value for key, value in state.items() if isinstance(value, str)}


@dataclass(frozen=True)
class Written:
    path: Path
    created_dir: Path | None
    identity: str  # file_identity() of the file written


def write(target: Target, text: str, repositories: Sequence[Repository]) -> Written:
    """Write ``text`` atomically with mode 0600 and check it reads back as meant.

    The text goes to a temporary file in the destination's folder, opened with
    ``O_EXCL | O_NOFOLLOW``, then renamed over the destination. On any failure the
    temporary file (and a folder created for it) is removed and an existing file
    at the destination is left as it was.
    """
    created: Path | None = None
    where = target.explicit or target.base or Path(FILE_NAME)
    done = False
    try:
        if target.explicit is None:
            assert target.base is not None
            created = private_dir(target.base)
            path = created / FILE_NAME
        else:
            path = target.explicit
            if not path.parent.exists():
                make_private_dirs(path.parent)
                created = path.parent
        where = path

        def check(tmp: Path) -> None:
            problem = read_back_problem(tmp, repositories)
            if problem:
                raise TaskError("Error_ReadBack", problem)

        identity = write_atomic(
            path, text.encode("utf-8"), check, TaskError("Error_PypircIsLink", path)
        )
        done = True
        return Written(path, created, identity)
    except OSError as exc:
        raise TaskError("Error_WriteFailed", where, exc.strerror or str(exc)) from None
    finally:
        if not done and created is not None:
            try:
                created.rmdir()
            except OSError:
                pass
