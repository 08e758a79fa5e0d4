"""The netrc file that uv, pip, poetry and other requests-based tools read (``NETRC``).

netrc has one entry per host, so the first repository of a host gives it its
credentials; another repository of the same host with the same credentials shares
the entry (several feeds of one organization), one with other credentials gets a
warning. The entries of the user's own netrc (``NETRC``, else ``~/.netrc``) are
kept, except those for a host the task writes. Every value must read back
unchanged with every netrc reader (Python 3.9 to 3.14, uv, curl): no white space,
quote or backslash, no leading ``#``, no keyword; anything else is refused before
a file is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from ._files import write_atomic
from ._record import dataclass, field
from .agent import Agent
from .exceptions import TaskError
from .repository import Repository

FILE_NAME = ".netrc"
KEYWORDS = frozenset({"machine", "default", "login", "password", "account", "macdef"})


@dataclass(frozen=True)
class Entry:
    host: str  # "default" for the default entry
    login: str
    password: str
    account: str = ""

    def __repr__(self) -> str:  # never show the password, even by accident
        return f"Entry(host={self.host!r}, login={self.login!r}, password='***')"


@dataclass(frozen=True)
class Plan:
    """What the file will hold: the task's entries first, then the user's."""

    entries: tuple[Entry, ...]
    kept: tuple[Entry, ...] = ()
    macros: dict[str, tuple[str, ...]] = field(default_factory=dict)
    user_file: str = ""  # the netrc whose entries are kept ("" when there is none)
    served: tuple[str, ...] = ()  # names of the repositories the file gives credentials to


def safe(value: str) -> bool:
    """Whether every netrc reader reads ``value`` back unchanged as one token."""
    return (
        bool(value)
        and value.isascii()
        and value.isprintable()
        and not any(c in value for c in " \"'\\")
        and not value.startswith("#")
        and value not in KEYWORDS
    )


def host_of(url: str) -> str:
    """The host netrc matches for ``url`` (lower case, no port); ``""`` when none."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def user_netrc(agent: Agent) -> Path | None:
    """The netrc file the later steps would read without the task: ``NETRC``, else
    ``~/.netrc``; ``None`` when there is none."""
    raw = agent.environ.get("NETRC") or ""
    if not raw:
        home = agent.environ.get("HOME") or agent.environ.get("USERPROFILE") or ""
        if not home:
            return None
        raw = str(Path(home) / FILE_NAME)
    path = Path(raw)
    return path if path.exists() else None


def _read(path: Path) -> tuple[dict[str, Entry], dict[str, tuple[str, ...]]]:
    """Entries and macros of a netrc file as Python's netrc module reads it."""
    import netrc

    parsed = netrc.netrc(str(path))
    hosts = {
        host: Entry(host, login or "", password or "", account or "")
        for host, (login, account, password) in parsed.hosts.items()
    }
    macros = {name: tuple(lines) for name, lines in parsed.macros.items()}
    return hosts, macros


def _errno_name(exc: OSError) -> str:
    import errno

    return errno.errorcode.get(exc.errno or 0, "") or type(exc).__name__


def _user_entries(
    path: Path, taken: set[str]
) -> tuple[tuple[Entry, ...], dict[str, tuple[str, ...]]]:
    import netrc

    try:
        hosts, macros = _read(path)
    except netrc.NetrcParseError as exc:
        raise TaskError("Error_NetrcUnreadable", path, exc.lineno) from None
    except OSError as exc:
        raise TaskError("Error_NetrcUnreadable", path, _errno_name(exc)) from None
    kept: list[Entry] = []
    for entry in hosts.values():
        if entry.host.lower() in taken:
            continue  # the task's entry replaces it
        host_ok = entry.host == "default" or safe(entry.host)
        values = (entry.login, entry.password, entry.account)
        if not host_ok or not all(safe(v) for v in values if v):
            raise TaskError("Error_NetrcUserValue", entry.host, path)
        kept.append(entry)
    for name, lines in macros.items():
        if not safe(name) or any(not line.strip() or "\r" in line for line in lines):
            raise TaskError("Error_NetrcUserValue", name, path)
    # "default" must come last: a reader stops at it.
    kept.sort(key=lambda e: e.host == "default")
    return tuple(kept), macros


def plan(agent: Agent, repositories: Sequence[Repository]) -> Plan:
    """Check every value and work out the file, before anything is written."""
    entries: list[Entry] = []
    by_host: dict[str, tuple[Entry, str]] = {}
    served: list[str] = []
    for repo in repositories:
        host = host_of(repo.url)
        if not host:
            raise TaskError("Error_NetrcNoHost", repo.name)
        if not (safe(host) and safe(repo.username) and safe(repo.password)):
            raise TaskError("Error_NetrcUnsafeValue", repo.name)
        entry = Entry(host, repo.username, repo.password)
        if host in by_host:
            first, first_name = by_host[host]
            if (first.login, first.password) != (entry.login, entry.password):
                message = agent.loc("Warn_NetrcHostTaken", repo.name, first_name, host, repo.name)
                agent.warning(message)
                continue
        else:
            by_host[host] = (entry, repo.name)
            entries.append(entry)
        served.append(repo.name)
    path = user_netrc(agent)
    kept: tuple[Entry, ...] = ()
    macros: dict[str, tuple[str, ...]] = {}
    if path is not None:
        kept, macros = _user_entries(path, set(by_host))
    return Plan(tuple(entries), kept, macros, str(path or ""), tuple(served))


def _entry_text(entry: Entry) -> str:
    head = "default" if entry.host == "default" else f"machine {entry.host}"
    lines = [head]
    if entry.login:
        lines.append(f"  login {entry.login}")
    if entry.account:
        lines.append(f"  account {entry.account}")
    if entry.password:
        lines.append(f"  password {entry.password}")
    return "\n".join(lines) + "\n"


def render(netrc_plan: Plan) -> str:
    """The file's text: the task's entries, the user's, their macros, then ``default``."""
    entries = [*netrc_plan.entries, *netrc_plan.kept]
    plain = [e for e in entries if e.host != "default"]
    default = [e for e in entries if e.host == "default"]
    text = "".join(_entry_text(e) for e in plain)
    for name, lines in netrc_plan.macros.items():
        body = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        text += f"macdef {name}\n{body}\n"
    return text + "".join(_entry_text(e) for e in default)


def _expected(netrc_plan: Plan) -> dict[str, tuple[str, str, str]]:
    return {
        e.host: (e.login, e.account, e.password) for e in (*netrc_plan.entries, *netrc_plan.kept)
    }


def read_back_problem(path: Path, netrc_plan: Plan) -> str | None:
    """Read ``path`` as Python's netrc module does (pip, requests, poetry) and compare;
    ``None`` when every entry matches, else the first host that differs."""
    import netrc

    try:
        hosts, macros = _read(path)
    except (netrc.NetrcParseError, OSError, UnicodeError):
        return FILE_NAME
    got = {h: (e.login, e.account, e.password) for h, e in hosts.items()}
    expected = _expected(netrc_plan)
    for host in sorted(set(got) | set(expected)):
        if got.get(host) != expected.get(host):
            return host
    if {k: tuple(v) for k, v in macros.items()} != {
        k: tuple(line if line.endswith("\n") else line + "\n" for line in v)
        for k, v in netrc_plan.macros.items()
    }:
        return "macdef"
    return None


def write(folder: Path, netrc_plan: Plan) -> tuple[Path, str]:
    """Write the file into the task's private folder; (path, identity)."""
    path = folder / FILE_NAME

    def check(tmp: Path) -> None:
        problem = read_back_problem(tmp, netrc_plan)
        if problem:
            raise TaskError("Error_NetrcReadBack", problem)

    identity = write_atomic(
        path, render(netrc_plan).encode("ascii"), check, TaskError("Error_FileIsLink", path)
    )
    return path, identity
