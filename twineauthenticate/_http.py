"""Every HTTP call the task makes goes through here: timeouts, retries, proxy, CA.

``requests`` is imported on the first request only, so a run that needs no network
(service connections only) never loads it.

Bounds (documented in the README): each attempt has a connect timeout and a read
timeout; transient failures (connection errors, timeouts, 429, 500, 502, 503, 504)
are retried with exponential backoff, honouring ``Retry-After``, at most
``attempts`` times per call; and all calls of one run share one total deadline.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from . import __version__
from .agent import Agent
from .exceptions import TaskError

if TYPE_CHECKING:  # pragma: no cover
    import requests

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
DEADLINE = 30.0
ATTEMPTS = 4
BACKOFF = 0.5  # first wait; doubles each time, at most BACKOFF_MAX
BACKOFF_MAX = 4.0
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"TwineAuthenticate/{__version__} (python)"


def _number(agent: Agent, name: str, default: float) -> float:
    raw = agent.get_variable(name)
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 else default


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
        return cls(
            connect_timeout=_number(agent, "TwineAuthenticate.ConnectTimeout", CONNECT_TIMEOUT),
            read_timeout=_number(agent, "TwineAuthenticate.ReadTimeout", READ_TIMEOUT),
            deadline=_number(agent, "TwineAuthenticate.Deadline", DEADLINE),
            attempts=max(1, int(_number(agent, "TwineAuthenticate.Attempts", ATTEMPTS))),
            proxy_url=agent.get_variable("Agent.ProxyUrl"),
            proxy_username=agent.get_variable("Agent.ProxyUsername"),
            proxy_password=password,
            proxy_bypass=bypass,
            ca_file=agent.get_variable("Agent.CAInfo"),
        )


@dataclass(frozen=True)
class HttpResponse:
    status: int
    url: str
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return ""

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise TaskError("Error_BadResponse", self.url, f"HTTP {self.status}, {exc}") from None

    def reason(self) -> str:
        """A short reason from an error body: ``message``, or ``error_description``/``error``."""
        try:
            data: Any = json.loads(self.text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "error_description", "error"):
                if data.get(key):
                    return str(data[key])[:500]
        return self.text.strip()[:200] or f"HTTP {self.status}"


def basic_auth(token: str, user: str = "vsts") -> str:
    raw = f"{user}:{token}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _retry_after(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def _reason(exc: BaseException) -> str:
    """The most telling part of a ``requests``/``urllib3`` exception."""
    text = str(exc)
    match = _ERRNO.search(text)
    if match:
        return match.group(1).strip()
    for marker in ("certificate verify failed: ", "SSLError(", "Caused by "):
        if marker in text:
            return text.split(marker, 1)[1].split("'")[0].split(" (")[0].strip(' ()"') or text
    return text[:300]


class HttpClient:
    """The task's one HTTP client. Counts the requests it sends."""

    def __init__(self, agent: Agent, settings: HttpSettings | None = None) -> None:
        self.agent = agent
        self.settings = settings or HttpSettings.from_agent(agent)
        self.requests_sent = 0
        self._session: requests.Session | None = None
        self._started = time.monotonic()

    # -- configuration ---------------------------------------------------------------

    def _get_session(self) -> requests.Session:
        if self._session is None:
            import requests

            session = requests.Session()
            # Proxies, CA bundle and credentials come from here only, never from ~/.netrc.
            session.trust_env = False
            self._session = session
        return self._session

    def _proxies(self, url: str) -> dict[str, str]:
        s = self.settings
        if s.proxy_url:
            for pattern in s.proxy_bypass:
                try:
                    if re.search(pattern, url, re.IGNORECASE):
                        return {}
                except re.error:
                    continue
            proxy = s.proxy_url
            if s.proxy_username:
                parts = urlsplit(proxy)
                creds = quote(s.proxy_username, safe="")
                if s.proxy_password:
                    creds += ":" + quote(s.proxy_password, safe="")
                proxy = parts._replace(netloc=f"{creds}@{parts.netloc}").geturl()
            return {"http": proxy, "https": proxy}
        import requests.utils

        return dict(requests.utils.get_environ_proxies(url))

    def _verify(self) -> bool | str:
        if self.settings.ca_file:
            return self.settings.ca_file
        env = self.agent.environ
        return env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True

    # -- requests --------------------------------------------------------------------

    def remaining(self) -> float:
        return self.settings.deadline - (time.monotonic() - self._started)

    def request(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        what: str = "",
    ) -> HttpResponse:
        """Send one request, retrying transient failures; any final status is returned.

        Connection, timeout, TLS and proxy failures that outlast the retries raise
        :class:`TaskError`.
        """
        import requests

        what = what or url
        all_headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "X-TFS-FedAuthRedirect": "Suppress",
        }
        if token is not None:
            all_headers["Authorization"] = basic_auth(token)
        all_headers.update(headers or {})
        session = self._get_session()
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            left = self.remaining()
            if left <= 0:
                raise TaskError("Error_HttpTimeout", what, _fmt(s.read_timeout), _fmt(s.deadline))
            timeout = (min(s.connect_timeout, left), min(s.read_timeout, left))
            self.requests_sent += 1
            self.agent.debug(f"{method} {url} (attempt {attempt})")
            failure: TaskError
            wait: float | None = None
            try:
                response = session.request(
                    method,
                    url,
                    headers=all_headers,
                    data=data,
                    timeout=timeout,
                    proxies=self._proxies(url),
                    verify=self._verify(),
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                raise TaskError("Error_HttpTls", what, _reason(exc)) from None
            except requests.exceptions.ProxyError as exc:
                failure = TaskError("Error_HttpProxy", _safe_proxy(s.proxy_url), what, _reason(exc))
                reason = "proxy error"
            except requests.exceptions.Timeout:
                failure = TaskError(
                    "Error_HttpTimeout", what, _fmt(s.read_timeout), _fmt(s.deadline)
                )
                reason = "no answer in time"
            except requests.exceptions.RequestException as exc:
                failure = TaskError("Error_HttpConnection", what, _reason(exc))
                reason = _reason(exc)
            else:
                result = HttpResponse(
                    response.status_code, url, response.text, dict(response.headers)
                )
                self.agent.debug(f"{method} {url} -> HTTP {result.status}")
                if result.status not in TRANSIENT_STATUS:
                    return result
                failure = TaskError("Error_HttpStatus", what, result.status, result.reason())
                reason = f"HTTP {result.status}"
                wait = _retry_after(result.header("Retry-After"))
            if attempt >= s.attempts:
                raise failure
            if wait is None:
                wait = min(BACKOFF * 2 ** (attempt - 1), BACKOFF_MAX)
            if wait >= self.remaining():
                raise failure
            self.agent.info(
                self.agent.loc("Warn_Retrying", what, reason, _fmt(wait), attempt + 1, s.attempts)
            )
            time.sleep(wait)


def _fmt(seconds: float) -> str:
    return f"{seconds:g}"


def _safe_proxy(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else url
