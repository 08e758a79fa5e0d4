"""Who the token stands for (``_apis/connectionData``) and the sign-in answer to a bad token."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from emu_support import AUTH, EMU_TOKEN, SUPPRESS

from twineauthenticate.emulator import DEFAULT_TENANT, Emulator

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BAD = ("build", "expired-token")


def connection_data(emu: Emulator, version: str = "7.1") -> requests.Response:
    return requests.get(
        f"{emu.collection_url}_apis/connectionData",
        params={"api-version": version, "connectOptions": "1", "lastChangeId": "-1"},
        auth=AUTH,
        headers=SUPPRESS,
        timeout=10,
    )


@pytest.mark.parametrize(("mode", "deployment"), [("services", "hosted"), ("server", "onPremises")])
def test_connection_data_default_identity(
    make_emu: Callable[..., Emulator], mode: str, deployment: str
) -> None:
    emu = make_emu(mode=mode)
    response = connection_data(emu)
    assert response.status_code == 200
    payload = response.json()
    user = payload["authenticatedUser"]
    assert user["providerDisplayName"] == "Project Collection Build Service (contoso)"
    assert user["providerDisplayName"] == emu.identity
    assert user["id"] == emu.identity_id
    assert GUID.fullmatch(user["id"])
    assert user["isActive"] is True
    assert user["descriptor"].startswith("Microsoft.TeamFoundation.ServiceIdentity;")
    assert user["subjectDescriptor"].startswith("svc.")
    assert isinstance(user["properties"], dict)
    assert payload["authorizedUser"] == user
    assert GUID.fullmatch(payload["instanceId"])
    assert GUID.fullmatch(payload["deploymentId"])
    assert payload["deploymentType"] == deployment
    assert "serviceOwner" in payload["locationServiceData"]


def test_connection_data_names_the_identity_given(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(organization="fabrikam", identity="My Project Build Service (fabrikam)")
    for version in ("5.0-preview.1", "6.0-preview", "7.1-preview.1"):
        user = connection_data(emu, version).json()["authenticatedUser"]
        assert user["providerDisplayName"] == "My Project Build Service (fabrikam)"
    assert emu.identity == "My Project Build Service (fabrikam)"
    other = make_emu(organization="fabrikam")
    assert other.identity == "Project Collection Build Service (fabrikam)"
    assert other.identity_id != emu.identity_id
    # The id is the one named in the 403 answers.
    emu.set_permission("MyFeed", "none")
    refused = requests.get(emu.feed_api_url("MyFeed"), auth=AUTH, timeout=10)
    assert f"User '{emu.identity_id}' lacks permission" in refused.json()["message"]


def test_connection_data_on_other_hosts_and_methods(emu: Emulator) -> None:
    for base in (emu.packaging_url, emu.feeds_url):
        response = requests.get(f"{base}_apis/connectionData", auth=AUTH, timeout=10)
        assert response.json()["authenticatedUser"]["id"] == emu.identity_id
    post = requests.post(f"{emu.collection_url}_apis/connectionData", auth=AUTH, timeout=10)
    assert post.status_code == 405


def test_invalid_identity() -> None:
    for name in ("", " padded "):
        with pytest.raises(ValueError):
            Emulator(identity=name)


def rest_urls(emu: Emulator) -> list[str]:
    return [
        f"{emu.collection_url}_apis/connectionData",
        f"{emu.collection_url}_apis/packaging/feedids",
        f"{emu.collection_url}_apis/resourceAreas/7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5",
        f"{emu.packaging_url}_apis/resourceAreas",
        emu.feed_api_url("MyFeed") + "?api-version=7.1",
        emu.feed_api_url("ProjFeed", "My Project"),
        f"{emu.feeds_url}_apis/packaging/feeds",
    ]


@pytest.mark.parametrize("mode", ["services", "server"])
def test_bad_token_without_suppress_gets_sign_in_page(
    make_emu: Callable[..., Emulator], mode: str
) -> None:
    emu = make_emu(mode=mode)
    for url in rest_urls(emu):
        response = requests.get(url, auth=BAD, timeout=10)
        assert response.status_code == 203, url
        assert response.reason == "Non-Authoritative Information"
        assert response.headers["Content-Type"].startswith("text/html")
        assert "Sign In" in response.text
        with pytest.raises(ValueError):
            response.json()
        assert emu.requests[-1].status == 203
        assert emu.requests[-1].auth_ok is False
        # With the header REST clients send: a plain 401 with a JSON body.
        suppressed = requests.get(url, auth=BAD, headers=SUPPRESS, timeout=10)
        assert suppressed.status_code == 401, url
        assert suppressed.json()["typeKey"] == "UnauthorizedRequestException"
        assert suppressed.headers["X-VSS-ResourceTenant"] == DEFAULT_TENANT


def test_header_value_is_case_insensitive_and_anonymous_gets_401(emu: Emulator) -> None:
    url = emu.feed_api_url("MyFeed")
    lower = {"x-tfs-fedauthredirect": "suppress"}
    assert requests.get(url, auth=BAD, headers=lower, timeout=10).status_code == 401
    # No credentials at all: the 401 challenge, header or not.
    assert requests.get(url, timeout=10).status_code == 401
    # A good token is unaffected by the header.
    assert requests.get(url, auth=("x", EMU_TOKEN), timeout=10).status_code == 200


def test_feed_routes_keep_answering_401(emu: Emulator) -> None:
    urls = [emu.feed_index_url("MyFeed"), emu.feed_index_url("ProjFeed", "My Project")]
    for url in urls:
        response = requests.get(url, auth=BAD, timeout=10)
        assert response.status_code == 401
        assert "Basic" in response.headers["WWW-Authenticate"]
    upload = requests.post(emu.feed_upload_url("MyFeed"), auth=BAD, timeout=10)
    assert upload.status_code == 401


def test_sign_in_redirect(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(sign_in="redirect")
    url = emu.feed_api_url("MyFeed") + "?api-version=7.1"
    response = requests.get(url, auth=BAD, timeout=10, allow_redirects=False)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{emu.url}/_signin?")
    assert parse_qs(urlsplit(location).query)["reply_to"] == [url]
    # A client that follows it lands on the sign-in page: 200 and HTML, not the feed.
    followed = requests.get(url, auth=BAD, timeout=10)
    assert followed.status_code == 200
    assert followed.headers["Content-Type"].startswith("text/html")
    assert followed.url.startswith(f"{emu.url}/_signin?")
    assert [r.status for r in emu.requests[-2:]] == [302, 200]
    assert requests.get(url, auth=BAD, headers=SUPPRESS, timeout=10).status_code == 401


def test_invalid_sign_in_option() -> None:
    with pytest.raises(ValueError):
        Emulator(sign_in="popup")
