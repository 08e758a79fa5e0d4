"""The Feed Management REST API (resource area ``Packaging``), on the feeds host.

Paths, relative to the feeds host (``/_feeds/{org}/`` on Services, the
collection on Server):

* ``GET [{project}/]_apis/packaging/feeds/{feedIdOrName}``: the feed, 404
  ``FeedIdNotFoundException`` when the scope has no such feed (a project feed
  asked for without its project, an organization feed under a project), 404
  ``ProjectDoesNotExistWithNameException`` for an unknown project, 403
  ``FeedNeedsPermissionsException`` (``ReadPackages``) for a feed the identity
  may not read;
* ``GET [{project}/]_apis/packaging/feeds``: ``{"count", "value"}`` of the feeds
  the identity may read, optionally filtered by ``feedRole``.

Listing at organization scope returns every feed the identity may read, the
organization's and the projects' (each with its ``project`` reference and a
``url`` under its project id). Microsoft's reference ("If omitted, gets all
feeds in the organization") leaves open whether project feeds are included;
users of the API report that they are (MethodsAndPractices/vsteam#487: "if we
omit the project name, what we get is the complete list of feeds (project and
organization scoped)"), so the emulator models that. Listing with a project
returns that project's feeds only.

Names and project names match case-insensitively; ids (GUIDs) work too. Any
well-formed ``api-version``, in the query or as a parameter of ``Accept``
(``application/json;api-version=7.1``), is accepted (7.1, 7.1-preview.1,
Server's 5.0-preview.1 ...); none at all is too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._catalog import FeedCatalog, FeedEntry, stable_id
from ._errors import FEED_WEBAPI, method_not_allowed, vss_error
from ._http import Request, Response, json_response
from ._permissions import PUBLISH, READ, FeedPermissions
from ._pypi import project_not_found

Handler = Callable[[Request], Response]

_API_VERSION = re.compile(r"\d+\.\d+(-preview(\.\d+)?)?")
# feedRole filter -> levels that satisfy it (the identity is never a feed administrator).
_ROLES: dict[str, tuple[str, ...]] = {
    "administrator": (),
    "owner": (),
    "contributor": (PUBLISH,),
    "collaborator": (PUBLISH,),
    "reader": (READ, PUBLISH),
    "none": (READ, PUBLISH),
    "custom": (READ, PUBLISH),
}


def api_version_problem(request: Request) -> Response | None:
    """400 for a malformed ``api-version`` (query parameter or ``Accept`` parameter), else None."""
    versions = [request.query("api-version")]
    for media in (request.header("Accept") or "").split(","):
        for param in media.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "api-version":
                versions.append(value.strip().strip('"'))
    for version in versions:
        if version is not None and not _API_VERSION.fullmatch(version.strip()):
            return _bad_version(version)
    return None


def _bad_version(version: str) -> Response:
    return vss_error(
        400,
        f"The requested REST API version of {version} is not valid.",
        "VssInvalidApiVersionException",
    )


class FeedManagement:
    """Feed Management answers for the catalog's feeds, seen by the one identity."""

    def __init__(
        self, catalog: FeedCatalog, permissions: FeedPermissions, feeds_url: Callable[[], str]
    ) -> None:
        self.catalog = catalog
        self.permissions = permissions
        self._feeds_url = feeds_url

    def route(self, rest: list[str]) -> Handler | None:
        """The handler for ``rest`` (path segments below the feeds host), if it is ours."""
        parts = rest[:-1] if rest and rest[-1] == "" else rest
        lowered = [part.lower() for part in parts]
        project: str | None
        if lowered[:1] == ["_apis"]:
            project, tail = None, parts[1:]
        elif lowered[1:2] == ["_apis"] and parts[0]:
            project, tail = parts[0], parts[2:]
        else:
            return None
        if [part.lower() for part in tail[:2]] != ["packaging", "feeds"]:
            return None
        if len(tail) == 2:
            return lambda request: self.list_feeds(request, project)
        if len(tail) == 3 and tail[2]:
            feed = tail[2]
            return lambda request: self.get_feed(request, feed, project)
        return None

    # -- answers ----------------------------------------------------------------------

    def get_feed(self, request: Request, feed: str, project: str | None) -> Response:
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed("GET")
        problem = api_version_problem(request)
        if problem is not None:
            return problem
        if project is not None and self.catalog.project_name(project) is None:
            return project_not_found(project)
        entry = self.catalog.find(feed, project)
        if entry is None:
            return vss_error(
                404,
                f"The feed with ID '{feed}' doesn't exist.",
                "FeedIdNotFoundException",
                namespace=FEED_WEBAPI,
            )
        refusal = self.permissions.refusal(entry)
        if refusal is not None:
            return refusal
        return json_response(200, self.feed_payload(entry))

    def list_feeds(self, request: Request, project: str | None) -> Response:
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed("GET")
        problem = api_version_problem(request)
        if problem is not None:
            return problem
        project_name = None
        if project is not None:
            project_name = self.catalog.project_name(project)
            if project_name is None:
                return project_not_found(project)
        role = (request.query("feedRole") or "none").strip().lower()
        levels = _ROLES.get(role)
        if levels is None:
            return vss_error(
                400,
                f"The value '{role}' is not valid for feedRole.",
                "InvalidFeedRoleException",
                namespace=FEED_WEBAPI,
            )
        value = [
            self.feed_payload(entry)
            for entry in self.catalog.entries
            if self.permissions.level(entry) in levels
            and (project_name is None or (entry.project or "").lower() == project_name.lower())
        ]
        return json_response(200, {"count": len(value), "value": value})

    # -- payloads ---------------------------------------------------------------------

    def feed_url(self, entry: FeedEntry) -> str:
        scope = f"{entry.project_id}/" if entry.project_id is not None else ""
        return f"{self._feeds_url()}{scope}_apis/Packaging/Feeds/{entry.feed_id}"

    def feed_payload(self, entry: FeedEntry) -> dict[str, Any]:
        url = self.feed_url(entry)
        project: dict[str, Any] | None = None
        if entry.project is not None:
            project = {"id": entry.project_id, "name": entry.project, "visibility": "private"}
        return {
            "_links": {
                "self": {"href": url},
                "packages": {"href": url + "/Packages"},
                "permissions": {"href": url + "/Permissions"},
            },
            "id": entry.feed_id,
            "name": entry.name,
            "url": url,
            "project": project,
            "description": "",
            "viewId": None,
            "viewName": None,
            "fullyQualifiedName": entry.name,
            "fullyQualifiedId": entry.feed_id,
            "upstreamEnabled": True,
            "upstreamSources": [],
            "capabilities": "defaultCapabilities",
            "hideDeletedPackageVersions": True,
            "badgesEnabled": False,
            "isReadOnly": False,
            "defaultViewId": _view_id(entry),
        }


def _view_id(entry: FeedEntry) -> str:
    return stable_id(entry.feed_id, "view", "Local")
