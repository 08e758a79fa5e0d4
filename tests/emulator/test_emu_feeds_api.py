"""Feed Management: the Packaging area on its own host, getting and listing feeds."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests
from emu_support import AUTH, SUPPRESS

from twineauthenticate.emulator import (
    FEEDS_LOCATION_ID,
    PACKAGING_AREA_ID,
    Emulator,
    Feed,
    RequestRecord,
)

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def get(url: str, **params: str) -> requests.Response:
    return requests.get(url, params=params, auth=AUTH, headers=SUPPRESS, timeout=10)


def expand(template: str, values: dict[str, str | None]) -> str:
    """Expand a route template the way a client does (empty segments dropped)."""
    segments = []
    for segment in template.split("/"):
        for name in re.findall(r"{\*?(\w+)}", segment):
            value = values.get(name)
            segment = segment.replace("{" + name + "}", quote(value, safe="") if value else "")
        if segment:
            segments.append(segment)
    return "/".join(segments)


def test_feeds_host_services(emu: Emulator) -> None:
    assert emu.feeds_url == f"{emu.url}/_feeds/contoso/"
    assert emu.feed_api_url("MyFeed") == f"{emu.feeds_url}_apis/packaging/feeds/MyFeed"
    assert (
        emu.feed_api_url("ProjFeed", "My Project")
        == f"{emu.feeds_url}My%20Project/_apis/packaging/feeds/ProjFeed"
    )
    for area_id in (PACKAGING_AREA_ID, PACKAGING_AREA_ID.upper()):
        response = get(
            f"{emu.collection_url}_apis/resourceAreas/{area_id}", **{"api-version": "7.1"}
        )
        assert response.status_code == 200
        assert response.json() == {
            "id": PACKAGING_AREA_ID,
            "name": "Packaging",
            "locationUrl": emu.feeds_url,
        }
    listed = get(f"{emu.collection_url}_apis/resourceAreas").json()["value"]
    assert {"id": PACKAGING_AREA_ID, "name": "Packaging", "locationUrl": emu.feeds_url} in listed


def test_feeds_host_server(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(mode="server")
    assert emu.feeds_url == emu.collection_url
    area = get(f"{emu.collection_url}_apis/resourceAreas/{PACKAGING_AREA_ID}").json()
    assert area["locationUrl"] == emu.collection_url
    response = get(emu.feed_api_url("ProjFeed", "My Project"), **{"api-version": "5.0-preview.1"})
    assert response.status_code == 200
    assert response.json()["url"].startswith(emu.collection_url)


@pytest.mark.parametrize("mode", ["services", "server"])
def test_packaging_locations_and_template(make_emu: Callable[..., Emulator], mode: str) -> None:
    emu = make_emu(mode=mode)
    response = requests.options(
        f"{emu.feeds_url}_apis/Packaging", auth=AUTH, headers=SUPPRESS, timeout=10
    )
    assert response.status_code == 200
    (feeds,) = [item for item in response.json()["value"] if item["id"] == FEEDS_LOCATION_ID]
    assert feeds["area"] == "Packaging"
    assert feeds["resourceName"] == "Feeds"
    assert feeds["routeTemplate"] == "{project}/_apis/{area}/{resource}/{feedId}"
    assert {"resourceVersion", "minVersion", "maxVersion", "releasedVersion"} <= set(feeds)
    for project, feed in [(None, "MyFeed"), ("My Project", "ProjFeed")]:
        values = {"project": project, "area": "Packaging", "resource": "Feeds", "feedId": feed}
        path = expand(feeds["routeTemplate"], values)
        answer = get(emu.feeds_url + path, **{"api-version": "7.1"})
        assert answer.status_code == 200
        assert answer.json()["name"] == feed


def test_packaging_area_not_on_other_hosts_on_services(emu: Emulator) -> None:
    for base in (emu.collection_url, emu.packaging_url):
        options = requests.options(f"{base}_apis/Packaging", auth=AUTH, timeout=10)
        assert options.status_code == 404
        assert get(f"{base}_apis/packaging/feeds/MyFeed").status_code == 404


@pytest.mark.parametrize(
    "version", [None, "7.1", "7.1-preview.1", "6.0-preview.1", "5.0-preview.1"]
)
def test_get_organization_feed(emu: Emulator, version: str | None) -> None:
    params = {} if version is None else {"api-version": version}
    response = get(emu.feed_api_url("MyFeed"), **params)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    feed = response.json()
    assert feed["name"] == "MyFeed"
    assert GUID.fullmatch(feed["id"])
    assert feed["project"] is None
    assert feed["url"] == f"{emu.feeds_url}_apis/Packaging/Feeds/{feed['id']}"
    assert feed["viewId"] is None and feed["viewName"] is None
    assert feed["upstreamEnabled"] is True
    assert feed["description"] == ""
    assert feed["_links"]["self"]["href"] == feed["url"]


def test_get_project_feed_by_names_any_case_and_by_ids(emu: Emulator) -> None:
    feed = get(emu.feed_api_url("ProjFeed", "My Project")).json()
    project = feed["project"]
    assert project == {"id": project["id"], "name": "My Project", "visibility": "private"}
    assert GUID.fullmatch(project["id"])
    assert feed["url"] == f"{emu.feeds_url}{project['id']}/_apis/Packaging/Feeds/{feed['id']}"
    for feed_ref, project_ref in [
        ("projfeed", "MY PROJECT"),
        (feed["id"], "My Project"),
        ("ProjFeed", project["id"]),
        (feed["id"].upper(), project["id"].upper()),
    ]:
        again = get(emu.feed_api_url(feed_ref, project_ref), **{"api-version": "7.1"})
        assert again.status_code == 200, (feed_ref, project_ref)
        assert again.json() == feed
    assert emu.feed_id("ProjFeed", "my project") == feed["id"]
    assert emu.project_id("MY PROJECT") == project["id"]
    assert emu.feed_id("MyFeed") != feed["id"]
    with pytest.raises(KeyError):
        emu.project_id("Elsewhere")
    # The ids are the feed picker's.
    picked = get(f"{emu.collection_url}_apis/packaging/feedids").json()["value"]
    assert {"id": feed["id"], "name": "ProjFeed", "projectName": "My Project",
            "projectId": project["id"]} in picked  # fmt: skip


@pytest.mark.parametrize(
    ("feed", "project"),
    [
        ("NoSuchFeed", None),
        ("ProjFeed", None),  # a project feed without its project
        ("MyFeed", "My Project"),  # an organization feed under a project
        ("MyFeeed", None),
    ],
)
def test_feed_not_found(emu: Emulator, feed: str, project: str | None) -> None:
    response = get(emu.feed_api_url(feed, project), **{"api-version": "7.1"})
    assert response.status_code == 404
    body = response.json()
    assert body["typeKey"] == "FeedIdNotFoundException"
    assert body["message"] == f"The feed with ID '{feed}' doesn't exist."


def test_project_not_found(emu: Emulator) -> None:
    for url in (
        emu.feed_api_url("ProjFeed", "Other Project"),
        f"{emu.feeds_url}Other%20Project/_apis/packaging/feeds",
    ):
        response = get(url, **{"api-version": "7.1"})
        assert response.status_code == 404
        assert response.json()["typeKey"] == "ProjectDoesNotExistWithNameException"
        assert "Other Project" in response.json()["message"]


def names(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    assert payload["count"] == len(payload["value"])
    return [
        (feed["name"], feed["project"]["name"] if feed["project"] else None)
        for feed in payload["value"]
    ]


FOUR_FEEDS = [
    Feed("MyFeed"),
    Feed("Shared"),
    Feed("ProjFeed", project="My Project"),
    Feed("Tools", project="Other"),
]


@pytest.mark.parametrize("mode", ["services", "server"])
def test_list_feeds(make_emu: Callable[..., Emulator], mode: str) -> None:
    emu = make_emu(feeds=FOUR_FEEDS, mode=mode)
    every = [("MyFeed", None), ("Shared", None), ("ProjFeed", "My Project"), ("Tools", "Other")]
    # Organization scope: every feed of the organization, project feeds included.
    for suffix in ("_apis/packaging/feeds", "_apis/Packaging/Feeds/"):
        response = get(emu.feeds_url + suffix, **{"api-version": "7.1"})
        assert response.status_code == 200
        assert names(response.json()) == every
    for project in ("My Project", "my project"):
        scoped = get(f"{emu.feeds_url}{quote(project)}/_apis/packaging/feeds")
        assert names(scoped.json()) == [("ProjFeed", "My Project")]
    listed = get(f"{emu.feeds_url}_apis/packaging/feeds").json()["value"]
    assert listed[2] == get(emu.feed_api_url("ProjFeed", "My Project")).json()


def test_list_feeds_by_role(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(feeds=FOUR_FEEDS, permissions={"Shared": "read", "Other/Tools": "none"})
    url = f"{emu.feeds_url}_apis/packaging/feeds"
    assert names(get(url).json()) == [
        ("MyFeed", None),
        ("Shared", None),
        ("ProjFeed", "My Project"),
    ]
    contributor = get(url, feedRole="contributor").json()
    assert names(contributor) == [("MyFeed", None), ("ProjFeed", "My Project")]
    assert names(get(url, feedRole="Reader").json()) == names(get(url).json())
    assert names(get(url, feedRole="administrator").json()) == []
    assert get(url, feedRole="sorcerer").status_code == 400


def test_wrong_method_and_bad_api_version(emu: Emulator) -> None:
    url = emu.feed_api_url("MyFeed")
    response = requests.post(url, auth=AUTH, headers=SUPPRESS, timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    bad = get(url, **{"api-version": "seven"})
    assert bad.status_code == 400
    assert "seven" in bad.json()["message"]
    for accept, status in [
        ("application/json;api-version=7.1", 200),
        ("application/json; api-version=5.0-preview.1; excludeUrls=true", 200),
        ("application/json;api-version=latest", 400),
    ]:
        headers = {**SUPPRESS, "Accept": accept}
        assert requests.get(url, auth=AUTH, headers=headers, timeout=10).status_code == status
    assert get(f"{emu.feeds_url}_apis/packaging/feeds/MyFeed/extra").status_code == 404


def test_feed_management_requires_authentication(emu: Emulator) -> None:
    url = emu.feed_api_url("MyFeed")
    assert requests.get(url, headers=SUPPRESS, timeout=10).status_code == 401
    wrong = requests.get(url, auth=("build", "wrong"), headers=SUPPRESS, timeout=10)
    assert wrong.status_code == 401
    assert wrong.json()["message"].startswith("TF400813")


def test_faults_and_request_log_on_new_routes(emu: Emulator) -> None:
    emu.inject_faults(2, status=503, retry_after=2, path_contains="/_apis/packaging/feeds/")
    emu.inject_faults(1, drop=True, path_contains="_apis/connectionData")
    url = emu.feed_api_url("MyFeed") + "?api-version=7.1"
    first = get(url)
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "2"
    assert get(url).status_code == 503
    listed = get(f"{emu.feeds_url}_apis/packaging/feeds")  # no trailing slash after feeds: no match
    assert listed.status_code == 200
    assert get(url).status_code == 200
    with pytest.raises(requests.ConnectionError):
        get(f"{emu.collection_url}_apis/connectionData")
    assert get(f"{emu.collection_url}_apis/connectionData").status_code == 200
    assert emu.pending_faults == 0
    path = "/_feeds/contoso/_apis/packaging/feeds/MyFeed?api-version=7.1"
    assert emu.requests == [
        RequestRecord("GET", path, 503, True, "build"),
        RequestRecord("GET", path, 503, True, "build"),
        RequestRecord("GET", "/_feeds/contoso/_apis/packaging/feeds", 200, True, "build"),
        RequestRecord("GET", path, 200, True, "build"),
        RequestRecord("GET", "/contoso/_apis/connectionData", 0, True, "build"),
        RequestRecord("GET", "/contoso/_apis/connectionData", 200, True, "build"),
    ]


def test_latency_applies_to_feed_management(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(latency=0.2)
    response = get(emu.feed_api_url("MyFeed"))
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.2
