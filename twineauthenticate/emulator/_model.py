"""Plain value types shared by the emulator's modules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feed:
    """An Azure Artifacts feed: organization-scoped, or project-scoped when ``project`` is set."""

    name: str
    project: str | None = None

    def __post_init__(self) -> None:
        _check_name("feed", self.name)
        if self.project is not None:
            _check_name("project", self.project)


@dataclass(frozen=True)
class Urls:
    """Where the emulator serves each host (Server mode: all hosts are the collection)."""

    base: str  # no trailing slash
    collection: str  # trailing slash
    packaging: str  # trailing slash
    feeds: str  # trailing slash
    collection_segments: tuple[str, ...]
    packaging_segments: tuple[str, ...]
    feeds_segments: tuple[str, ...]

    @property
    def oidc_request_uri(self) -> str:
        return self.base + "/_oidc/token"

    @property
    def authority(self) -> str:
        return self.base + "/_entra/"


@dataclass(frozen=True)
class RequestRecord:
    """One request the emulator received.

    ``status`` is the status code sent, or 0 when the connection was dropped or
    held open without an answer (fault injection). ``auth_ok`` is None when the
    endpoint needs no authentication. ``user`` is the HTTP Basic user name sent,
    if any.
    """

    method: str
    path: str
    status: int
    auth_ok: bool | None
    user: str | None


def _check_name(kind: str, value: str) -> None:
    if not value or value != value.strip():
        raise ValueError(f"{kind} name must be non-empty without surrounding spaces: {value!r}")
    if "/" in value or "\\" in value or value in {".", ".."}:
        raise ValueError(f"{kind} name must not contain a slash: {value!r}")
