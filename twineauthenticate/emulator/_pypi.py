"""A feed's PyPI endpoints: twine's upload, the PEP 503 simple index, downloads.

Paths (below the packaging host): ``[{project}/]_packaging/{feed}/pypi/upload``,
``.../pypi/simple/[{name}/]`` and ``.../pypi/download/{name}/{file}``. Each
answers the identity's lack of permission on the feed with Azure's 403.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from ._catalog import FeedCatalog, FeedEntry
from ._errors import FEED_WEBAPI, html_response, method_not_allowed, redirect, vss_error
from ._http import Request, Response
from ._multipart import MultipartError, header_params, parse_form_data
from ._permissions import FeedPermissions
from ._store import PackageStore, filename_project, normalize_name, valid_filename


def project_not_found(project: str) -> Response:
    return vss_error(
        404,
        f"TF200016: The following project does not exist: {project}. Verify that "
        "the name of the project is correct and that the project exists.",
        "ProjectDoesNotExistWithNameException",
        reason=f"Not Found - The project {project} does not exist.",
    )


class PypiFeeds:
    """The PyPI protocol of every feed in the catalog."""

    def __init__(
        self, catalog: FeedCatalog, store: PackageStore, permissions: FeedPermissions
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.permissions = permissions

    def lookup(
        self, feed: str, project: str | None, *, publish: bool = False
    ) -> FeedEntry | Response:
        """The feed, or the 404/403 Azure Artifacts answers a feed route with."""
        entry = self.catalog.find(feed, project)
        if entry is not None:
            refusal = self.permissions.refusal(entry, publish=publish)
            return entry if refusal is None else refusal
        if project is not None and self.catalog.project_name(project) is None:
            return project_not_found(project)
        scope = f"project '{project}'" if project is not None else "the organization"
        return vss_error(
            404,
            f"The feed with ID '{feed}' doesn't exist in {scope}.",
            "FeedIdNotFoundException",
            reason=f"Not Found - The feed with ID '{feed}' doesn't exist.",
            namespace=FEED_WEBAPI,
        )

    def upload(self, request: Request, feed: str, project: str | None) -> Response:
        if request.method != "POST":
            return method_not_allowed("POST")
        entry = self.lookup(feed, project, publish=True)
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

    def simple(
        self,
        request: Request,
        feed: str,
        project: str | None,
        name: str | None,
        slash: bool,
        pypi_path: str,
    ) -> Response:
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed("GET")
        entry = self.lookup(feed, project)
        if isinstance(entry, Response):
            return entry
        simple_path = pypi_path + "simple/"
        if name is None:
            if not slash:
                return redirect(simple_path)
            links = "".join(
                f'<a href="{quote(package)}/">{html.escape(package)}</a><br/>\n'
                for package in self.store.packages(entry)
            )
            return html_response(_page("Simple index", links))
        normalized = normalize_name(name)
        if normalized != name or not slash:
            return redirect(simple_path + quote(normalized) + "/")
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
        return html_response(_page(f"Links for {normalized}", links))

    def download(
        self, request: Request, feed: str, project: str | None, package: str, filename: str
    ) -> Response:
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed("GET")
        entry = self.lookup(feed, project)
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
