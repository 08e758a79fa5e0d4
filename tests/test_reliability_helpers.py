"""Shared by the reliability, proxy, TLS, hostile-input and concurrency tests (no tests here).

- :func:`assert_failed_cleanly`: what a user sees when a run fails, and that
  nothing is left behind;
- :func:`assert_no_secret_in_clear`: a secret shows only inside its own
  ``task.setsecret``, in the raw output and after the agent's unescaping;
- :func:`make_tls`: a private CA (trustme) and a certificate for ``localhost``;
- :class:`ProxyServer`: a real HTTP proxy (proxy.py) with basic authentication,
  started as a separate process, with a plugin that logs every request it forwards.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import (  # noqa: F401 - shared with the reliability tests
    ROOT,
    TaskRun,
    Tls,
    assert_failed_cleanly,
    assert_no_secret_in_clear,
    files_under,
    make_tls,
    secret_leaks,
)

# -- a real proxy ------------------------------------------------------------------------

REQUEST_LOG_ENV = "TEST_PROXY_REQUEST_LOG"
_ENTRY = re.compile(r"^(?P<method>[A-Z]+) (?P<target>\S+) auth=(?P<auth>\w+)$", re.MULTILINE)


def _request_log_plugin() -> type | None:
    """A proxy.py plugin that logs every request, also the later ones of a kept-alive
    connection (proxy.py's own access log has one line per connection)."""
    try:
        from proxy.http.parser import HttpParser
        from proxy.http.proxy import HttpProxyBasePlugin
    except ImportError:  # pragma: no cover - proxy.py is a dev dependency
        return None

    class RequestLog(HttpProxyBasePlugin):  # type: ignore[misc]
        def handle_client_request(self, request: HttpParser) -> HttpParser | None:
            import os

            header = (request.headers or {}).get(b"proxy-authorization")
            expected = b"Basic " + (self.flags.auth_code or b"")
            auth = "none" if header is None else ("ok" if header[1] == expected else "bad")
            method = (request.method or b"?").decode("ascii", "replace")
            if method == "CONNECT":
                target = f"{(request.host or b'').decode()}:{request.port}"
            else:
                target = f"{(request.host or b'').decode()}:{request.port}"
                target += (request.path or b"").decode("utf-8", "replace")
            with open(os.environ[REQUEST_LOG_ENV], "a", encoding="utf-8") as log:
                log.write(f"{method} {target} auth={auth}\n")
            return request

    return RequestLog


RequestLog = _request_log_plugin()


@dataclass
class ProxyServer:
    """proxy.py on loopback, requiring ``username``/``password`` (basic auth)."""

    port: int
    username: str
    password: str
    log: Path
    process: subprocess.Popen[bytes]
    requests_log: Path  # one line per request forwarded, written by RequestLog

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def access(self) -> list[tuple[str, str]]:
        """(method, target) of every request the proxy forwarded, in order."""
        return [(m, t) for m, t, _ in self.entries()]

    def entries(self) -> list[tuple[str, str, str]]:
        """(method, target, 'ok'/'bad'/'none' credentials) of every request forwarded."""
        path = self.requests_log
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return [(m["method"], m["target"], m["auth"]) for m in _ENTRY.finditer(text)]

    def auth_failures(self) -> int:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return text.count("ProxyAuthenticationFailed")

    def wait_for_access(self, count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        """The requests forwarded, once there are at least ``count`` (or after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.access()
            if len(seen) >= count or time.monotonic() > deadline:
                return seen
            time.sleep(0.05)


@contextmanager
def proxy_server(folder: Path, username: str, password: str) -> Iterator[ProxyServer]:
    folder.mkdir(parents=True, exist_ok=True)
    port_file = folder / "proxy.port"
    log = folder / "proxy.log"
    requests_log = folder / "requests.log"
    env = {**os.environ, REQUEST_LOG_ENV: str(requests_log), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--basic-auth",
            f"{username}:{password}",
            "--log-file",
            str(log),
            "--log-level",
            "INFO",
            "--num-acceptors",
            "1",
            "--num-workers",
            "2",
            "--plugins",
            f"{__name__}.RequestLog",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        port = 0
        while True:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("proxy.py did not start")
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text.isdigit():
                port = int(text)
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    pass
            time.sleep(0.05)
        yield ProxyServer(port, username, password, log, process, requests_log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def closed_port() -> int:
    """A loopback port with nothing listening (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
