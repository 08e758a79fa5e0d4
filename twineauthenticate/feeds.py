"""Feeds of the organization: from ``feed`` / ``project/feed`` to an upload URL.

The REST flow (two requests on Azure DevOps Services, one on Azure DevOps Server,
whatever the number of feeds; the feed check adds its own to the same rounds):

1. Services only: ``GET {collection}/_apis/resourceAreas/{PyPI area id}`` gives the
   packaging host (``locationUrl``). On Server the collection URI is that host.
2. ``OPTIONS {host}/_apis/pypi`` lists the area's locations; the upload location's
   ``routeTemplate`` is expanded locally for every feed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ._api import api_json
from ._concurrent import Answer, Call, send_all
from ._http import HttpClient
from ._messages import Msg
from .agent import Agent
from .exceptions import TaskError
from .inputs import FeedRef
from .repository import Repository

PYPI_AREA_ID = "92F0314B-06C5-46E0-ABE7-15FD9D13276A"
PYPI_AREA = "pypi"
UPLOAD_LOCATION_ID = "C7A75C1B-08AC-4B11-B468-6C7EF835C85E"
FEED_USER = "build"


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _encode(value: str) -> str:
    # What JavaScript's encodeURIComponent leaves alone.
    return quote(value, safe="!*'()")


def expand_route(template: str, values: Mapping[str, str]) -> str:
    """Expand a route template the way Azure DevOps clients do.

    ``{name}`` becomes the URL-encoded value (a wildcard ``{*name}`` uses the name
    without its punctuation); a segment that ends up empty is dropped; ``{{`` and
    ``}}`` stand for literal braces. No leading or trailing slash.
    """
    segments: list[str] = []
    current = ""
    i = 0
    n = len(template)
    while i < n:
        char = template[i]
        if char == "{":
            if i + 1 < n and template[i + 1] == "{":
                current += "{"
                i += 2
                continue
            end = template.find("}", i + 1)
            if end < 0:
                end = n
            name = template[i + 1 : end]
            value = values.get(name)
            if not value:
                value = values.get("".join(c for c in name if c.isascii() and c.isalnum()))
            if value:
                current += _encode(value)
            i = end + 1
        elif char == "}":
            current += "}"
            i += 2 if i + 1 < n and template[i + 1] == "}" else 1
        elif char == "/":
            if current:
                segments.append(current)
            current = ""
            i += 1
        else:
            current += char
            i += 1
    if current:
        segments.append(current)
    return "/".join(segments)


def area_call(collection: str, area_id: str, token: str) -> Call:
    """``GET _apis/resourceAreas/{area_id}``: which host serves an area (Services)."""
    url = _join(collection, f"_apis/resourceAreas/{area_id}")
    accept = {"Accept": "application/json;api-version=5.0-preview.1"}
    return Call("GET", url, token, accept, url)


def area_host(answer: Answer, call: Call, area_id: str, collection: str) -> str:
    """The ``locationUrl`` of a resource-area answer."""
    if isinstance(answer, TaskError):
        raise answer
    not_found = TaskError("Error_AreaNotFound", area_id, collection)
    data = api_json(answer, call.url, not_found)
    location = data.get("locationUrl") if isinstance(data, dict) else None
    if not isinstance(location, str) or not location.startswith(("http://", "https://")):
        raise TaskError("Error_BadResponse", call.url, Msg("Reason_AnswerLacks", "locationUrl"))
    return location


def locations_call(host: str, token: str) -> Call:
    url = _join(host, f"_apis/{PYPI_AREA}")
    return Call("OPTIONS", url, token, {}, url)


def upload_location(answer: Answer, call: Call) -> dict[str, Any]:
    """The PyPI upload location (route template and names) in ``OPTIONS _apis/pypi``."""
    if isinstance(answer, TaskError):
        raise answer
    url = call.url
    not_found = TaskError("Error_LocationNotFound", UPLOAD_LOCATION_ID.lower(), url)
    data = api_json(answer, url, not_found)
    items = data.get("value") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise TaskError("Error_BadResponse", url, Msg("Reason_NoLocationList"))
    for item in items:
        if isinstance(item, dict) and str(item.get("id", "")).lower() == UPLOAD_LOCATION_ID.lower():
            if not isinstance(item.get("routeTemplate"), str):
                raise TaskError("Error_BadResponse", url, Msg("Reason_LocationNoRoute"))
            return item
    raise not_found


def resolve_feeds(
    agent: Agent, http: HttpClient, feeds: Sequence[FeedRef], token: str
) -> list[Repository]:
    """One repository per feed, named after the feed (its project left out).

    With the feed check on (:mod:`.feedcheck`), its requests go in the same rounds
    as the lookup's: Services, round 1 both resource areas, round 2 the PyPI
    locations and every feed; Server, one round.
    """
    from .feedcheck import FeedCheck

    collection = agent.get_variable("System.TeamFoundationCollectionUri")
    if not collection:
        raise TaskError("Error_NoCollectionUri", feeds[0].display)
    agent.info(agent.loc("Info_ResolvingFeeds", len(feeds), collection))
    hosted = agent.get_variable("System.ServerType").lower() == "hosted"
    check = FeedCheck.for_run(agent, feeds, token, collection, hosted)
    host = collection
    if hosted:
        first = [area_call(collection, PYPI_AREA_ID, token), *check.area_calls()]
        answers = send_all(http, first)
        host = area_host(answers[0], first[0], PYPI_AREA_ID, collection)
        check.take_area(answers[1:])
    second = [locations_call(host, token), *check.feed_calls()]
    answers = send_all(http, second)
    location = upload_location(answers[0], second[0])
    check.judge(http, answers[1:])
    template = str(location["routeTemplate"])
    agent.debug(f"Upload route template: {template}")
    repositories = []
    for feed in feeds:
        values = {
            "area": str(location.get("area") or PYPI_AREA),
            "resource": str(location.get("resourceName") or ""),
            "feedId": feed.name,
            "project": feed.project,
        }
        url = _join(host, expand_route(template, values)).rstrip("/")
        repositories.append(
            Repository(feed.name, url, FEED_USER, token, "feed", Msg("Origin_Feed", feed.display))
        )
    return repositories
