"""Reading the answers of Azure DevOps REST calls.

A request with a token Azure DevOps does not accept may be answered, instead of
401, with 203 and an HTML sign-in page, or with a redirect to one (when
``X-TFS-FedAuthRedirect: Suppress`` is not honoured on the way, e.g. by a proxy).
Such an answer is "not authenticated", never data: :func:`api_json` refuses it
before any JSON is parsed.
"""

from __future__ import annotations

from ._http import HttpResponse
from .exceptions import TaskError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any


def signed_out(response: HttpResponse) -> bool:
    """A sign-in page or a redirect: the token was not accepted."""
    status = response.status
    if status == 203 or 300 <= status < 400:
        return True
    if not 200 <= status < 300:
        return False
    kind = response.header("Content-Type").lower()
    return "html" in kind or response.text.lstrip()[:1] == "<"


def refused(response: HttpResponse) -> bool:
    """401, 403, or an answer that is not authenticated."""
    return response.status in (401, 403) or signed_out(response)


def api_json(response: HttpResponse, what: str, not_found: TaskError) -> Any:
    """The JSON of a successful answer; every other answer as its :class:`TaskError`."""
    if response.status in (401, 403):
        raise TaskError("Error_Unauthorized", what, response.status)
    if signed_out(response):
        raise TaskError("Error_NotAuthenticated", what, response.status)
    if response.status == 404:
        raise not_found
    if not 200 <= response.status < 300:
        raise TaskError("Error_HttpStatus", what, response.status, response.reason())
    return response.json()
