"""Workload identity federation: the pipeline's OIDC endpoint and an Entra-like token endpoint.

1. ``POST {oidc_request_uri}?api-version=7.1&serviceConnectionId={id}`` with the
   build token as bearer returns ``{"oidcToken": ...}`` for a known connection.
2. ``POST {authority}{tenant}/oauth2/v2.0/token`` exchanges that OIDC token
   (client assertion) for an access token, which the feeds then accept.

Tokens are JWT-shaped but opaque: the emulator only checks that it issued them.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ._credentials import TokenRegistry

AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
EXPECTED_SCOPE = AZURE_DEVOPS_RESOURCE + "/.default"
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCESS_TOKEN_LIFETIME = 3599


class FederationError(Exception):
    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.status = status
        self.payload = payload


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt_like(claims: dict[str, Any]) -> str:
    header = {"typ": "JWT", "alg": "RS256", "kid": "emulator"}
    parts = (
        _b64url(json.dumps(header, separators=(",", ":")).encode()),
        _b64url(json.dumps(claims, separators=(",", ":")).encode()),
        _b64url(secrets.token_bytes(64)),
    )
    return ".".join(parts)


def _pipeline_error(message: str, type_key: str) -> dict[str, Any]:
    return {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"Microsoft.TeamFoundation.DistributedTask.WebApi.{type_key}",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }


def entra_error(error: str, code: int, text: str) -> dict[str, Any]:
    trace_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {text} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": "https://login.microsoftonline.com/error?code=" + str(code),
    }


class Federation:
    def __init__(
        self,
        organization: str,
        tenant_id: str,
        connections: Mapping[str, str],
        tokens: TokenRegistry,
    ) -> None:
        self._organization = organization
        self._tenant_id = tenant_id
        self._tokens = tokens
        self._lock = threading.Lock()
        self._connections: dict[str, str] = {}
        self._oidc_tokens: dict[str, str] = {}  # OIDC token -> connection id
        self._oidc_order: list[str] = []
        self._access_tokens: list[str] = []
        for connection_id, client_id in connections.items():
            self.add_connection(connection_id, client_id)

    def add_connection(self, connection_id: str, client_id: str) -> None:
        if not connection_id or not client_id:
            raise ValueError("service connection id and client id must not be empty")
        with self._lock:
            self._connections[connection_id.lower()] = client_id

    @property
    def issued_oidc_tokens(self) -> list[str]:
        with self._lock:
            return list(self._oidc_order)

    @property
    def issued_access_tokens(self) -> list[str]:
        with self._lock:
            return list(self._access_tokens)

    def issue_oidc_token(self, bearer: str | None, connection_id: str | None) -> str:
        """The OIDC token for ``connection_id``; raises FederationError when refused."""
        if bearer is None or not self._tokens.accepts_agent_token(bearer):
            raise FederationError(
                401,
                _pipeline_error(
                    "TF400813: The user is not authorized to access this resource: "
                    "send the job's access token as 'Authorization: Bearer <token>'.",
                    "UnauthorizedRequestException",
                ),
            )
        if not connection_id:
            raise FederationError(
                400,
                _pipeline_error(
                    "The query parameter 'serviceConnectionId' is required.",
                    "ArgumentNullException",
                ),
            )
        with self._lock:
            known = connection_id.lower() in self._connections
        if not known:
            raise FederationError(
                404,
                _pipeline_error(
                    f"Service connection '{connection_id}' was not found or the pipeline "
                    "is not authorized to use it.",
                    "ServiceEndpointNotFoundException",
                ),
            )
        now = int(time.time())
        token = _jwt_like(
            {
                "jti": str(uuid.uuid4()),
                "sub": f"sc://{self._organization}/emulator/{connection_id.lower()}",
                "aud": "api://AzureADTokenExchange",
                "iss": f"https://vstoken.dev.azure.com/{self._organization}",
                "iat": now,
                "nbf": now,
                "exp": now + 600,
            }
        )
        with self._lock:
            self._oidc_tokens[token] = connection_id.lower()
            self._oidc_order.append(token)
        return token

    def exchange(self, tenant: str, form: Mapping[str, list[str]]) -> dict[str, Any]:
        """Client-credentials grant with a federated assertion; raises FederationError."""

        def field(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        if tenant.lower() != self._tenant_id.lower():
            raise FederationError(
                400,
                entra_error(
                    "invalid_request",
                    90002,
                    f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                    "tenant ID and are signing into the correct cloud.",
                ),
            )
        for required in ("grant_type", "client_id", "scope"):
            if not field(required):
                raise FederationError(
                    400,
                    entra_error(
                        "invalid_request",
                        900144,
                        f"The request body must contain the following parameter: '{required}'.",
                    ),
                )
        grant_type = field("grant_type")
        if grant_type != "client_credentials":
            raise FederationError(
                400,
                entra_error(
                    "unsupported_grant_type",
                    70003,
                    f"The app requested an unsupported grant type '{grant_type}'.",
                ),
            )
        scope = field("scope")
        if scope != EXPECTED_SCOPE:
            raise FederationError(
                400,
                entra_error(
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {scope} is not valid. Client credential "
                    f"flows must have a scope value with /.default suffixed to the resource "
                    f"identifier (application ID URI); expected {EXPECTED_SCOPE}.",
                ),
            )
        assertion = field("client_assertion")
        if not assertion:
            raise FederationError(
                401,
                entra_error(
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.",
                ),
            )
        assertion_type = field("client_assertion_type")
        if assertion_type != JWT_BEARER_ASSERTION:
            raise FederationError(
                400,
                entra_error(
                    "invalid_request",
                    50027 if assertion_type else 900144,
                    f"client_assertion_type must be '{JWT_BEARER_ASSERTION}', "
                    f"got '{assertion_type or ''}'.",
                ),
            )
        client_id = field("client_id") or ""
        with self._lock:
            connection = self._oidc_tokens.get(assertion)
            registered = {value.lower() for value in self._connections.values()}
            expected_client = self._connections.get(connection) if connection else None
        if connection is None:
            raise FederationError(
                401,
                entra_error(
                    "invalid_client",
                    50027,
                    "JWT token is invalid or malformed: the client assertion was not "
                    "issued by this organization's OIDC endpoint.",
                ),
            )
        if client_id.lower() not in registered:
            raise FederationError(
                400,
                entra_error(
                    "unauthorized_client",
                    700016,
                    f"Application with identifier '{client_id}' was not found in the "
                    f"directory '{self._tenant_id}'.",
                ),
            )
        if expected_client is None or client_id.lower() != expected_client.lower():
            raise FederationError(
                401,
                entra_error(
                    "invalid_client",
                    700213,
                    "No matching federated identity record found for presented assertion "
                    f"subject for application '{client_id}'.",
                ),
            )
        now = int(time.time())
        access_token = _jwt_like(
            {
                "aud": AZURE_DEVOPS_RESOURCE,
                "iss": f"https://sts.windows.net/{self._tenant_id}/",
                "tid": self._tenant_id,
                "appid": client_id,
                "oid": str(uuid.uuid4()),
                "iat": now,
                "nbf": now,
                "exp": now + ACCESS_TOKEN_LIFETIME,
            }
        )
        self._tokens.add_access_token(access_token)
        with self._lock:
            self._access_tokens.append(access_token)
        return {
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "ext_expires_in": ACCESS_TOKEN_LIFETIME,
            "access_token": access_token,
        }
