"""Workload identity federation: the OIDC endpoint and the Entra-like token endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from emu_support import (
    CLIENT_ID,
    CONNECTION_ID,
    EMU_TOKEN,
    OTHER_CLIENT_ID,
    OTHER_CONNECTION_ID,
)

from twineauthenticate.emulator import (
    DEFAULT_TENANT,
    EXPECTED_SCOPE,
    JWT_BEARER_ASSERTION,
    Emulator,
)


def oidc_token(
    emu: Emulator, connection_id: str = CONNECTION_ID, **kwargs: Any
) -> requests.Response:
    kwargs.setdefault("headers", {"Authorization": f"Bearer {EMU_TOKEN}"})
    return requests.post(
        emu.oidc_request_uri,
        params={"api-version": "7.1", "serviceConnectionId": connection_id},
        timeout=10,
        **kwargs,
    )


def entra_form(assertion: str, **overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "scope": EXPECTED_SCOPE,
        "client_id": CLIENT_ID,
        "client_assertion_type": JWT_BEARER_ASSERTION,
        "client_assertion": assertion,
        "grant_type": "client_credentials",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def entra_token(
    emu: Emulator, form: dict[str, str], tenant: str = DEFAULT_TENANT
) -> requests.Response:
    url = f"{emu.authority_url}{tenant}/oauth2/v2.0/token"
    return requests.post(url, data=form, timeout=10)


def test_happy_path(emu: Emulator) -> None:
    # The anonymous probe names the tenant.
    probe = requests.get(emu.feed_upload_url("ProjFeed", project="My Project") + "/", timeout=10)
    tenant = probe.headers["X-VSS-ResourceTenant"]

    response = oidc_token(emu)
    assert response.status_code == 200
    oidc = response.json()["oidcToken"]
    assert oidc.count(".") == 2  # JWT-shaped
    claims = json.loads(base64.urlsafe_b64decode(oidc.split(".")[1] + "=="))
    assert claims["aud"] == "api://AzureADTokenExchange"
    assert emu.issued_oidc_tokens == [oidc]
    assert emu.requests[-1].auth_ok is True
    assert emu.requests[-1].path.startswith("/_oidc/token?api-version=7.1&serviceConnectionId=")

    exchange = entra_token(emu, entra_form(oidc), tenant=tenant)
    assert exchange.status_code == 200
    payload = exchange.json()
    assert payload["token_type"] == "Bearer"
    assert payload["expires_in"] == 3599
    access = payload["access_token"]
    assert emu.issued_access_tokens == [access]
    assert emu.requests[-1].auth_ok is None

    index = emu.feed_index_url("ProjFeed", project="My Project")
    assert requests.get(index, auth=("MyConnection", access), timeout=10).status_code == 200
    # An access token is no OIDC bearer.
    assert oidc_token(emu, headers={"Authorization": f"Bearer {access}"}).status_code == 401
    emu.revoke_token(access)
    assert requests.get(index, auth=("MyConnection", access), timeout=10).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic " + base64.b64encode(f"x:{EMU_TOKEN}".encode()).decode()},
    ],
)
def test_oidc_refuses_without_the_bearer_build_token(
    emu: Emulator, headers: dict[str, str]
) -> None:
    response = oidc_token(emu, headers=headers)
    assert response.status_code == 401
    assert response.json()["message"]
    assert emu.issued_oidc_tokens == []
    assert emu.requests[-1].auth_ok is False


def test_oidc_connection_errors(emu: Emulator) -> None:
    unknown = oidc_token(emu, connection_id="99999999-9999-9999-9999-999999999999")
    assert unknown.status_code == 404
    assert "99999999-9999-9999-9999-999999999999" in unknown.json()["message"]
    missing = requests.post(
        emu.oidc_request_uri,
        params={"api-version": "7.1"},
        headers={"Authorization": f"Bearer {EMU_TOKEN}"},
        timeout=10,
    )
    assert missing.status_code == 400
    assert "serviceConnectionId" in missing.json()["message"]
    wrong_method = requests.get(
        emu.oidc_request_uri, headers={"Authorization": f"Bearer {EMU_TOKEN}"}, timeout=10
    )
    assert wrong_method.status_code == 405
    # Connection ids are GUIDs: any case.
    assert oidc_token(emu, connection_id=CONNECTION_ID.upper()).status_code == 200


def test_connections_can_be_added(make_emu: Callable[..., Emulator]) -> None:
    emu = make_emu(service_connections={})
    assert oidc_token(emu).status_code == 404
    emu.add_service_connection(CONNECTION_ID, CLIENT_ID)
    assert oidc_token(emu).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "tenant", "status", "error", "code"),
    [
        ({}, "00000000-0000-0000-0000-000000000000", 400, "invalid_request", 90002),
        ({"grant_type": "password"}, DEFAULT_TENANT, 400, "unsupported_grant_type", 70003),
        ({"grant_type": None}, DEFAULT_TENANT, 400, "invalid_request", 900144),
        (
            {"scope": "https://graph.microsoft.com/.default"},
            DEFAULT_TENANT,
            400,
            "invalid_scope",
            1002012,
        ),
        ({"client_assertion_type": "urn:other"}, DEFAULT_TENANT, 400, "invalid_request", 50027),
        ({"client_assertion": None}, DEFAULT_TENANT, 401, "invalid_client", 7000218),
        ({"client_assertion": "a.b.c"}, DEFAULT_TENANT, 401, "invalid_client", 50027),
        ({"client_id": "not-registered"}, DEFAULT_TENANT, 400, "unauthorized_client", 700016),
        ({"client_id": OTHER_CLIENT_ID}, DEFAULT_TENANT, 401, "invalid_client", 700213),
    ],
)
def test_entra_errors(
    emu: Emulator,
    overrides: dict[str, str | None],
    tenant: str,
    status: int,
    error: str,
    code: int,
) -> None:
    oidc = oidc_token(emu).json()["oidcToken"]
    response = entra_token(emu, entra_form(oidc, **overrides), tenant=tenant)
    assert response.status_code == status
    payload = response.json()
    assert payload["error"] == error
    assert payload["error_description"].startswith(f"AADSTS{code}: ")
    assert payload["error_codes"] == [code]
    assert emu.issued_access_tokens == []


def test_entra_needs_a_form_post(emu: Emulator) -> None:
    url = f"{emu.authority_url}{DEFAULT_TENANT}/oauth2/v2.0/token"
    oidc = oidc_token(emu).json()["oidcToken"]
    as_json = requests.post(url, json=entra_form(oidc), timeout=10)
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    assert requests.get(url, timeout=10).status_code == 405


def test_each_connection_has_its_client(emu: Emulator) -> None:
    oidc = oidc_token(emu, connection_id=OTHER_CONNECTION_ID).json()["oidcToken"]
    assert entra_token(emu, entra_form(oidc, client_id=CLIENT_ID)).status_code == 401
    assert entra_token(emu, entra_form(oidc, client_id=OTHER_CLIENT_ID)).status_code == 200
    # Tenants compare case-insensitively, as GUIDs do.
    oidc = oidc_token(emu).json()["oidcToken"]
    assert entra_token(emu, entra_form(oidc), tenant=DEFAULT_TENANT.upper()).status_code == 200
    assert len(emu.issued_access_tokens) == 2
