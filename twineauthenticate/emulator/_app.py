"""Azure DevOps behaviour: routing, authentication and the REST answers.

Paths, relative to the emulator's base URL:

* collection (``/{org}/`` on Services, ``/tfs/DefaultCollection/`` on Server):
  ``_apis/resourceAreas[/{areaId}]``, ``OPTIONS _apis/Location``,
  ``_apis/connectionData``, ``_apis/packaging/feedids``;
* packaging host (``/_pkgs/{org}/`` on Services, the collection on Server):
  ``OPTIONS _apis/pypi``, ``OPTIONS _apis/Location``, and per feed the PyPI
  endpoints of ``_pypi`` (``[{project}/]_packaging/{feed}/pypi/...``);
* feeds host (``/_feeds/{org}/`` on Services, the collection on Server):
  ``OPTIONS _apis/Packaging`` and the Feed Management routes of ``_feeds_api``;
* ``/_oidc/token`` (the pipeline's OIDC endpoint),
  ``/_entra/{tenant}/oauth2/v2.0/token`` (an Entra-like token endpoint) and
  ``/_signin`` (the sign-in page refused credentials are sent to).

Refused credentials get 401, except on a REST route (``_apis/...``) when the
request carries an ``Authorization`` header but not ``X-TFS-FedAuthRedirect:
Suppress``: then the sign-in answer of ``_signin`` (203 page or 302).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from urllib.parse import parse_qs, unquote, urlsplit

from ._catalog import FeedCatalog
from ._credentials import TokenRegistry, parse_authorization
from ._errors import method_not_allowed, not_found, vss_error
from ._faults import FaultPlan
from ._federation import Federation, FederationError, entra_error
from ._feeds_api import FeedManagement
from ._http import Exchange, Request, Response, json_response
from ._identity import Identity, connection_data_payload
from ._locations import (
    COLLECTION_HOST,
    FEEDS_HOST,
    HOST_LOCATION_AREAS,
    PACKAGING_HOST,
    RESOURCE_AREAS,
    find_area,
    locations_payload,
    resource_area_payload,
)
from ._model import RequestRecord, Urls
from ._multipart import header_params
from ._permissions import FeedPermissions
from ._pypi import PypiFeeds
from ._signin import SUPPRESS_HEADER, sign_in_answer, sign_in_page, suppressed
from ._store import PackageStore

__all__ = ["AzureDevOpsApp", "Urls", "vss_error"]

PYPI_TOKEN_USER = "__token__"

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class _Route:
    handler: Handler
    auth: str  # "none", "api", "feed" or "oidc"


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
        identity: Identity,
        permissions: FeedPermissions,
        mode: str = "services",
        sign_in: str = "page",
        on_request: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.tokens = tokens
        self.identity = identity
        self.permissions = permissions
        self.mode = mode
        self.sign_in = sign_in
        self.pypi = PypiFeeds(catalog, store, permissions)
        self.feed_management = FeedManagement(
            catalog, permissions, lambda: self._require_urls().feeds
        )
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
            if (
                route.auth == "api"
                and headers.get("Authorization") is not None
                and not suppressed(headers.get(SUPPRESS_HEADER))
            ):
                return Exchange(self._sign_in, False, user)
            return Exchange(self._unauthorized, False, user)
        if route.auth == "feed" and self.pypi_token_rule and user != PYPI_TOKEN_USER:
            return Exchange(self._pypi_user_refused, False, user)
        return Exchange(route.handler, True, user)

    # -- routing ------------------------------------------------------------------

    def _route(self, method: str, target: str) -> _Route:
        urls = self.urls
        if urls is None or not target.startswith("/"):
            return _Route(not_found, "none")
        raw = urlsplit(target).path.split("/")[1:]
        segments = [unquote(part) for part in raw]
        lowered = [part.lower() for part in segments]
        if lowered == ["_oidc", "token"]:
            return _Route(self._oidc_token, "oidc")
        if lowered == ["_signin"]:
            return _Route(lambda request: sign_in_page(200), "none")
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
            (FEEDS_HOST, urls.feeds_segments),
        ):
            if [p.lower() for p in prefix] == lowered[: len(prefix)]:
                hosts.add(host)
                rest = segments[len(prefix) :]
                raw_rest = raw[len(prefix) :]
        if not hosts:
            return _Route(not_found, "none")
        route = self._route_apis(rest, hosts)
        if route is None and FEEDS_HOST in hosts:
            handler = self.feed_management.route(rest)
            route = None if handler is None else _Route(handler, "api")
        if route is None and PACKAGING_HOST in hosts:
            route = self._route_feed(rest, raw, len(raw) - len(raw_rest))
        return route or _Route(not_found, "none")

    def _route_apis(self, rest: list[str], hosts: set[str]) -> _Route | None:
        parts = rest[:-1] if rest and rest[-1] == "" else rest
        lowered = [part.lower() for part in parts]
        if not lowered or lowered[0] != "_apis":
            return None
        if len(lowered) >= 2 and lowered[1] == "resourceareas" and len(lowered) <= 3:
            area_id = parts[2] if len(parts) == 3 else None
            return _Route(lambda request: self._resource_areas(request, area_id), "api")
        if lowered[1:] == ["connectiondata"]:
            return _Route(self._connection_data, "api")
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
            return _Route(lambda request: self.pypi.upload(request, feed, project), "feed")
        if kind == ["simple"] and len(tail) <= 2:
            name = tail[1] if len(tail) == 2 else None

            def simple(request: Request) -> Response:
                return self.pypi.simple(request, feed, project, name, slash, pypi_path)

            return _Route(simple, "feed")
        if kind == ["download"] and len(tail) == 3 and not slash:
            package, filename = tail[1], tail[2]
            return _Route(
                lambda request: self.pypi.download(request, feed, project, package, filename),
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

    def _sign_in(self, request: Request) -> Response:
        return sign_in_answer(self.sign_in, self._require_urls().base, request)

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
            return method_not_allowed("GET")
        urls = self._require_urls()

        def location(host: str) -> str:
            return {PACKAGING_HOST: urls.packaging, FEEDS_HOST: urls.feeds}.get(
                host, urls.collection
            )

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
            return method_not_allowed("OPTIONS")
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
            return method_not_allowed("GET")
        return json_response(200, self.catalog.feed_ids_payload(self.permissions.can_read))

    def _connection_data(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed("GET")
        payload = connection_data_payload(self.identity, self.catalog.organization, self.mode)
        return json_response(200, payload)

    # -- federation ---------------------------------------------------------------------

    def _oidc_token(self, request: Request) -> Response:
        if request.method != "POST":
            return method_not_allowed("POST")
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
