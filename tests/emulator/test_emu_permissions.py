"""Per-feed permissions of the build identity: none, read, publish."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from emu_support import AUTH, EMU_TOKEN, SUPPRESS, Dists, flat, form_upload

from twineauthenticate.emulator import Emulator


def needs(emu: Emulator, permission: str) -> str:
    return (
        f"User '{emu.identity_id}' lacks permission to complete this action. "
        f"You need to have '{permission}'."
    )


def assert_forbidden(response: requests.Response, emu: Emulator, permission: str) -> None:
    assert response.status_code == 403
    body = response.json()
    assert body["typeKey"] == "FeedNeedsPermissionsException"
    assert body["message"] == needs(emu, permission)
    assert response.reason == "Forbidden - " + needs(emu, permission)


def feed_listing(emu: Emulator) -> list[str]:
    response = requests.get(
        f"{emu.feeds_url}_apis/packaging/feeds", auth=AUTH, headers=SUPPRESS, timeout=10
    )
    return [feed["name"] for feed in response.json()["value"]]


def picker(emu: Emulator) -> list[str]:
    response = requests.get(f"{emu.collection_url}_apis/packaging/feedids", auth=AUTH, timeout=10)
    return [feed["name"] for feed in response.json()["value"]]


def download_url(emu: Emulator, feed: str, project: str | None = None) -> str:
    """Upload one file, return its download link from the simple index."""
    assert form_upload(emu.feed_upload_url(feed, project), b"wheel").status_code == 200
    page = requests.get(emu.feed_index_url(feed, project) + "emu-demo-pkg/", auth=AUTH, timeout=10)
    match = re.search(r'href="([^"#]+)', page.text)
    assert match is not None, page.text
    return emu.url + match.group(1)


def test_default_is_publish(emu: Emulator) -> None:
    assert emu.permission("MyFeed") == "publish"
    assert emu.permission("projfeed", project="MY PROJECT") == "publish"
    assert feed_listing(emu) == ["MyFeed", "ProjFeed"]
    assert picker(emu) == ["MyFeed", "ProjFeed"]


def test_no_permission_refuses_every_route(emu: Emulator) -> None:
    url = download_url(emu, "ProjFeed", "My Project")
    emu.set_permission("ProjFeed", "none", project="My Project")
    assert emu.permission("ProjFeed", "My Project") == "none"
    checks = [
        requests.get(emu.feed_api_url("ProjFeed", "My Project"), auth=AUTH, timeout=10),
        requests.get(emu.feed_index_url("ProjFeed", "My Project"), auth=AUTH, timeout=10),
        requests.get(
            emu.feed_index_url("ProjFeed", "My Project") + "emu-demo-pkg/", auth=AUTH, timeout=10
        ),
        requests.get(url, auth=AUTH, timeout=10),
        form_upload(emu.feed_upload_url("ProjFeed", "My Project"), b"other"),
    ]
    for response in checks:
        assert_forbidden(response, emu, "ReadPackages")
    assert feed_listing(emu) == ["MyFeed"]
    assert picker(emu) == ["MyFeed"]
    # Other feeds are not affected; a missing feed is still 404.
    assert requests.get(emu.feed_api_url("MyFeed"), auth=AUTH, timeout=10).status_code == 200
    missing = requests.get(emu.feed_api_url("Nope", "My Project"), auth=AUTH, timeout=10)
    assert missing.status_code == 404


def test_read_permission_allows_reading_not_publishing(emu: Emulator) -> None:
    url = download_url(emu, "MyFeed")
    emu.set_permission("myfeed", "READ")
    assert emu.permission("MyFeed") == "read"
    assert requests.get(emu.feed_api_url("MyFeed"), auth=AUTH, timeout=10).status_code == 200
    assert requests.get(emu.feed_index_url("MyFeed"), auth=AUTH, timeout=10).status_code == 200
    assert requests.get(url, auth=AUTH, timeout=10).content == b"wheel"
    refused = form_upload(
        emu.feed_upload_url("MyFeed"), b"other", filename="emu_demo_pkg-0.2.tar.gz"
    )
    assert_forbidden(refused, emu, "AddPackage")
    assert emu.uploaded_files("MyFeed") == ["emu_demo_pkg-0.1.0-py3-none-any.whl"]
    assert feed_listing(emu) == ["MyFeed", "ProjFeed"]
    assert picker(emu) == ["MyFeed", "ProjFeed"]
    emu.set_permission("MyFeed", "publish")
    again = form_upload(emu.feed_upload_url("MyFeed"), b"other", filename="emu_demo_pkg-0.2.tar.gz")
    assert again.status_code == 200


def test_authentication_comes_before_permission(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(permissions={"MyFeed": "none"})
    response = requests.get(emu.feed_index_url("MyFeed"), auth=("b", "wrong"), timeout=10)
    assert response.status_code == 401


def test_twine_upload_to_read_only_feed(
    make_emu: Callable[..., Emulator], twine_upload: Any, dists: Dists
) -> None:
    emu = make_emu(permissions={"My Project/ProjFeed": "read"})
    url = emu.feed_upload_url("ProjFeed", project="My Project")
    result = twine_upload(url, "build", EMU_TOKEN, [dists.wheel])
    assert result.returncode != 0
    output = flat(result.stdout + result.stderr)
    assert "403 Forbidden" in output
    assert needs(emu, "AddPackage") in output
    assert emu.uploaded_files("ProjFeed", project="My Project") == []
    assert [r.status for r in emu.requests if r.method == "POST"] == [403]


@pytest.mark.parametrize(
    ("permissions", "expected"),
    [
        ({"myfeed": "none"}, {("MyFeed", None): "none", ("ProjFeed", "My Project"): "publish"}),
        ({"MY PROJECT/projfeed": "Read"}, {("MyFeed", None): "publish", ("ProjFeed", "My Project"): "read"}),
        ({"MyFeed": "read", "My Project/ProjFeed": "none"}, {("MyFeed", None): "read", ("ProjFeed", "My Project"): "none"}),
    ],
)  # fmt: skip
def test_constructor_permissions(
    make_emu: Callable[..., Emulator],
    permissions: dict[str, str],
    expected: dict[tuple[str, str | None], str],
) -> None:
    emu = make_emu(permissions=permissions)
    for (feed, project), level in expected.items():
        assert emu.permission(feed, project) == level


def test_permission_ids_address_the_feed(emu: Emulator) -> None:
    feed = requests.get(emu.feed_api_url("ProjFeed", "My Project"), auth=AUTH, timeout=10).json()
    emu.set_permission(feed["id"], "none", project=feed["project"]["id"])
    assert emu.permission("ProjFeed", "My Project") == "none"


@pytest.mark.parametrize(
    "permissions",
    [{"MyFeed": "write"}, {"NoSuchFeed": "read"}, {"ProjFeed": "read"}, {"a/b/c": "read"},
     {"/MyFeed": "read"}, {"Nowhere/ProjFeed": "none"}],
)  # fmt: skip
def test_invalid_permissions(permissions: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Emulator(permissions=permissions)


def test_invalid_set_permission(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="none, read, publish"):
        emu.set_permission("MyFeed", "owner")
    with pytest.raises(ValueError, match="unknown feed"):
        emu.set_permission("ProjFeed", "read")
    with pytest.raises(ValueError, match="unknown feed"):
        emu.permission("Nope")
