"""What Azure DevOps answers a browser-like request whose credentials it refuses.

A request to a REST route (``_apis/...``) with a bad or expired token that
lacks ``X-TFS-FedAuthRedirect: Suppress`` does not get a 401: Azure DevOps
answers ``203 Non-Authoritative Information`` with the HTML of its sign-in
page, or redirects (302) to the sign-in service. A client that parses that as
JSON, or counts 2xx as success, is fooled; the emulator models both answers.
"""

from __future__ import annotations

import html
from urllib.parse import quote, urlsplit

from ._errors import html_response
from ._http import Request, Response

PAGE = "page"
REDIRECT = "redirect"
SIGN_IN_MODES = (PAGE, REDIRECT)
SUPPRESS_HEADER = "X-TFS-FedAuthRedirect"


def check_sign_in(mode: str) -> str:
    if mode not in SIGN_IN_MODES:
        raise ValueError(f"sign_in must be 'page' or 'redirect', not {mode!r}")
    return mode


def suppressed(header: str | None) -> bool:
    """Whether the client asked for a plain 401 (``X-TFS-FedAuthRedirect: Suppress``)."""
    return (header or "").strip().lower() == "suppress"


def sign_in_page(status: int = 203) -> Response:
    body = (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n'
        '<meta charset="utf-8">\n<title>Azure DevOps Services | Sign In</title>\n'
        "</head>\n<body>\n<h1>Sign in</h1>\n"
        "<p>Sign in to your account to continue to Azure DevOps.</p>\n"
        '<form method="post" action="_signin"><input type="submit" value="Sign in">'
        "</form>\n</body>\n</html>\n"
    )
    response = html_response(body, status)
    response.headers.append(("Cache-Control", "no-cache"))
    return response


def sign_in_answer(mode: str, base: str, request: Request) -> Response:
    """The 203 sign-in page or the 302 to ``{base}/_signin`` for ``request``."""
    if mode == PAGE:
        return sign_in_page()
    reply_to = base + request.target
    realm = urlsplit(base).netloc
    location = (
        f"{base}/_signin?realm={quote(realm, safe='')}"
        f"&reply_to={quote(reply_to, safe='')}&redirect=1"
    )
    return Response(
        302, _moved(location).encode("utf-8"), "text/html; charset=utf-8", [("Location", location)]
    )


def _moved(location: str) -> str:
    link = html.escape(location)
    return (
        "<html><head><title>Object moved</title></head><body>\n"
        f'<h2>Object moved to <a href="{link}">here</a>.</h2>\n</body></html>\n'
    )
