"""The :class:`Emulator`: configuration, lifecycle and the test-facing API."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Union
from urllib.parse import quote

from ._app import AzureDevOpsApp
from ._catalog import FeedCatalog
from ._credentials import TokenRegistry
from ._faults import Fault
from ._federation import Federation
from ._http import EmulatorServer
from ._identity import default_identity, make_identity
from ._model import Feed, RequestRecord, Urls
from ._permissions import FeedPermissions
from ._signin import check_sign_in
from ._store import PackageStore

DEFAULT_TOKEN = "emulator-build-token"
DEFAULT_TENANT = "11111111-2222-3333-4444-555555555555"
DEFAULT_FEEDS = (Feed("MyFeed"), Feed("ProjFeed", project="My Project"))
SERVER_COLLECTION = ("tfs", "DefaultCollection")
BIND_HOST = "127.0.0.1"

StrPath = Union[str, "os.PathLike[str]"]
TlsConfig = Union[tuple[StrPath, StrPath], ssl.SSLContext]


def _segment(value: str) -> str:
    return quote(value, safe="")


class Emulator:
    """A local Azure DevOps organization with Azure Artifacts PyPI feeds.

    ``mode="services"`` behaves like Azure DevOps Services: the collection is
    ``{url}/{organization}/`` and packaging lives on a separate host path
    (``{url}/_pkgs/{organization}/``) found through the resource-areas API.
    ``mode="server"`` behaves like Azure DevOps Server: everything is under
    ``{url}/tfs/DefaultCollection/``.

    Every accepted token stands for one build identity, ``identity`` (default
    ``Project Collection Build Service ({organization})``), named by
    ``_apis/connectionData``. Its permission on each feed is ``"publish"``
    unless ``permissions`` (keyed ``feed`` or ``project/feed``, any case) or
    :meth:`set_permission` say ``"read"`` or ``"none"``. Refused credentials on
    a REST route without ``X-TFS-FedAuthRedirect: Suppress`` get the sign-in
    page (203, ``sign_in="page"``) or a 302 to it (``sign_in="redirect"``).
    """

    def __init__(
        self,
        organization: str = "contoso",
        feeds: Iterable[Feed] | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        mode: str = "services",
        storage_dir: StrPath | None = None,
        tenant_id: str = DEFAULT_TENANT,
        tls: TlsConfig | None = None,
        pypi_token_rule: bool = False,
        latency: float = 0.0,
        port: int = 0,
        service_connections: Mapping[str, str] | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
        identity: str | None = None,
        permissions: Mapping[str, str] | None = None,
        sign_in: str = "page",
    ) -> None:
        if mode not in ("services", "server"):
            raise ValueError(f"mode must be 'services' or 'server', not {mode!r}")
        if not organization or "/" in organization or organization != organization.strip():
            raise ValueError(f"invalid organization name: {organization!r}")
        if not token:
            raise ValueError("token must not be empty")
        if latency < 0:
            raise ValueError("latency must not be negative")
        self.organization = organization
        self.mode = mode
        self.tenant_id = tenant_id
        self.token = token
        self.pypi_token_rule = pypi_token_rule
        self._port = port
        self._tls = tls
        self._catalog = FeedCatalog(organization, DEFAULT_FEEDS if feeds is None else feeds)
        self._identity = make_identity(
            organization, default_identity(organization) if identity is None else identity
        )
        self._permissions = FeedPermissions(self._catalog, self._identity.id)
        self._permissions.set_all(permissions or {})
        self.sign_in = check_sign_in(sign_in)
        self._own_storage = storage_dir is None
        self._storage = (
            Path(tempfile.mkdtemp(prefix="azure-artifacts-emulator-"))
            if storage_dir is None
            else Path(storage_dir)
        )
        if self._own_storage:
            # Removed by stop(), or at garbage collection / exit if never stopped.
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._storage, True)
        self._tokens = TokenRegistry(token)
        self._federation = Federation(
            organization, tenant_id, dict(service_connections or {}), self._tokens
        )
        self._app = AzureDevOpsApp(
            catalog=self._catalog,
            store=PackageStore(self._storage),
            tokens=self._tokens,
            federation=self._federation,
            tenant_id=tenant_id,
            pypi_token_rule=pypi_token_rule,
            latency=latency,
            identity=self._identity,
            permissions=self._permissions,
            mode=mode,
            sign_in=self.sign_in,
            on_request=on_request,
        )
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self._urls: Urls | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind 127.0.0.1 and serve in a daemon thread. Returns the emulator."""
        if self._started:
            raise RuntimeError("an Emulator can only be started once")
        self._started = True
        self._storage.mkdir(parents=True, exist_ok=True)
        server = EmulatorServer((BIND_HOST, self._port), self._app, self._ssl_context())
        port = server.server_address[1]
        self._urls = self._make_urls(port)
        self._app.urls = self._urls
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"azure-artifacts-emulator-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: releases held (hung) requests, closes every connection."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = None
        self._app.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if self._own_storage:
            self._cleanup()

    def __enter__(self) -> Emulator:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self._tls is None:
            return None
        if isinstance(self._tls, ssl.SSLContext):
            return self._tls
        certfile, keyfile = self._tls
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.fspath(certfile), os.fspath(keyfile))
        return context

    def _make_urls(self, port: int) -> Urls:
        if self._tls is not None:
            base = f"https://localhost:{port}"
        else:
            base = f"http://{BIND_HOST}:{port}"
        if self.mode == "server":
            collection = base + "/" + "/".join(SERVER_COLLECTION) + "/"
            return Urls(
                base,
                collection,
                collection,
                collection,
                SERVER_COLLECTION,
                SERVER_COLLECTION,
                SERVER_COLLECTION,
            )
        org = _segment(self.organization)
        return Urls(
            base,
            f"{base}/{org}/",
            f"{base}/_pkgs/{org}/",
            f"{base}/_feeds/{org}/",
            (self.organization,),
            ("_pkgs", self.organization),
            ("_feeds", self.organization),
        )

    # -- URLs ----------------------------------------------------------------------------

    def _require_urls(self) -> Urls:
        if self._urls is None:
            raise RuntimeError("the emulator is not started")
        return self._urls

    @property
    def port(self) -> int:
        return int(self._require_urls().base.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        """Base URL without trailing slash, e.g. ``http://127.0.0.1:41234``."""
        return self._require_urls().base

    @property
    def collection_url(self) -> str:
        return self._require_urls().collection

    @property
    def packaging_url(self) -> str:
        return self._require_urls().packaging

    @property
    def feeds_url(self) -> str:
        """The feeds host (Feed Management, area ``Packaging``), with trailing slash."""
        return self._require_urls().feeds

    def feed_api_url(self, feed: str, project: str | None = None) -> str:
        """``GET`` this for the feed's Feed Management answer (no ``api-version``)."""
        prefix = self.feeds_url + (_segment(project) + "/" if project else "")
        return f"{prefix}_apis/packaging/feeds/{_segment(feed)}"

    @property
    def oidc_request_uri(self) -> str:
        """What ``System.OidcRequestUri`` would hold (no query string)."""
        return self._require_urls().oidc_request_uri

    @property
    def authority_url(self) -> str:
        """The Entra-like authority, with trailing slash: ``{authority_url}{tenant}/oauth2/...``."""
        return self._require_urls().authority

    def _feed_base(self, feed: str, project: str | None) -> str:
        prefix = self.packaging_url
        if project:
            prefix += _segment(project) + "/"
        return f"{prefix}_packaging/{_segment(feed)}/pypi/"

    def feed_upload_url(self, feed: str, project: str | None = None) -> str:
        """The upload URL the task must produce (no trailing slash)."""
        return self._feed_base(feed, project) + "upload"

    def feed_index_url(self, feed: str, project: str | None = None) -> str:
        """The PEP 503 simple index of a feed (trailing slash)."""
        return self._feed_base(feed, project) + "simple/"

    # -- observation ---------------------------------------------------------------------

    @property
    def identity(self) -> str:
        """The build identity's display name (``providerDisplayName``)."""
        return self._identity.name

    @property
    def identity_id(self) -> str:
        """The build identity's id, the GUID Azure names in its 403 messages."""
        return self._identity.id

    def feed_id(self, feed: str, project: str | None = None) -> str:
        """The feed's id (GUID), as Feed Management and the feed picker report it."""
        return self._permissions.resolve(feed, project).feed_id

    def project_id(self, project: str) -> str:
        """A project's id (GUID); KeyError for a project without feeds."""
        project_id = self._catalog.project_id(project)
        if project_id is None:
            raise KeyError(f"unknown project {project!r}")
        return project_id

    def permission(self, feed: str, project: str | None = None) -> str:
        """The identity's level on a feed: ``"none"``, ``"read"`` or ``"publish"``."""
        return self._permissions.level(self._permissions.resolve(feed, project))

    @property
    def storage_dir(self) -> Path:
        return self._storage

    @property
    def feeds(self) -> list[Feed]:
        return [entry.feed for entry in self._catalog.entries]

    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot of every request received so far, in arrival order."""
        return self._app.records()

    def clear_log(self) -> None:
        self._app.clear_records()

    def uploaded_files(self, feed: str, project: str | None = None) -> list[str]:
        """Names of the files stored in a feed (sorted)."""
        entry = self._catalog.find(feed, project)
        if entry is None:
            scope = f" in project {project!r}" if project else ""
            raise KeyError(f"unknown feed {feed!r}{scope}")
        return self._app.store.all_files(entry)

    @property
    def issued_oidc_tokens(self) -> list[str]:
        return self._federation.issued_oidc_tokens

    @property
    def issued_access_tokens(self) -> list[str]:
        return self._federation.issued_access_tokens

    # -- control ---------------------------------------------------------------------------

    def add_token(self, token: str) -> None:
        """Accept another password (and OIDC bearer token)."""
        self._tokens.add(token)

    def revoke_token(self, token: str) -> None:
        """Stop accepting a token (the build token, an added or an issued one)."""
        self._tokens.revoke(token)

    def add_service_connection(self, connection_id: str, client_id: str) -> None:
        """Register a federated service connection and its ServicePrincipalId."""
        self._federation.add_connection(connection_id, client_id)

    def set_permission(self, feed: str, level: str, project: str | None = None) -> None:
        """Set the identity's level on a feed: ``"none"``, ``"read"`` or ``"publish"``."""
        self._permissions.set(feed, level, project)

    def set_latency(self, seconds: float) -> None:
        """Delay every later response by ``seconds``."""
        self._app.set_latency(seconds)

    def inject_faults(
        self,
        count: int = 1,
        status: int = 503,
        retry_after: float | str | None = None,
        path_contains: str | None = None,
        *,
        drop: bool = False,
        hang: bool = False,
        body: str | bytes | None = None,
    ) -> None:
        """Make the next ``count`` requests whose raw path contains ``path_contains`` fail.

        Default: answer ``status`` with a JSON error. ``retry_after`` adds a
        ``Retry-After`` header; ``body`` replaces the answer's body (sent as
        JSON content type); ``drop`` closes the connection without answering;
        ``hang`` never answers (held until :meth:`stop`). Faults queue up and
        apply in the order they were added.
        """
        raw_body = body.encode("utf-8") if isinstance(body, str) else body
        fault = Fault(
            status=status,
            retry_after=retry_after,
            body=raw_body,
            drop=drop,
            hang=hang,
            path_contains=path_contains,
        )
        self._app.faults.add(fault, count)

    def clear_faults(self) -> None:
        self._app.faults.clear()

    @property
    def pending_faults(self) -> int:
        return self._app.faults.pending()
