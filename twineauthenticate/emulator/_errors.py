"""Answers shared by the emulator's endpoints: Azure DevOps' JSON errors, HTML, redirects."""

from __future__ import annotations

from ._http import Request, Response, json_response

WEBAPI = "Microsoft.VisualStudio.Services.WebApi"
FEED_WEBAPI = "Microsoft.VisualStudio.Services.Feed.WebApi"


def vss_error(
    status: int,
    message: str,
    type_key: str,
    reason: str | None = None,
    namespace: str = WEBAPI,
) -> Response:
    """An error answer shaped like Azure DevOps' (JSON with message and typeKey).

    ``reason`` replaces the status line's text (Azure DevOps puts the message
    there on the feed hosts, which is what twine and pip show).
    """
    payload = {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"{namespace}.{type_key}, {namespace}",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }
    response = json_response(status, payload)
    if reason is not None:
        response.reason = status_text(reason)
    return response


def status_text(text: str) -> str:
    """``text`` made fit for an HTTP status line (one line of ASCII, bounded)."""
    flat = " ".join(text.split())
    return flat.encode("ascii", "replace").decode("ascii")[:300]


def method_not_allowed(*allowed: str) -> Response:
    response = vss_error(
        405,
        "The requested resource does not support this HTTP method.",
        "HttpMethodNotAllowedException",
    )
    response.headers.append(("Allow", ", ".join(allowed)))
    return response


def not_found(request: Request) -> Response:
    return vss_error(
        404,
        f"The resource '{request.path}' was not found on this server.",
        "ResourceNotFoundException",
    )


def html_response(body: str, status: int = 200) -> Response:
    return Response(status, body.encode("utf-8"), "text/html; charset=utf-8")


def redirect(location: str, status: int = 301) -> Response:
    return Response(status, b"", None, [("Location", location)])
