"""Workload identity federation: an 'Azure DevOps' service connection and ``feedUrl``.

No stored secret: the job's OIDC token for the connection is exchanged with
Microsoft Entra ID for a short-lived access token to the feed (of any organization).

1. Anonymous ``GET feedUrl``: the ``X-VSS-ResourceTenant`` header names the feed's
   tenant (else the connection's ``TenantId``).
2. ``POST {System.OidcRequestUri}?api-version=7.1&serviceConnectionId={id}`` with
   the build token as bearer gives ``oidcToken``.
3. ``POST {authority}{tenant}/oauth2/v2.0/token`` (client credentials, the OIDC token
   as client assertion) gives ``access_token``, the password in ``.pypirc``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from ._api import signed_out
from ._http import HttpClient, HttpResponse
from ._messages import Msg
from ._record import dataclass
from .agent import Agent
from .exceptions import TaskError
from .inputs import Federation
from .repository import Repository

AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PUBLIC_AUTHORITY = "https://login.windows.net/"
PPE_AUTHORITY = "https://login.windows-ppe.net/"
PPE_HOSTS = ("vsts.me", "codedev.ms", "devppe.azure.com")
_FEED_PATH = re.compile(r"^(?:/[^/]+)*/_packaging/(?P<feed>[^/]+)/pypi/upload/?$", re.IGNORECASE)
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_EMPTY_TENANT = "00000000-0000-0000-0000-000000000000"


def feed_name(feed_url: str) -> str:
    """The feed segment of an upload URL (the ``.pypirc`` section name)."""
    parts = urlsplit(feed_url)
    match = _FEED_PATH.match(parts.path)
    if (
        parts.scheme.lower() != "https"
        or not parts.hostname
        or "@" in parts.netloc  # credentials never belong in the URL
        or match is None
        or parts.query
        or parts.fragment
        or "?" in feed_url
        or "#" in feed_url
    ):
        raise TaskError("Error_WifFeedUrl", _without_userinfo(feed_url))
    return unquote(match.group("feed"))


def _without_userinfo(url: str) -> str:
    """``url`` for a message: credentials someone put in it are never shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def authority(agent: Agent, connection: str) -> str:
    """The Entra authority: the connection's (sovereign clouds), else public or PPE."""
    named = agent.get_endpoint_data(connection, "environmentAuthorityUrl")
    if named:
        return named if named.endswith("/") else named + "/"
    host = (
        urlsplit(agent.get_variable("System.TeamFoundationCollectionUri")).hostname or ""
    ).lower()
    if any(host == h or host.endswith("." + h) for h in PPE_HOSTS):
        return PPE_AUTHORITY
    return PUBLIC_AUTHORITY


def _tenant(agent: Agent, http: HttpClient, fed: Federation) -> str:
    response = http.request("GET", fed.feed_url, what=fed.feed_url)
    if response.status == 404:
        raise TaskError("Error_FeedNotFound", fed.feed_url)
    for match in _GUID.finditer(response.header("X-VSS-ResourceTenant")):
        if match.group(0) != _EMPTY_TENANT:
            return match.group(0)
    auth = agent.get_endpoint_auth(fed.connection)
    tenant = auth.parameter("TenantId") if auth else ""
    if not tenant:
        raise TaskError("Error_WifNoTenant", fed.feed_url, fed.connection)
    return tenant


def _json_field(response: HttpResponse, key: str, error: str, connection: str) -> str:
    if signed_out(response):
        raise TaskError("Error_NotAuthenticated", response.url, response.status)
    if not 200 <= response.status < 300:
        raise TaskError(
            error, connection, Msg("Reason_HttpAnswer", response.status, _error_text(response))
        )
    data: Any = response.json()
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise TaskError(error, connection, Msg("Reason_AnswerLacks", key))
    return value


def _error_text(response: HttpResponse) -> str | Msg:
    """``error``/``error_description`` or ``message`` of an error answer; never a token."""
    try:
        data: Any = response.json()
    except TaskError:
        data = None
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("error", "error_description", "message") if data.get(k)]
        if parts:
            return ": ".join(parts)[:600]
    return response.reason()


@dataclass(frozen=True)
class _Checked:
    name: str
    client_id: str
    oidc_uri: str


def check(agent: Agent, fed: Federation, build_token: str) -> _Checked:
    """Everything that needs no network: the URL's form, the connection, the variables.

    Called before any request of the run, so a typo fails fast and alone.
    """
    name = feed_name(fed.feed_url)
    auth = agent.get_endpoint_auth(fed.connection)
    if auth is None:
        raise TaskError("Error_ConnectionNotFound", fed.connection)
    client_id = auth.parameter("ServicePrincipalId")
    if not client_id:
        raise TaskError("Error_WifNoClient", fed.connection)
    oidc_uri = agent.get_variable("System.OidcRequestUri")
    if not oidc_uri:
        raise TaskError("Error_WifNoOidcUri", fed.connection)
    if not build_token:
        raise TaskError("Error_NoBuildToken", fed.connection)
    return _Checked(name, client_id, oidc_uri)


def federated_repository(
    agent: Agent, http: HttpClient, fed: Federation, build_token: str
) -> Repository:
    """The repository of a federated feed, with a fresh Entra access token."""
    checked = check(agent, fed, build_token)
    tenant = _tenant(agent, http, fed)
    agent.debug(f"Feed tenant: {tenant}")

    query = urlencode({"api-version": "7.1", "serviceConnectionId": fed.connection})
    oidc_uri = checked.oidc_uri
    oidc_url = f"{oidc_uri}{'&' if '?' in oidc_uri else '?'}{query}"
    response = http.request(
        "POST",
        oidc_url,
        headers={"Authorization": f"Bearer {build_token}", "Content-Type": "application/json"},
        what=oidc_uri,
    )
    oidc_token = _json_field(response, "oidcToken", "Error_WifOidc", fed.connection)
    agent.set_secret(oidc_token)

    token_url = f"{authority(agent, fed.connection)}{tenant}/oauth2/v2.0/token"
    form = {
        "scope": AZURE_DEVOPS_SCOPE,
        "client_id": checked.client_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": oidc_token,
        "grant_type": "client_credentials",
    }
    response = http.request("POST", token_url, data=form, what=token_url)
    access_token = _json_field(response, "access_token", "Error_WifEntra", fed.connection)
    agent.set_secret(access_token)
    repository = Repository(
        checked.name,
        fed.feed_url,
        fed.connection,
        access_token,
        "federated",
        Msg("Origin_FeedUrl", fed.feed_url),
    )
    from .feedcheck import check_federated

    check_federated(agent, http, repository, fed.connection)  # with the new access token
    return repository
