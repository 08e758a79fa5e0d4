"""The contract of configurePublishers for tests/test_hostile_inputs.py, stated
independently of the task's code: the output variables, poetry's variables and the
netrc file a run must give the later steps, or why it must refuse; and the checks of
the netrc file and the summary it writes."""

from __future__ import annotations

import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

USER_HOST = "user.example"  # the host of the entry in the user's own netrc
NETRC_KEYWORDS = {"machine", "default", "login", "password", "account", "macdef"}


def netrc_safe(value: str) -> bool:
    """A value every netrc reader reads back as it is (Python 3.9+, uv, curl)."""
    return (
        bool(value)
        and all(33 <= ord(c) <= 126 for c in value)
        and not any(c in value for c in "\"'\\")
        and not value.startswith("#")
        and value not in NETRC_KEYWORDS
    )


def _simple(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    if path.endswith("/upload"):
        return f"{parts.scheme}://{parts.netloc}{path[: -len('upload')]}simple/"
    if path == "/legacy" and parts.hostname in ("upload.pypi.org", "test.pypi.org"):
        return (
            "https://"
            + ("pypi.org" if parts.hostname == "upload.pypi.org" else "test.pypi.org")
            + "/simple/"
        )
    return f"{parts.scheme}://{parts.netloc}/simple/" if not path else ""


@dataclass
class Publishing:
    """What a successful run gives the later steps, or why configurePublishers refuses."""

    outputs: dict[str, str]  # output variable -> value, in order
    poetry: dict[str, str]  # POETRY_REPOSITORIES_*_URL -> URL
    netrc: dict[str, tuple[str, str, str]]  # host -> (login, account, password)
    problem: str | None = None


def expected_publishing(given: Any, sources: Sequence[Any]) -> Publishing:
    """``given``: the drawn inputs (secrets, publishers, user_netrc); ``sources``: the
    repositories the .pypirc lists (name, url, username, password)."""

    def holds_secret(value: str) -> bool:
        return any(secret in value for secret in given.secrets)

    public = [s for s in sources if not holds_secret(s.url) and not holds_secret(s.name)]
    outputs: dict[str, str] = {}
    if public:
        first = public[0]
        outputs.update(repositoryName=first.name, uploadUrl=first.url, simpleUrl=_simple(first.url))
    outputs["repositoryNames"] = " ".join(source.name for source in public)
    keys: set[str] = set()
    for source in public:
        key = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in source.name)
        if key.lower() not in keys and not holds_secret(key):
            keys.add(key.lower())
            outputs[f"{key}_uploadUrl"] = source.url
            outputs[f"{key}_simpleUrl"] = _simple(source.url)
    result = Publishing(outputs, {}, {})
    if not given.publishers:
        return result
    credentials: dict[str, tuple[str, str]] = {}
    for source in sources:
        try:
            host = (urlsplit(source.url).hostname or "").lower()
        except ValueError:
            host = ""
        if not host:
            return Publishing(outputs, {}, {}, "no host")
        if not all(netrc_safe(v) for v in (host, source.username, source.password)):
            return Publishing(outputs, {}, {}, "not a netrc value")
        credentials.setdefault(host, (source.username, source.password))
    result.netrc = {h: (login, "", pw) for h, (login, pw) in credentials.items()}
    if given.user_netrc:
        import netrc

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "netrc"
            login, password = given.user_netrc
            path.write_text(f"machine {USER_HOST}\n  login {login}\n  password {password}\n")
            try:
                hosts = netrc.netrc(str(path)).hosts
            except netrc.NetrcParseError:
                return Publishing(outputs, {}, {}, "the user's netrc does not parse")
        for host, (user, account, secret) in hosts.items():
            if host.lower() in credentials:
                continue
            if not all(netrc_safe(v) for v in (host, user, account, secret) if v):
                return Publishing(outputs, {}, {}, "the user's netrc cannot be copied")
            result.netrc[host] = (user or "", account or "", secret or "")
    for source in sources:
        if not source.name or any(
            not (c.isascii() and (c.isalnum() or c in "._-")) for c in source.name
        ):
            continue
        variable = (
            "POETRY_REPOSITORIES_"
            + source.name.upper().replace("-", "_").replace(".", "_")
            + "_URL"
        )
        if (
            variable not in result.poetry
            and not holds_secret(source.url)
            and not holds_secret(source.name)
            and not holds_secret(variable)
        ):
            result.poetry[variable] = source.url
        elif variable not in result.poetry:
            result.poetry[variable] = ""  # taken, but not set
    result.poetry = {k: v for k, v in result.poetry.items() if v}
    return result


def check_netrc(path: Path, publishing: Publishing) -> None:
    """Python's netrc (pip, requests, poetry) reads back exactly the entries meant."""
    import netrc

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    hosts = {
        host: (login or "", account or "", password or "")
        for host, (login, account, password) in netrc.netrc(str(path)).hosts.items()
    }
    assert hosts == publishing.netrc


def check_summary(path: Path, sources: Sequence[Any], secrets: Sequence[str]) -> None:
    """No secret, and no markup of the user's: one table row per repository, each with
    exactly the table's four cells, and no raw HTML."""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    assert not any(secret in text for secret in secrets)
    rows = [line for line in text.split("\n") if line.startswith("| ")]
    assert len(rows) == 1 + len(sources)
    for row in rows:
        cells = row.replace("\\\\", "").replace("\\|", "")
        assert cells.count("|") == 5, row
    table = "\n".join(rows)
    assert "<" not in table and ">" not in table
