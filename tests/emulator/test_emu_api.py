"""REST API of the emulator: authentication, resource areas, locations, feed picker."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import pytest
import requests
from emu_support import EMU_TOKEN

from twineauthenticate.emulator import (
    DEFAULT_TENANT,
    PYPI_AREA_ID,
    PYPI_UPLOAD_LOCATION_ID,
    Emulator,
    Feed,
    RequestRecord,
)

AUTH = ("anyone", EMU_TOKEN)
# What REST clients send to get a 401 rather than the sign-in page for bad credentials.
SUPPRESS = {"X-TFS-FedAuthRedirect": "Suppress"}
PYPI_AREA_UPPER = "92F0314B-06C5-46E0-ABE7-15FD9D13276A"


def expand(template: str, values: dict[str, str | None]) -> str:
    """Expand a route template the way the task does (empty segments dropped)."""
    segments = []
    for segment in template.split("/"):
        for name in re.findall(r"{\*?(\w+)}", segment):
            value = values.get(name)
            segment = re.sub(r"{\*?" + name + "}", quote(value, safe="") if value else "", segment)
        if segment:
            segments.append(segment)
    return "/".join(segments)


def test_urls_services(emu: Emulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url)
    assert emu.collection_url == f"{emu.url}/contoso/"
    assert emu.packaging_url == f"{emu.url}/_pkgs/contoso/"
    assert emu.feed_upload_url("MyFeed") == f"{emu.url}/_pkgs/contoso/_packaging/MyFeed/pypi/upload"
    assert (
        emu.feed_upload_url("ProjFeed", project="My Project")
        == f"{emu.url}/_pkgs/contoso/My%20Project/_packaging/ProjFeed/pypi/upload"
    )
    assert emu.feed_index_url("MyFeed").endswith("/_packaging/MyFeed/pypi/simple/")
    assert emu.oidc_request_uri == f"{emu.url}/_oidc/token"
    assert emu.authority_url == f"{emu.url}/_entra/"


def test_urls_server(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(mode="server")
    assert emu.collection_url == f"{emu.url}/tfs/DefaultCollection/"
    assert emu.packaging_url == emu.collection_url
    assert emu.feed_upload_url("MyFeed") == f"{emu.collection_url}_packaging/MyFeed/pypi/upload"


@pytest.mark.parametrize("area_id", [PYPI_AREA_UPPER, PYPI_AREA_ID])
def test_resource_area(emu: Emulator, area_id: str) -> None:
    url = f"{emu.collection_url}_apis/resourceAreas/{area_id}?api-version=5.0-preview.1"
    response = requests.get(url, auth=AUTH, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "id": PYPI_AREA_ID,
        "name": "pypi",
        "locationUrl": emu.packaging_url,
    }


def test_resource_area_on_server_points_at_collection(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(mode="server")
    url = f"{emu.collection_url}_apis/resourceAreas/{PYPI_AREA_UPPER}"
    assert requests.get(url, auth=AUTH, timeout=10).json()["locationUrl"] == emu.collection_url


def test_resource_area_list(emu: Emulator) -> None:
    response = requests.get(f"{emu.collection_url}_apis/resourceAreas", auth=AUTH, timeout=10)
    payload = response.json()
    assert payload["count"] == len(payload["value"]) >= 2
    assert {"id": PYPI_AREA_ID, "name": "pypi", "locationUrl": emu.packaging_url} in payload[
        "value"
    ]


def test_unknown_resource_area(emu: Emulator) -> None:
    url = f"{emu.collection_url}_apis/resourceAreas/00000000-0000-0000-0000-000000000000"
    response = requests.get(url, auth=AUTH, timeout=10)
    assert response.status_code == 404
    body = response.json()
    assert "00000000-0000-0000-0000-000000000000" in body["message"]
    assert body["typeKey"] == "ResourceAreaNotFoundException"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic bm90OmJhc2U2NA=="},  # "not:base64" -> wrong password
        {"Authorization": "Basic %%%"},
        {"Authorization": "Negotiate abc"},
    ],
)
def test_api_refuses_missing_or_wrong_auth(emu: Emulator, headers: dict[str, str]) -> None:
    url = f"{emu.collection_url}_apis/resourceAreas/{PYPI_AREA_UPPER}"
    response = requests.get(url, headers={**headers, **SUPPRESS}, timeout=10)
    assert response.status_code == 401
    assert "Basic realm=" in response.headers["WWW-Authenticate"]
    assert response.headers["X-VSS-ResourceTenant"] == DEFAULT_TENANT
    assert emu.requests[-1].auth_ok is False


def test_wrong_password_is_refused_any_user_accepted(emu: Emulator) -> None:
    url = f"{emu.collection_url}_apis/resourceAreas/{PYPI_AREA_UPPER}"
    wrong = requests.get(url, auth=("build", "nope"), headers=SUPPRESS, timeout=10)
    assert wrong.status_code == 401
    assert requests.get(url, auth=("", EMU_TOKEN), timeout=10).status_code == 200
    assert requests.get(url, auth=("vsts", EMU_TOKEN), timeout=10).status_code == 200
    bearer = {"Authorization": f"Bearer {EMU_TOKEN}"}
    assert requests.get(url, headers=bearer, timeout=10).status_code == 200


def test_added_and_revoked_tokens(emu: Emulator) -> None:
    url = f"{emu.collection_url}_apis/packaging/feedids"
    assert requests.get(url, auth=("u", "extra"), headers=SUPPRESS, timeout=10).status_code == 401
    emu.add_token("extra")
    assert requests.get(url, auth=("u", "extra"), timeout=10).status_code == 200
    emu.revoke_token(EMU_TOKEN)
    assert requests.get(url, auth=AUTH, headers=SUPPRESS, timeout=10).status_code == 401


def test_pypi_locations_on_packaging_host(emu: Emulator) -> None:
    response = requests.options(f"{emu.packaging_url}_apis/pypi", auth=AUTH, timeout=10)
    assert response.status_code == 200
    payload = response.json()
    assert payload["count"] == len(payload["value"]) >= 3
    keys = {
        "id",
        "area",
        "resourceName",
        "routeTemplate",
        "resourceVersion",
        "minVersion",
        "maxVersion",
        "releasedVersion",
    }
    assert all(set(item) == keys and item["area"] == "pypi" for item in payload["value"])
    (upload,) = [item for item in payload["value"] if item["id"] == PYPI_UPLOAD_LOCATION_ID]
    assert upload["routeTemplate"] == "{project}/_packaging/{feedId}/pypi/upload"
    assert upload["id"] == upload["id"].lower()
    # Expanding the template the way the task must gives the emulator's URL.
    for project, feed in [(None, "MyFeed"), ("My Project", "ProjFeed")]:
        path = expand(upload["routeTemplate"], {"project": project, "feedId": feed})
        assert emu.packaging_url + path == emu.feed_upload_url(feed, project=project)


def test_pypi_locations_not_on_collection_host_on_services(emu: Emulator) -> None:
    response = requests.options(f"{emu.collection_url}_apis/pypi", auth=AUTH, timeout=10)
    assert response.status_code == 404
    assert "message" in response.json()


def test_server_mode_serves_pypi_locations_on_collection(
    make_emu: Callable[..., Emulator],
) -> None:
    emu = make_emu(mode="server")
    response = requests.options(f"{emu.collection_url}_apis/pypi", auth=AUTH, timeout=10)
    ids = {item["id"] for item in response.json()["value"]}
    assert PYPI_UPLOAD_LOCATION_ID in ids


@pytest.mark.parametrize("host", ["collection_url", "packaging_url"])
def test_location_area(emu: Emulator, host: str) -> None:
    base = getattr(emu, host)
    response = requests.options(f"{base}_apis/Location", auth=AUTH, timeout=10)
    assert response.status_code == 200
    payload = response.json()
    assert payload["count"] == len(payload["value"]) > 0
    assert {item["area"] for item in payload["value"]} == {"Location"}


def test_unknown_location_area_and_method(emu: Emulator) -> None:
    unknown = requests.options(f"{emu.packaging_url}_apis/nosuch", auth=AUTH, timeout=10)
    assert unknown.status_code == 404
    wrong_method = requests.get(f"{emu.packaging_url}_apis/pypi", auth=AUTH, timeout=10)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "OPTIONS"


def test_unknown_path_is_404(emu: Emulator) -> None:
    assert requests.get(f"{emu.url}/elsewhere", timeout=10).status_code == 404
    assert emu.requests[-1].auth_ok is None


def test_feed_picker(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(feeds=[Feed("MyFeed"), Feed("ProjFeed", project="My Project")])
    response = requests.get(f"{emu.collection_url}_apis/packaging/feedids", auth=AUTH, timeout=10)
    payload = response.json()
    assert payload["count"] == 2
    org_feed, project_feed = payload["value"]
    assert set(org_feed) == {"id", "name"}
    assert org_feed["name"] == "MyFeed"
    assert project_feed["name"] == "ProjFeed"
    assert project_feed["projectName"] == "My Project"
    assert re.fullmatch(r"[0-9a-f-]{36}", project_feed["projectId"])
    # Ids are stable and address the feed like its name does.
    feed_url = emu.feed_index_url(project_feed["id"], project=project_feed["projectId"])
    assert requests.get(feed_url, auth=AUTH, timeout=10).status_code == 200


def test_request_log(emu: Emulator) -> None:
    url = f"{emu.collection_url}_apis/resourceAreas/{PYPI_AREA_UPPER}?api-version=5.0"
    requests.get(url, auth=("someone", EMU_TOKEN), timeout=10)
    requests.get(url, timeout=10)
    path = f"/contoso/_apis/resourceAreas/{PYPI_AREA_UPPER}?api-version=5.0"
    assert emu.requests == [
        RequestRecord("GET", path, 200, True, "someone"),
        RequestRecord("GET", path, 401, False, None),
    ]
    emu.clear_log()
    assert emu.requests == []


def test_lifecycle(make_emu: Callable[..., Emulator]) -> None:
    emulator = Emulator(token="t")
    with pytest.raises(RuntimeError):
        _ = emulator.url
    with emulator as running:
        storage = running.storage_dir
        assert storage.is_dir()
        with pytest.raises(RuntimeError):
            running.start()
    assert not storage.exists()  # a temporary storage dir goes away on stop()
    emulator.stop()  # idempotent
    with pytest.raises(ValueError):
        Emulator(mode="cloud")
    with pytest.raises(ValueError):
        Emulator(feeds=[Feed("A"), Feed("a")])
    with pytest.raises(ValueError):
        Feed("a/b")
