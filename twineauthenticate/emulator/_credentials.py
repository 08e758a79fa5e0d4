"""Accepted tokens and parsing of the ``Authorization`` header."""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    scheme: str  # "basic" or "bearer" (lower case)
    user: str | None
    secret: str


def parse_authorization(value: str | None) -> Credentials | None:
    """Credentials from an ``Authorization`` header, or None when absent or malformed."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    rest = rest.strip()
    if scheme.lower() == "bearer" and rest:
        return Credentials("bearer", None, rest)
    if scheme.lower() != "basic" or not rest:
        return None
    try:
        decoded = base64.b64decode(rest, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return Credentials("basic", user, password)


class TokenRegistry:
    """Tokens the emulator accepts.

    *Agent tokens* (the build token and tokens added with :meth:`add`) are
    accepted everywhere, also as the bearer token of the OIDC endpoint.
    *Access tokens* issued by the Entra endpoint are accepted as passwords on the
    API and feed endpoints only.
    """

    def __init__(self, build_token: str) -> None:
        self._lock = threading.Lock()
        self._agent: set[str] = set()
        self._access: set[str] = set()
        self.add(build_token)

    def add(self, token: str) -> None:
        if not token:
            raise ValueError("token must not be empty")
        with self._lock:
            self._agent.add(token)

    def add_access_token(self, token: str) -> None:
        with self._lock:
            self._access.add(token)

    def revoke(self, token: str) -> None:
        with self._lock:
            self._agent.discard(token)
            self._access.discard(token)

    def accepts(self, token: str) -> bool:
        with self._lock:
            return token in self._agent or token in self._access

    def accepts_agent_token(self, token: str) -> bool:
        with self._lock:
            return token in self._agent
