"""The bounds of the task's HTTP calls and how the agent's variables change them.

Defaults (documented in docs/reliability.md): 5 s to connect, 10 s of silence while
reading, 10 attempts per call with backoff 0.25 s doubling to 2 s (each x0.75-1.25
at random) or what ``Retry-After`` asks up to 20 s, and 30 s in all for a run. The
pipeline variables ``TwineAuthenticate.ConnectTimeout``, ``.ReadTimeout``,
``.Deadline`` and ``.Attempts`` override them; proxy and CA come from the agent too.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ._proxy import proxy_url
from ._record import dataclass
from .agent import Agent

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
DEADLINE = 30.0
ATTEMPTS = 10
BACKOFF = 0.25  # first wait; doubles each time, at most BACKOFF_MAX
BACKOFF_MAX = 2.0
JITTER = 0.25  # each backoff wait is multiplied by a random factor in [1 - JITTER, 1 + JITTER]
RETRY_AFTER_MAX = 20.0  # a longer Retry-After fails the call at once

VARIABLE_CONNECT_TIMEOUT = "TwineAuthenticate.ConnectTimeout"
VARIABLE_READ_TIMEOUT = "TwineAuthenticate.ReadTimeout"
VARIABLE_DEADLINE = "TwineAuthenticate.Deadline"
VARIABLE_ATTEMPTS = "TwineAuthenticate.Attempts"


def _number(agent: Agent, name: str, default: float) -> float:
    raw = agent.get_variable(name)
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if math.isfinite(value) and value > 0 else default


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts, proxy and CA of the run, from the agent's variables."""

    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    deadline: float = DEADLINE
    attempts: int = ATTEMPTS
    proxy_url: str = ""
    proxy_username: str = ""
    proxy_password: str = ""
    proxy_bypass: tuple[str, ...] = ()
    ca_file: str = ""
    retry_after_max: float = RETRY_AFTER_MAX

    @classmethod
    def from_agent(cls, agent: Agent) -> HttpSettings:
        bypass: tuple[str, ...] = ()
        raw_bypass = agent.get_variable("Agent.ProxyBypassList")
        if raw_bypass:
            try:
                items: Any = json.loads(raw_bypass)
            except ValueError:
                items = []
            if isinstance(items, list):
                bypass = tuple(str(i) for i in items if i)
        password = agent.get_variable("Agent.ProxyPassword")
        agent.set_secret(password)
        env = agent.environ
        ca_file = (
            agent.get_variable("Agent.CAInfo")
            or env.get("REQUESTS_CA_BUNDLE", "")
            or env.get("CURL_CA_BUNDLE", "")
        )
        return cls(
            connect_timeout=_number(agent, VARIABLE_CONNECT_TIMEOUT, CONNECT_TIMEOUT),
            read_timeout=_number(agent, VARIABLE_READ_TIMEOUT, READ_TIMEOUT),
            deadline=_number(agent, VARIABLE_DEADLINE, DEADLINE),
            attempts=max(1, int(_number(agent, VARIABLE_ATTEMPTS, ATTEMPTS))),
            proxy_url=proxy_url(agent.get_variable("Agent.ProxyUrl")),
            proxy_username=agent.get_variable("Agent.ProxyUsername"),
            proxy_password=password,
            proxy_bypass=bypass,
            ca_file=ca_file,
        )
