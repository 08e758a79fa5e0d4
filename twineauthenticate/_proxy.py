"""Proxies: which one a URL goes through, its credentials, and how to show it.

The agent's proxy (``Agent.ProxyUrl``, its user name and password, and
``Agent.ProxyBypassList``) or, without one, the ``*_PROXY``/``NO_PROXY`` variables
of the task's environment, as curl and requests read them. The credentials travel
in a ``Proxy-Authorization`` header (:func:`basic_auth`), never in a URL that
could be printed (:func:`safe_proxy`).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from ._messages import Msg
from ._record import dataclass


def basic_auth(token: str, user: str = "vsts") -> str:
    raw = f"{user}:{token}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def proxy_url(raw: str) -> str:
    """``Agent.ProxyUrl`` with a scheme (the agent accepts ``host:port``)."""
    raw = raw.strip()
    if raw and "://" not in raw:
        raw = "http://" + raw
    return raw


@dataclass(frozen=True)
class Proxy:
    """A proxy to use for one URL: its URL without credentials, and its credentials."""

    url: str
    username: str = ""
    password: str = ""

    @property
    def authorization(self) -> str:
        return basic_auth(self.password, self.username) if self.username else ""


def without_credentials(url: str) -> tuple[str, str, str]:
    """``url`` without user information, and that user name and password (decoded)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, "", ""
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return parts._replace(netloc=hostport).geturl(), unquote(user), unquote(password)


def env_proxy(environ: Mapping[str, str], name: str) -> str:
    """A proxy variable, lower case first (as curl and requests read them)."""
    return (environ.get(name.lower()) or environ.get(name.upper()) or "").strip()


def no_proxy_matches(no_proxy: str, url: str) -> bool:
    """Whether ``NO_PROXY`` (comma-separated hosts, domains, IPs or CIDRs, ``*``) covers ``url``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return False
    try:
        port: int | None = parts.port
    except ValueError:
        port = None
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.count(":") == 1 and not entry.startswith("["):
            entry, _, port_text = entry.partition(":")
            if port_text.isdigit():
                entry_port = int(port_text)
        entry = entry.strip("[]").lstrip("*").lstrip(".").rstrip(".")
        if not entry or (entry_port is not None and entry_port != port):
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if host == entry or host.endswith("." + entry):
            return True
    return False


def scheme_of(url: str) -> str:
    return urlsplit(url).scheme.lower()


def proxy_key(url: str) -> str:
    """A proxy URL reduced to scheme, host and port, as ``requests`` may rewrite it."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{parts.port}"
    except ValueError:
        return url


def safe_proxy(url: str) -> str | Msg:
    """A proxy URL fit to print: scheme, host and port only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return Msg("Reason_ConfiguredProxy")
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}" if parts.scheme else Msg("Reason_ConfiguredProxy")
