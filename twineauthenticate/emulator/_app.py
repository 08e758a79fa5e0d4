"""Azure DevOps behaviour: routing, authentication and the endpoints' answers.

Paths, relative to the emulator's base URL:

* collection (``/{org}/`` on Services, ``/tfs/DefaultCollection/`` on Server):
  ``_apis/resourceAreas[/{areaId}]``, ``OPTIONS _apis/Location``,
  ``_apis/packaging/feedids``;
* packaging host (``/_pkgs/{org}/`` on Services, the collection on Server):
  ``OPTIONS _apis/pypi``, ``OPTIONS _apis/Location``, and per feed
  ``[{project}/]_packaging/{feed}/pypi/upload``, ``.../pypi/simple/[{name}/]``,
  ``.../pypi/download/{name}/{file}``;
* ``/_oidc/token`` (the pipeline's OIDC endpoint) and
  ``/_entra/{tenant}/oauth2/v2.0/token`` (an Entra-like token endpoint).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ._catalog import FeedCatalog, FeedEntry
from ._credentials import TokenRegistry, parse_authorization
from ._faults import FaultPlan
from ._federation import Federation, FederationError, entra_error
from ._http import Exchange, Request, Response, json_response
from ._locations import (
    COLLECTION_HOST,
    HOST_LOCATION_AREAS,
    PACKAGING_HOST,
    RESOURCE_AREAS,
    find_area,
    locations_payload,
    resource_area_payload,
)
from ._model import RequestRecord
from ._multipart import MultipartError, header_params, parse_form_data
from ._store import PackageStore, filename_project, normalize_name, valid_filename

PYPI_TOKEN_USER = "__token__"

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Urls:
    base: str  # no trailing slash
    collection: str  # trailing slash
    packaging: str  # trailing slash
    collection_segments: tuple[str, ...]
    packaging_segments: tuple[str, ...]

    @property
    def oidc_request_uri(self) -> str:
        return self.base + "/_oidc/token"

    @property
    def authority(self) -> str:
        return self.base + "/_entra/"


@dataclass(frozen=True)
class _Route:
    handler: Handler
    auth: str  # "none", "api", "feed" or "oidc"


def vss_error(status: int, message: str, type_key: str, reason: str | None = None) -> Response:
    """An error answer shaped like Azure DevOps' (JSON with message and typeKey)."""
    payload = {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"Microsoft.VisualStudio.Services.WebApi.{type_key}, "
        "Microsoft.VisualStudio.Services.WebApi",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }
    response = json_response(status, payload)
    if reason is not None:
        response.reason = _status_text(reason)
    return response


def _status_text(text: str) -> str:
    flat = " ".join(text.split())
    return flat.encode("ascii", "replace").decode("ascii")[:300]


def _method_not_allowed(*allowed: str) -> Response:
    response = vss_error(
        405,
        "The requested resource does not support this HTTP method.",
        "HttpMethodNotAllowedException",
    )
    response.headers.append(("Allow", ", ".join(allowed)))
    return response


def _not_found(request: Request) -> Response:
    return vss_error(
        404,
        f"The resource '{request.path}' was not found on this server.",
        "ResourceNotFoundException",
    )


def _html(body: str) -> Response:
    return Response(200, body.encode("utf-8"), "text/html; charset=utf-8")


def _redirect(location: str) -> Response:
    return Response(301, b"", None, [("Location", location)])


class AzureDevOpsApp:
    """The service behind :class:`~._http.EmulatorServer`."""

    def __init__(
        self,
        *,
        catalog: FeedCatalog,
        store: PackageStore,
        tokens: TokenRegistry,
        federation: Federation,
        tenant_id: str,
        pypi_token_rule: bool,
        latency: float,
        on_request: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.tokens = tokens
        self.federation = federation
        self.tenant_id = tenant_id
        self.pypi_token_rule = pypi_token_rule
        self.faults = FaultPlan()
        self.stopping = threading.Event()
        self.urls: Urls | None = None
        self._latency = latency
        self._on_request = on_request
        self._log_lock = threading.Lock()
        self._log: list[RequestRecord] = []

    # -- service interface used by the HTTP layer -------------------------------

    def latency(self) -> float:
        return self._latency

    def set_latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self._latency = seconds

    def record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)
        if self._on_request is not None:
            with contextlib.suppress(Exception):
                self._on_request(record)

    def records(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._log)

    def clear_records(self) -> None:
        with self._log_lock:
            self._log.clear()

    def prepare(self, method: str, target: str, headers: Message) -> Exchange:
        route = self._route(method, target)
        credentials = parse_authorization(headers.get("Authorization"))
        user = credentials.user if credentials is not None else None
        if route.auth == "none":
            return Exchange(route.handler, None, user)
        if route.auth == "oidc":
            ok = (
                credentials is not None
                and credentials.scheme == "bearer"
                and self.tokens.accepts_agent_token(credentials.secret)
            )
            return Exchange(route.handler, ok, user)
        if credentials is None or not self.tokens.accepts(credentials.secret):
            return Exchange(self._unauthorized, False, user)
        if route.auth == "feed" and self.pypi_token_rule and user != PYPI_TOKEN_USER:
            return Exchange(self._pypi_user_refused, False, user)
        return Exchange(route.handler, True, user)

    # -- routing ------------------------------------------------------------------

    def _route(self, method: str, target: str) -> _Route:
        urls = self.urls
        if urls is None or not target.startswith("/"):
            return _Route(_not_found, "none")
        raw = urlsplit(target).path.split("/")[1:]
        segments = [unquote(part) for part in raw]
        lowered = [part.lower() for part in segments]
        if lowered == ["_oidc", "token"]:
            return _Route(self._oidc_token, "oidc")
        if (
            len(lowered) == 5
            and lowered[0] == "_entra"
            and lowered[2:] == ["oauth2", "v2.0", "token"]
        ):
            tenant = segments[1]
            return _Route(lambda request: self._entra_token(request, tenant), "none")
        hosts: set[str] = set()
        rest: list[str] = []
        raw_rest: list[str] = []
        for host, prefix in (
            (COLLECTION_HOST, urls.collection_segments),
            (PACKAGING_HOST, urls.packaging_segments),
        ):
            if [p.lower() for p in prefix] == lowered[: len(prefix)]:
                hosts.add(host)
                rest = segments[len(prefix) :]
                raw_rest = raw[len(prefix) :]
        if not hosts:
            return _Route(_not_found, "none")
        route = self._route_apis(rest, hosts)
        if route is None and PACKAGING_HOST in hosts:
            route = self._route_feed(rest, raw, len(raw) - len(raw_rest))
        return route or _Route(_not_found, "none")

    def _route_apis(self, rest: list[str], hosts: set[str]) -> _Route | None:
        parts = rest[:-1] if rest and rest[-1] == "" else rest
        lowered = [part.lower() for part in parts]
        if not lowered or lowered[0] != "_apis":
            return None
        if len(lowered) >= 2 and lowered[1] == "resourceareas" and len(lowered) <= 3:
            area_id = parts[2] if len(parts) == 3 else None
            return _Route(lambda request: self._resource_areas(request, area_id), "api")
        if len(lowered) == 2:
            areas = frozenset(name for host in hosts for name in HOST_LOCATION_AREAS[host])
            area = parts[1]
            return _Route(lambda request: self._locations(request, area, areas), "api")
        if lowered[1:] == ["packaging", "feedids"] and COLLECTION_HOST in hosts:
            return _Route(self._feed_ids, "api")
        return None

    def _route_feed(self, rest: list[str], raw: list[str], offset: int) -> _Route | None:
        slash = bool(rest) and rest[-1] == ""
        parts = rest[:-1] if slash else rest
        lowered = [part.lower() for part in parts]
        if lowered[:1] == ["_packaging"]:
            project, start = None, 0
        elif lowered[1:2] == ["_packaging"]:
            project, start = parts[0], 1
        else:
            return None
        if len(parts) < start + 4 or lowered[start + 2] != "pypi" or not parts[start + 1]:
            return None
        feed = parts[start + 1]
        tail = parts[start + 3 :]
        kind = [part.lower() for part in tail[:1]]
        # The path up to ".../pypi/" as the client spelled it, for links in the index.
        pypi_path = "/" + "/".join(raw[: offset + start + 3]) + "/"
        if kind == ["upload"] and len(tail) == 1:
            return _Route(lambda request: self._upload(request, feed, project), "feed")
        if kind == ["simple"] and len(tail) <= 2:
            name = tail[1] if len(tail) == 2 else None

            def simple(request: Request) -> Response:
                return self._simple(request, feed, project, name, slash, pypi_path)

            return _Route(simple, "feed")
        if kind == ["download"] and len(tail) == 3 and not slash:
            package, filename = tail[1], tail[2]
            return _Route(
                lambda request: self._download(request, feed, project, package, filename),
                "feed",
            )
        return None

    # -- authentication answers ---------------------------------------------------

    def _auth_headers(self) -> list[tuple[str, str]]:
        urls = self.urls
        base = urls.base if urls is not None else ""
        authority = urls.authority if urls is not None else ""
        return [
            ("WWW-Authenticate", f"Bearer authorization_uri={authority}{self.tenant_id}"),
            ("WWW-Authenticate", f'Basic realm="{base}/"'),
            ("WWW-Authenticate", "TFS-Federated"),
            ("X-VSS-ResourceTenant", self.tenant_id),
        ]

    def _unauthorized(self, request: Request) -> Response:
        response = vss_error(
            401,
            "TF400813: The user is not authorized to access this resource.",
            "UnauthorizedRequestException",
        )
        response.headers.extend(self._auth_headers())
        return response

    def _pypi_user_refused(self, request: Request) -> Response:
        return vss_error(
            403,
            "Invalid or non-existent authentication information: the user name must be "
            f"'{PYPI_TOKEN_USER}' with an API token as password.",
            "InvalidAccessException",
            reason="Invalid or non-existent authentication information.",
        )

    # -- REST API -------------------------------------------------------------------

    def _require_urls(self) -> Urls:
        if self.urls is None:
            raise RuntimeError("emulator URLs are not set")
        return self.urls

    def _resource_areas(self, request: Request, area_id: str | None) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed("GET")
        urls = self._require_urls()

        def location(host: str) -> str:
            return urls.packaging if host == PACKAGING_HOST else urls.collection

        if area_id is None:
            value = [resource_area_payload(area, location(area.host)) for area in RESOURCE_AREAS]
            return json_response(200, {"count": len(value), "value": value})
        area = find_area(area_id)
        if area is None:
            return vss_error(
                404,
                f"Resource area '{area_id}' was not found.",
                "ResourceAreaNotFoundException",
            )
        return json_response(200, resource_area_payload(area, location(area.host)))

    def _locations(self, request: Request, area: str, hosted: frozenset[str]) -> Response:
        if request.method != "OPTIONS":
            return _method_not_allowed("OPTIONS")
        payload = locations_payload(area) if area.lower() in hosted else None
        if payload is None:
            return vss_error(
                404,
                f"API resource location area '{area}' is not registered on this host.",
                "VssResourceNotFoundException",
            )
        return json_response(200, payload)

    def _feed_ids(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed("GET")
        return json_response(200, self.catalog.feed_ids_payload())

    # -- feeds ------------------------------------------------------------------------

    def _lookup_feed(self, feed: str, project: str | None) -> FeedEntry | Response:
        entry = self.catalog.find(feed, project)
        if entry is not None:
            return entry
        if project is not None and self.catalog.project_name(project) is None:
            return vss_error(
                404,
                f"TF200016: The following project does not exist: {project}. Verify that "
                "the name of the project is correct and that the project exists.",
                "ProjectDoesNotExistWithNameException",
                reason=f"Not Found - The project {project} does not exist.",
            )
        scope = f"project '{project}'" if project is not None else "the organization"
        return vss_error(
            404,
            f"The feed with ID '{feed}' doesn't exist in {scope}.",
            "FeedIdNotFoundException",
            reason=f"Not Found - The feed with ID '{feed}' doesn't exist.",
        )

    def _upload(self, request: Request, feed: str, project: str | None) -> Response:
        if request.method != "POST":
            return _method_not_allowed("POST")
        entry = self._lookup_feed(feed, project)
        if isinstance(entry, Response):
            return entry
        content_type = request.header("Content-Type") or ""
        if header_params(content_type)[0] != "multipart/form-data":
            return _bad_upload("the upload must be sent as multipart/form-data")
        try:
            form = parse_form_data(request.body, content_type)
        except MultipartError as exc:
            return _bad_upload(f"malformed multipart body: {exc}")
        action = form.first(":action")
        if action != "file_upload":
            return _bad_upload(f"unsupported :action {action!r}; only 'file_upload' is supported")
        protocol = form.first("protocol_version")
        if protocol is not None and protocol != "1":
            return _bad_upload(f"unsupported protocol_version {protocol!r}")
        name = (form.first("name") or "").strip()
        version = (form.first("version") or "").strip()
        if not name or not version:
            return _bad_upload("the fields 'name' and 'version' are required")
        upload = form.files.get("content")
        if upload is None:
            return _bad_upload("the file part 'content' is missing")
        filename = upload.filename
        if not valid_filename(filename):
            return _bad_upload(f"invalid distribution file name {filename!r}")
        if normalize_name(filename_project(filename)) != normalize_name(name):
            return _bad_upload(f"file name {filename!r} does not match package name {name!r}")
        problem = _digest_problem(form.fields, upload.content)
        if problem is not None:
            return _bad_upload(problem)
        if not self.store.add(entry, name, filename, upload.content):
            message = (
                f"The feed '{entry.name}' already contains file '{filename}' in package "
                f"'{name} {version}'."
            )
            return vss_error(409, message, "PackageExistsException", reason=f"Conflict - {message}")
        return Response(200, b"", None)

    def _simple(
        self,
        request: Request,
        feed: str,
        project: str | None,
        name: str | None,
        slash: bool,
        pypi_path: str,
    ) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed("GET")
        entry = self._lookup_feed(feed, project)
        if isinstance(entry, Response):
            return entry
        simple_path = pypi_path + "simple/"
        if name is None:
            if not slash:
                return _redirect(simple_path)
            links = "".join(
                f'<a href="{quote(package)}/">{html.escape(package)}</a><br/>\n'
                for package in self.store.packages(entry)
            )
            return _html(_page("Simple index", links))
        normalized = normalize_name(name)
        if normalized != name or not slash:
            return _redirect(simple_path + quote(normalized) + "/")
        files = self.store.files(entry, normalized)
        if not files:
            return vss_error(
                404,
                f"The package '{name}' was not found in feed '{entry.name}'.",
                "PackageNotFoundException",
            )
        links = "".join(
            f'<a href="{pypi_path}download/{quote(normalized)}/{quote(stored.filename)}'
            f'#sha256={stored.sha256}">{html.escape(stored.filename)}</a><br/>\n'
            for stored in files
        )
        return _html(_page(f"Links for {normalized}", links))

    def _download(
        self, request: Request, feed: str, project: str | None, package: str, filename: str
    ) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed("GET")
        entry = self._lookup_feed(feed, project)
        if isinstance(entry, Response):
            return entry
        path = self.store.file(entry, package, filename)
        if path is None:
            return vss_error(
                404,
                f"The file '{filename}' was not found in feed '{entry.name}'.",
                "PackageNotFoundException",
            )
        return Response(200, path.read_bytes(), "application/octet-stream")

    # -- federation ---------------------------------------------------------------------

    def _oidc_token(self, request: Request) -> Response:
        if request.method != "POST":
            return _method_not_allowed("POST")
        credentials = parse_authorization(request.header("Authorization"))
        bearer = credentials.secret if credentials and credentials.scheme == "bearer" else None
        try:
            token = self.federation.issue_oidc_token(bearer, request.query("serviceConnectionId"))
        except FederationError as exc:
            response = json_response(exc.status, exc.payload)
            if exc.status == 401:
                response.headers.append(("WWW-Authenticate", "Bearer"))
            return response
        return json_response(200, {"oidcToken": token})

    def _entra_token(self, request: Request, tenant: str) -> Response:
        if request.method != "POST":
            return json_response(
                405,
                entra_error("invalid_request", 900561, "The endpoint only accepts POST requests."),
            )
        content_type = header_params(request.header("Content-Type") or "")[0]
        if content_type != "application/x-www-form-urlencoded":
            return json_response(
                400,
                entra_error(
                    "invalid_request",
                    900144,
                    "The request body must be application/x-www-form-urlencoded.",
                ),
            )
        try:
            form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return json_response(
                400, entra_error("invalid_request", 900144, "The request body is not UTF-8.")
            )
        try:
            payload = self.federation.exchange(tenant, form)
        except FederationError as exc:
            return json_response(exc.status, exc.payload)
        return json_response(200, payload, [("Cache-Control", "no-store, no-cache")])


def _bad_upload(message: str) -> Response:
    return vss_error(400, message, "InvalidPackageException", reason=f"Bad Request - {message}")


_DIGESTS: Sequence[tuple[str, Callable[[bytes], Any]]] = (
    ("sha256_digest", hashlib.sha256),
    ("md5_digest", hashlib.md5),
    ("blake2_256_digest", lambda data: hashlib.blake2b(data, digest_size=32)),
)


def _digest_problem(fields: dict[str, list[str]], content: bytes) -> str | None:
    """Why the sent digests do not match the content, or None when they do."""
    present = False
    for field, hasher in _DIGESTS:
        values = fields.get(field)
        if not values or not values[0].strip():
            continue
        present = True
        sent = values[0].strip().lower()
        actual = str(hasher(content).hexdigest())
        if sent != actual:
            return f"{field} mismatch: the request says {sent}, the file's is {actual}"
    if not present:
        return "a sha256_digest (or md5_digest / blake2_256_digest) field is required"
    return None


def _page(title: str, links: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        '<meta name="pypi:repository-version" content="1.0">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{links}</body>\n</html>\n"
    )
