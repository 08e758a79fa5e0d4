"""Python upload service connections (``externalPythonUploadFeed``)."""

from __future__ import annotations

from ._messages import Msg
from .agent import Agent, EndpointAuth
from .connectioncheck import check_connection
from .exceptions import TaskError
from .repository import Repository

TOKEN_USER = "__token__"  # PyPI's rule for API tokens; Azure Artifacts accepts any user name


def connection_secrets(auth: EndpointAuth) -> list[str]:
    """The values of a connection that must never be shown."""
    return [v for k, v in auth.parameters.items() if k.lower() in ("apitoken", "password") and v]


def connection_repository(agent: Agent, connection_id: str) -> Repository:
    """The repository of one service connection, named after its ``endpointName``."""
    repository = _repository(agent, connection_id)
    check_connection(agent, repository, repository.name)
    return repository


def _repository(agent: Agent, connection_id: str) -> Repository:
    url = agent.get_endpoint_url(connection_id)
    auth = agent.get_endpoint_auth(connection_id)
    if url is None or auth is None:
        raise TaskError("Error_ConnectionNotFound", connection_id)
    name = agent.get_endpoint_data(connection_id, "endpointName")
    label = name or connection_id
    if not url.strip():
        raise TaskError("Error_ConnectionMissing", label, Msg("Field_Url"))
    if not name:
        raise TaskError("Error_ConnectionMissing", label, Msg("Field_EndpointName"))
    origin = Msg("Origin_Connection", label)
    scheme = auth.scheme.lower()
    if scheme == "token":
        token = auth.parameter("apitoken")
        if not token:
            raise TaskError("Error_ConnectionMissing", label, Msg("Field_ApiToken"))
        return Repository(name, url, TOKEN_USER, token, "connection", origin)
    if scheme == "usernamepassword":
        username = auth.parameter("username")
        password = auth.parameter("password")
        if not username:
            raise TaskError("Error_ConnectionMissing", label, Msg("Field_UserNameParameter"))
        if not password:
            raise TaskError("Error_ConnectionMissing", label, Msg("Field_Password"))
        return Repository(name, url, username, password, "connection", origin)
    raise TaskError("Error_ConnectionScheme", label, auth.scheme or Msg("Reason_NoScheme"))
