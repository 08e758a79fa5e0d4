"""HTTP plumbing: the threaded (optionally TLS) server and the request handler.

The handler reads a request, asks the service to route and authenticate it,
applies a planned fault if one matches, records the request, then answers.
Azure DevOps behaviour lives in ``_app``; nothing here knows about feeds.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from ._faults import Fault, FaultPlan
from ._model import RequestRecord

MAX_BODY = 256 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0


@dataclass
class Request:
    method: str
    target: str  # the request target as sent: raw path and query
    headers: Message
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def query(self, name: str) -> str | None:
        """A query parameter, matched case-insensitively like Azure DevOps does."""
        params = parse_qs(urlsplit(self.target).query, keep_blank_values=True)
        for key, values in params.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return None

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return None if value is None else str(value)


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False
    reason: str | None = None  # status line text; the standard phrase when None


def json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(
        status,
        json.dumps(payload, indent=None, separators=(",", ":")).encode("utf-8"),
        "application/json; charset=utf-8",
        list(headers or []),
    )


@dataclass
class Exchange:
    """A routed and authenticated request, before its body is read."""

    respond: Callable[[Request], Response]
    auth_ok: bool | None = None
    user: str | None = None


class Service(Protocol):
    faults: FaultPlan
    stopping: threading.Event

    def latency(self) -> float: ...

    def prepare(self, method: str, target: str, headers: Message) -> Exchange: ...

    def record(self, record: RequestRecord) -> None: ...


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's backlog of 5 makes some of a burst of concurrent connections (the
    # task checks ten feeds at once) wait a second for a retransmitted SYN.
    request_queue_size = 64
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        service: Service,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.service = service
        self.ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        if self.ssl_context is not None:
            # The handshake runs in the connection's own thread (RequestHandler.setup).
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        with self._connections_lock:
            self._connections.add(sock)
        return sock, address

    def close_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().close_request(request)

    def close_connections(self) -> None:
        """Unblock every handler thread by shutting its connection down."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                # Plain socket shutdown, also for SSL sockets: no TLS close_notify
                # exchange with a peer that may not answer.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that go away, fail the TLS handshake or get cut off at stop() are
        # expected here; stay quiet.
        return


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends: without this, Nagle's algorithm holds the
    # body of a kept-alive answer until the client's delayed ACK (40 ms on Linux).
    disable_nagle_algorithm = True
    server_version = "AzureArtifactsEmulator/1.0"
    server: EmulatorServer

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(HANDSHAKE_TIMEOUT)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _dispatch(self) -> None:
        service = self.server.service
        method, target = self.command, self.path
        try:
            exchange = service.prepare(method, target, self.headers)
        except Exception:
            exchange = Exchange(_internal_error)
        fault = service.faults.take(target)
        if fault is not None:
            self._apply_fault(fault, exchange)
            return
        try:
            body = self._read_body()
        except _BodyError as exc:
            response = json_response(exc.status, {"message": str(exc)})
            response.close = True
        else:
            request = Request(method, target, self.headers, body)
            try:
                response = exchange.respond(request)
            except Exception:
                response = _internal_error(request)
        service.record(
            RequestRecord(method, target, response.status, exchange.auth_ok, exchange.user)
        )
        self._wait_latency()
        self._send(response)

    def _apply_fault(self, fault: Fault, exchange: Exchange) -> None:
        service = self.server.service
        status = 0 if fault.drop or fault.hang else fault.status
        service.record(
            RequestRecord(self.command, self.path, status, exchange.auth_ok, exchange.user)
        )
        if fault.drop:
            self.close_connection = True
            return
        if fault.hang:
            self.close_connection = True
            service.stopping.wait()
            return
        try:
            self._read_body()
        except _BodyError:
            self.close_connection = True
        if fault.body is not None:
            response = Response(fault.status, fault.body, "application/json; charset=utf-8")
        else:
            reason = _reason(fault.status)
            response = json_response(
                fault.status,
                {
                    "$id": "1",
                    "innerException": None,
                    "message": f"{fault.status} {reason}",
                    "typeKey": "VssServiceResponseException",
                    "errorCode": 0,
                    "eventId": 3000,
                },
            )
        header = fault.retry_after_header()
        if header is not None:
            response.headers.append(("Retry-After", header))
        self._wait_latency()
        self._send(response)

    def _wait_latency(self) -> None:
        delay = self.server.service.latency()
        if delay > 0:
            self.server.service.stopping.wait(delay)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise _BodyError(400, "invalid Content-Length") from None
        if length < 0:
            raise _BodyError(400, "invalid Content-Length")
        if length > MAX_BODY:
            raise _BodyError(413, "request body too large")
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BodyError(400, "request body shorter than Content-Length")
        return body

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "malformed chunked body") from None
            if size == 0:
                # Skip trailers up to the empty line.
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BodyError(413, "request body too large")
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise _BodyError(400, "truncated chunked body")
            chunks.append(chunk)
            self.rfile.readline(8)

    def _send(self, response: Response) -> None:
        if response.close:
            self.close_connection = True
        try:
            self.send_response(response.status, response.reason)
            if response.content_type is not None:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and response.body:
                self.wfile.write(response.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _internal_error(request: Request) -> Response:
    return json_response(500, {"message": "internal error in the emulator", "typeKey": "Exception"})
