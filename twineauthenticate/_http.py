"""Every HTTP call the task makes goes through here: timeouts, retries, proxy, CA.

``requests`` is imported on the first request only, so a run that needs no network
(service connections only) never loads it.

Bounds (documented in docs/reliability.md):

- each attempt has a connect timeout (5 s) and a read timeout (10 s, per wait for
  data), both cut to what is left of the deadline;
- transient failures (connection errors, timeouts, 429, 500, 502, 503, 504) are
  retried, at most ``attempts`` (10) tries per call, waiting 0.25 s, 0.5 s, 1 s,
  then 2 s (the cap) each time, with jitter, or what ``Retry-After`` asks, up to
  20 s: a burst of 9 failures on one call costs about 13.75 s of waiting and is
  ridden out; the 10th failure in a row fails the call;
- all calls of one run share one total deadline (30 s). It is a hard limit: a
  server that trickles bytes to dodge the read timeout is abandoned too.

The pipeline variables ``TwineAuthenticate.ConnectTimeout``, ``.ReadTimeout``,
``.Deadline`` and ``.Attempts`` override the defaults.

Proxy: ``Agent.ProxyUrl`` with ``Agent.ProxyUsername``/``Agent.ProxyPassword`` and
``Agent.ProxyBypassList`` (JSON list of regular expressions matched against the
URL); without ``Agent.ProxyUrl`` the standard ``HTTPS_PROXY``/``HTTP_PROXY``/
``ALL_PROXY``/``NO_PROXY`` of the task's environment. The proxy credentials go in a
``Proxy-Authorization`` header (UTF-8), never into a URL that could be printed.

CA: ``Agent.CAInfo`` (else ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) is trusted in
addition to the system's and ``certifi``'s authorities.
"""

from __future__ import annotations

import json
import math
import random
import re
import ssl
import threading
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from . import __version__
from ._messages import Msg
from ._proxy import (
    Proxy,
    basic_auth,
    env_proxy,
    no_proxy_matches,
    proxy_key,
    proxy_url,
    safe_proxy,
    scheme_of,
    without_credentials,
)
from ._record import dataclass, field
from ._settings import BACKOFF, BACKOFF_MAX, JITTER, HttpSettings
from .agent import Agent
from .exceptions import TaskError

if TYPE_CHECKING:  # pragma: no cover
    import requests
    from requests.adapters import HTTPAdapter

GRACE = 0.5  # the hard deadline lets a socket timeout report itself first
MAX_BODY = 8 * 1024 * 1024
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"TwineAuthenticate/{__version__} (python)"


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
            line, column = getattr(exc, "lineno", "?"), getattr(exc, "colno", "?")
            detail = Msg("Reason_NotJson", self.status, line, column)
            raise TaskError("Error_BadResponse", self.url, detail) from None

    def reason(self) -> str:  # the server's own words, or the status
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


def _retry_after(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return max(0.0, when.timestamp() - time.time())
    except (OverflowError, ValueError, OSError):
        return None


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


# -- the client --------------------------------------------------------------------------


class _Outcome:
    """What the worker thread of one attempt produced."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.encoding: str | None = None
        self.error: BaseException | None = None


class _BodyTooLarge(Exception):
    pass


class HttpClient:
    """The task's one HTTP client. Counts the requests it sends."""

    def __init__(self, agent: Agent, settings: HttpSettings | None = None) -> None:
        self.agent = agent
        self.settings = settings or HttpSettings.from_agent(agent)
        self.requests_sent = 0
        self._session: requests.Session | None = None
        self._proxy_auth: dict[str, str] = {}
        self._lock = threading.Lock()  # rounds of requests share the client (_concurrent.py)
        self._started = time.monotonic()

    # -- configuration ---------------------------------------------------------------

    def _ssl_context(self, what: str) -> ssl.SSLContext | None:
        """The system's and certifi's authorities plus the private CA, or None without one."""
        path = self.settings.ca_file
        if not path:
            return None
        context = ssl.create_default_context()
        try:
            import certifi

            context.load_verify_locations(cafile=certifi.where())
        except (ImportError, OSError, ssl.SSLError):  # pragma: no cover - comes with requests
            pass
        try:
            context.load_verify_locations(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            why = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            detail = Msg("Reason_CaFileUnusable", path, why)
            raise TaskError("Error_HttpTls", what, detail) from None
        return context

    def _get_session(self, what: str) -> requests.Session:
        with self._lock:
            return self._session or self._new_session(what)

    def _new_session(self, what: str) -> requests.Session:
        if self._session is None:
            try:
                import requests
            except ImportError:  # a checkout run by a Python without the project's deps
                import sys

                raise TaskError("Error_MissingRequests", sys.executable) from None

            session = requests.Session()
            # Proxies, CA bundle and credentials come from here only, never from
            # ~/.netrc or the process environment behind our back.
            session.trust_env = False
            adapter = _make_adapter(self._ssl_context(what), self._proxy_auth)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session
        return self._session

    def proxy_for(self, url: str) -> Proxy | None:
        """The proxy a request to ``url`` goes through, or None to go direct."""
        s = self.settings
        if s.proxy_url:
            for pattern in s.proxy_bypass:
                try:
                    if re.search(pattern, url, re.IGNORECASE):
                        return None
                except re.error:
                    continue
            clean, user, password = without_credentials(s.proxy_url)
            if s.proxy_username:
                user, password = s.proxy_username, s.proxy_password
            return Proxy(clean, user, password)
        env = self.agent.environ
        if no_proxy_matches(env_proxy(env, "no_proxy"), url):
            return None
        raw = env_proxy(env, f"{scheme_of(url)}_proxy") or env_proxy(env, "all_proxy")
        if not raw:
            return None
        clean, user, password = without_credentials(proxy_url(raw))
        return Proxy(clean, user, password)

    def _proxies(self, url: str) -> dict[str, str]:
        proxy = self.proxy_for(url)
        if proxy is None:
            return {}
        with self._lock:
            self._proxy_auth[proxy_key(proxy.url)] = proxy.authorization
        return {scheme_of(url): proxy.url}

    # -- requests --------------------------------------------------------------------

    def remaining(self) -> float:
        return self.settings.deadline - (time.monotonic() - self._started)

    def timeout_error(self, what: str) -> TaskError:
        s = self.settings
        return TaskError("Error_HttpTimeout", what, _fmt(s.read_timeout), _fmt(s.deadline))

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
        :class:`TaskError`, and so does a run that reaches its deadline.
        """
        what = what or url
        all_headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "X-TFS-FedAuthRedirect": "Suppress",
        }
        if token is not None:
            all_headers["Authorization"] = basic_auth(token)
        all_headers.update(headers or {})
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            left = self.remaining()
            if left <= 0:
                raise self.timeout_error(what)
            session = self._get_session(what)
            proxies = self._proxies(url)
            with self._lock:
                self.requests_sent += 1
            via = f" via proxy {safe_proxy(proxies[scheme_of(url)])}" if proxies else ""
            self.agent.debug(f"{method} {url}{via} (attempt {attempt} of {s.attempts})")
            outcome = self._attempt(session, method, url, all_headers, data, proxies, left)
            wait: float | None = None
            if outcome is None:  # the hard deadline struck
                raise self.timeout_error(what)
            failure, reason, final = self._classify(outcome, url, what)
            if failure is None:
                result = HttpResponse(outcome.status, url, _decode(outcome), outcome.headers)
                self.agent.debug(f"{method} {url} -> HTTP {result.status}")
                if result.status == 407:
                    raise TaskError(
                        "Error_HttpProxy",
                        safe_proxy(proxies.get(scheme_of(url), "")),
                        what,
                        Msg("Reason_HttpProxyAuth"),
                    )
                if result.status not in TRANSIENT_STATUS:
                    return result
                failure = TaskError("Error_HttpStatus", what, result.status, result.reason())
                reason = f"HTTP {result.status}"
                header = result.header("Retry-After")
                wait = _retry_after(header)
                if wait is not None and wait > s.retry_after_max:
                    raise TaskError(
                        "Error_HttpStatus",
                        what,
                        result.status,
                        Msg(
                            "Reason_RetryAfterTooLong",
                            result.reason(),
                            header.strip(),
                            _fmt(s.retry_after_max),
                        ),
                    )
            if final or attempt >= s.attempts:
                raise failure
            if wait is None:
                base = min(BACKOFF * 2 ** (attempt - 1), BACKOFF_MAX)
                wait = base * random.uniform(1 - JITTER, 1 + JITTER)
            if wait >= self.remaining():
                raise failure
            self.agent.info(
                self.agent.loc(
                    "Warn_Retrying", what, reason, _fmt(round(wait, 1)), attempt + 1, s.attempts
                )
            )
            time.sleep(wait)

    def _attempt(
        self,
        session: requests.Session,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None,
        proxies: Mapping[str, str],
        left: float,
    ) -> _Outcome | None:
        """One try, in a worker thread so the deadline holds; None when it struck."""
        s = self.settings
        timeout = (min(s.connect_timeout, left), min(s.read_timeout, left))
        outcome = _Outcome()

        def work() -> None:
            try:
                response = session.request(
                    method,
                    url,
                    headers=dict(headers),
                    data=dict(data) if data is not None else None,
                    timeout=timeout,
                    proxies=dict(proxies),
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    outcome.status = response.status_code
                    outcome.headers = dict(response.headers)
                    outcome.encoding = response.encoding
                    outcome.body = _read_body(response)
                finally:
                    response.close()
            except BaseException as exc:  # reported to the calling thread
                outcome.error = exc
            finally:
                outcome.done.set()

        worker = threading.Thread(target=work, name="twineauthenticate-http", daemon=True)
        worker.start()
        if not outcome.done.wait(left + GRACE):
            return None
        return outcome

    def _classify(
        self, outcome: _Outcome, url: str, what: str
    ) -> tuple[TaskError | None, str | Msg, bool]:
        """(error, reason for the retry line, whether retrying is pointless)."""
        import requests

        exc = outcome.error
        if exc is None:
            return None, "", False
        s = self.settings
        if isinstance(exc, _BodyTooLarge):
            return (
                TaskError("Error_BadResponse", what, Msg("Reason_HttpTooLarge", MAX_BODY)),
                "",
                True,
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return TaskError("Error_HttpTls", what, self._scrub(_reason(exc))), "", True
        if isinstance(exc, requests.exceptions.ProxyError):
            proxy = self.proxy_for(url)
            where = safe_proxy(proxy.url) if proxy else safe_proxy(s.proxy_url)
            text: str | Msg = self._scrub(_reason(exc))
            if "407" in str(exc):
                text = Msg("Reason_HttpProxyAuth")
                return TaskError("Error_HttpProxy", where, what, text), text, True
            return TaskError("Error_HttpProxy", where, what, text), Msg("Reason_HttpProxy"), False
        if isinstance(exc, requests.exceptions.Timeout):
            return self.timeout_error(what), Msg("Reason_HttpNoAnswer"), False
        reason: str | Msg
        if isinstance(exc, requests.exceptions.InvalidHeader):
            # Its text quotes the header, which may hold a token: never show it.
            reason = Msg("Reason_HttpBadHeader")
            return TaskError("Error_HttpConnection", what, reason), reason, True
        if isinstance(
            exc,
            (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
                requests.exceptions.URLRequired,
            ),
        ):
            reason = Msg("Reason_HttpBadUrl", self._scrub(_reason(exc)))
            return TaskError("Error_HttpConnection", what, reason), reason, True
        if isinstance(exc, requests.exceptions.RequestException):
            reason = self._scrub(_reason(exc))
            return TaskError("Error_HttpConnection", what, reason), reason, False
        if isinstance(exc, (ValueError, UnicodeError, LookupError)):
            reason = Msg("Reason_HttpCannotSend", type(exc).__name__)
            return TaskError("Error_HttpConnection", what, reason), reason, True
        if isinstance(exc, Exception):
            reason = self._scrub(_reason(exc))
            return TaskError("Error_HttpConnection", what, reason), reason, False
        raise exc  # KeyboardInterrupt, SystemExit: not ours to hide

    def _scrub(self, text: str) -> str:
        """``text`` without the proxy credentials in any form they travel in."""
        password = self.settings.proxy_password
        with self._lock:
            forms = {auth.split(" ", 1)[-1] for auth in self._proxy_auth.values() if auth}
        if password:
            from urllib.parse import quote

            forms |= {password, quote(password, safe=""), quote(password)}
        for form in sorted(forms, key=len, reverse=True):
            if form:
                text = text.replace(form, "***")
        return text


def _read_body(response: requests.Response) -> bytes:
    """The body, at most :data:`MAX_BODY` bytes; urllib3's errors as ``requests``' ones."""
    import requests
    import urllib3.exceptions

    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.raw.stream(65536, decode_content=True):
            size += len(chunk)
            if size > MAX_BODY:
                raise _BodyTooLarge()
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from None
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    return b"".join(chunks)


def _decode(outcome: _Outcome) -> str:
    encoding = outcome.encoding or "utf-8"
    content_type = ""
    for key, value in outcome.headers.items():
        if key.lower() == "content-type":
            content_type = value.lower()
    if "json" in content_type and "charset" not in content_type:
        encoding = "utf-8"
    try:
        return outcome.body.decode(encoding, errors="replace")
    except LookupError:
        return outcome.body.decode("utf-8", errors="replace")


def _make_adapter(context: ssl.SSLContext | None, proxy_auth: Mapping[str, str]) -> HTTPAdapter:
    """An adapter with our TLS context (if any) and our proxy credentials header."""
    from requests.adapters import HTTPAdapter

    class Adapter(HTTPAdapter):
        def __init__(self) -> None:
            self._context = context
            # Room for a round of concurrent requests to one host (_concurrent.py).
            super().__init__(max_retries=0, pool_maxsize=32)

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            if self._context is not None:
                kwargs["ssl_context"] = self._context
            super().init_poolmanager(*args, **kwargs)

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            if self._context is not None:
                kwargs["ssl_context"] = self._context
            return super().proxy_manager_for(proxy, **kwargs)

        def proxy_headers(self, proxy: str) -> dict[str, str]:
            value = proxy_auth.get(proxy_key(proxy), "")
            return {"Proxy-Authorization": value} if value else {}

    return Adapter()


def _fmt(seconds: float) -> str:
    return f"{seconds:g}"
