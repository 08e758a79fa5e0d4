"""The feed check: every organization feed exists where it was named, and the job may use it.

Microsoft's task writes whatever feed it is given; a wrong one shows minutes later
as a 404 or 403 of ``twine upload``. This step asks Azure DevOps first, with the
job's token, before anything is written:

- ``GET {feeds host}/[{project}/]_apis/packaging/feeds/{feed}`` (Feed Management,
  location ``c65009a7-474a-4ad1-8b42-7d852107ef8c``). The feeds host is the
  ``locationUrl`` of the Packaging resource area
  (``7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5``) on Azure DevOps Services
  (``feeds.dev.azure.com/{org}``) and the collection URI on Azure DevOps Server.
  The route is the documented one, expanded here, so the check costs no
  ``OPTIONS`` of its own. api-version ``7.1`` on Services, ``5.0-preview.1`` on
  Server (the Feed Management API of Azure DevOps Server 2019 is 5.0-preview;
  Server 2020 and 2022 still accept it).
- Its requests share the rounds of the upload-URL lookup (:mod:`.feeds`), sent
  concurrently (:mod:`._concurrent`): on Services round 1 is both resource areas,
  round 2 the PyPI locations and one request per feed; on Server one round. So
  the check adds no round trip to the critical path, whatever the number of feeds.
- Only on a failure: ``_apis/packaging/feedids`` (the feeds the identity can see,
  to propose the fix, :mod:`._suggest`) or ``_apis/connectionData`` (who the job
  runs as).

Why the Feed Management API and not the feed's simple index (the route twine and
pip use), measured against the emulator at 50 ms per request, in process, one feed
on Services (medians of 11): the lookup alone 105 ms; with the Feed Management
check 113 ms (+8 ms: its requests ride the lookup's two rounds); with the simple
index 158 ms (+53 ms: its URL comes from the lookup's ``OPTIONS`` answer, so it is
a third round). The feed object is 0.9 kB whatever the feed holds; the simple
index lists every package (46 kB for 1000 packages, 25 ms to serve at no added
latency, against 1.2 ms), and its 404 cannot tell a missing project from a missing
feed. Both answer 403 for a feed the identity may not read; neither tells whether
it may publish, which shows only at upload. The whole task (``python -m
twineauthenticate``, 50 ms per request, medians of 11): one feed 215 ms without
the check, 221 ms with it; ten feeds 218 ms and 237 ms.

Only a definite answer fails the step: 404 for the feed or its project (with
Azure DevOps' ``typeKey`` saying so), 401/403, or a sign-in page. A check that
cannot get an answer (5xx, timeouts, after the retries; another 404) warns, and
the run goes on with what the lookup gave. The pipeline variable
``TwineAuthenticate.Verify`` = ``false`` (or ``--no-verify``) turns the check off:
no request goes to the Feed Management host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from . import _suggest
from ._api import refused, signed_out
from ._concurrent import Answer, Call, send_all
from ._http import HttpClient, HttpResponse
from .agent import Agent
from .exceptions import TaskError
from .inputs import FeedRef
from .repository import Repository

PACKAGING_AREA_ID = "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5"
VARIABLE_VERIFY = "TwineAuthenticate.Verify"
SERVICES_VERSION = "7.1"
SERVER_VERSION = "5.0-preview.1"
# A 404 counts only with one of these: another 404 (a route a server does not have, a
# proxy's page) is no answer about the feed.
NOT_FOUND_KEYS = ("FeedIdNotFoundException", "FeedNotFoundException")
PROJECT_NOT_FOUND_KEYS = ("ProjectDoesNotExistWithNameException", "ProjectDoesNotExistException")
# The feed picker's list is a preview API everywhere; connectionData is asked for
# without a version (the latest the server has), as its clients do.
FEED_IDS_VERSION = "5.0-preview.1"
MAX_LISTED = 10  # visible feeds named in a message


def enabled(agent: Agent) -> bool:
    """False when the variable ``TwineAuthenticate.Verify`` is ``false`` (or 0, no, off)."""
    return agent.get_variable(VARIABLE_VERIFY).strip().lower() not in ("false", "0", "no", "off")


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _segment(value: str) -> str:
    return quote(value, safe="!*'()")


def _type_key(response: HttpResponse) -> str:
    try:
        data = response.json()
    except TaskError:
        return ""
    return str(data.get("typeKey") or "") if isinstance(data, dict) else ""


class FeedCheck:
    """The check of one run's feeds, fed the answers of the lookup's rounds."""

    def __init__(
        self,
        agent: Agent,
        feeds: Sequence[FeedRef],
        token: str,
        collection: str,
        hosted: bool,
        active: bool = True,
    ) -> None:
        self.agent = agent
        self.feeds = list(feeds)
        self.token = token
        self.collection = collection
        self.hosted = hosted
        self.active = active
        self.version = SERVICES_VERSION if hosted else SERVER_VERSION
        self.host = "" if hosted else collection
        self.unreachable: TaskError | None = None  # why no feed could be checked
        self._calls: list[Call] = []

    @classmethod
    def for_run(
        cls, agent: Agent, feeds: Sequence[FeedRef], token: str, collection: str, hosted: bool
    ) -> FeedCheck:
        """The check, or one that sends nothing when ``TwineAuthenticate.Verify`` is false."""
        return cls(agent, feeds, token, collection, hosted, enabled(agent))

    def _headers(self) -> dict[str, str]:
        return {"Accept": f"application/json;api-version={self.version}"}

    # -- the rounds ------------------------------------------------------------------

    def area_calls(self) -> list[Call]:
        """Round 1 on Services: where the Packaging area (Feed Management) lives."""
        if not (self.active and self.hosted):
            return []
        from .feeds import area_call

        return [area_call(self.collection, PACKAGING_AREA_ID, self.token)]

    def take_area(self, answers: Sequence[Answer]) -> None:
        if not answers:
            return
        from .feeds import area_call, area_host

        call = area_call(self.collection, PACKAGING_AREA_ID, self.token)
        try:
            self.host = area_host(answers[0], call, PACKAGING_AREA_ID, self.collection)
        except TaskError as exc:  # the lookup's own area answered: not the feeds' fault
            self.unreachable = exc

    def feed_calls(self) -> list[Call]:
        """Round 2 (Services) or 1 (Server): one ``GET`` of every feed."""
        if not self.active or not self.host:
            self._calls = []
            return []
        self._calls = []
        for feed in self.feeds:
            path = f"{_segment(feed.project)}/" if feed.project else ""
            url = _join(self.host, f"{path}_apis/packaging/feeds/{_segment(feed.name)}")
            self._calls.append(Call("GET", url, self.token, self._headers(), url))
        return list(self._calls)

    def judge(self, http: HttpClient, answers: Sequence[Answer]) -> None:
        """Fail on the first feed with a definite answer; warn about those not checked."""
        if not self.active:
            return
        unchecked: list[tuple[FeedRef, TaskError]] = []
        if self.unreachable is not None:
            unchecked = [(feed, self.unreachable) for feed in self.feeds]
        for feed, call, answer in zip(self.feeds, self._calls, answers):
            if isinstance(answer, TaskError):
                unchecked.append((feed, answer))
            elif (
                answer.status == 404
                and _type_key(answer) in NOT_FOUND_KEYS + PROJECT_NOT_FOUND_KEYS
            ):
                self._not_found(http, feed, call, answer)
            elif refused(answer):
                self._refused(http, feed, call, answer)
            elif not 200 <= answer.status < 300:
                error = TaskError("Error_HttpStatus", call.url, answer.status, answer.reason())
                unchecked.append((feed, error))
        if unchecked:
            names = ", ".join(self.agent.loc("Msg_Quoted", feed.display) for feed, _ in unchecked)
            why = self.agent.loc(unchecked[0][1].key, *unchecked[0][1].args_)
            self.agent.warning(self.agent.loc("Warn_FeedUnchecked", names, why))

    # -- the failures ----------------------------------------------------------------

    def _collection_call(self, path: str, version: str = "") -> Call:
        url = _join(self.collection, path)
        accept = f"application/json;api-version={version}" if version else "application/json"
        return Call("GET", url, self.token, {"Accept": accept}, url)

    def _visible(self, http: HttpClient) -> list[_suggest.Visible] | None:
        call = self._collection_call("_apis/packaging/feedids", FEED_IDS_VERSION)
        (answer,) = send_all(http, [call])
        if isinstance(answer, TaskError) or signed_out(answer) or answer.status != 200:
            return None
        try:
            return _suggest.parse_visible(answer.json())
        except TaskError:
            return None

    def _identity(self, http: HttpClient) -> str:
        (answer,) = send_all(http, [self._collection_call("_apis/connectionData")])
        name = ""
        if isinstance(answer, HttpResponse) and answer.status == 200 and not signed_out(answer):
            try:
                data: Any = answer.json()
            except TaskError:
                data = None
            user = data.get("authenticatedUser") if isinstance(data, dict) else None
            if isinstance(user, dict):
                name = str(user.get("providerDisplayName") or user.get("customDisplayName") or "")
        if name:
            self.agent.debug(f"The job runs as {name}")
            return self.agent.loc("Msg_Identity", name)
        return self.agent.loc("Msg_IdentityUnknown")

    def _other_project(self, feed: FeedRef) -> str:
        """The pipeline's project when ``feed`` is in another one; else ``""``."""
        current = self.agent.get_variable("System.TeamProject")
        current_id = self.agent.get_variable("System.TeamProjectId")
        if not feed.project or not current:
            return ""
        if feed.project.lower() in (current.lower(), current_id.lower()):
            return ""
        return current

    def _hints(self, feed: FeedRef, visible: list[_suggest.Visible] | None) -> str:
        loc = self.agent.loc
        if visible is None:
            hints = [loc("Hint_FeedListUnavailable")]
        else:
            other = _suggest.elsewhere(feed, visible)
            close = None if other else _suggest.close_spelling(feed, visible)
            if other is not None and other.project:
                hints = [loc("Hint_FeedInProject", other.project, other.display)]
            elif other is not None:
                hints = [loc("Hint_FeedInOrganization", other.display)]
            elif close is not None:
                hints = [loc("Hint_FeedSpelling", close.display)]
            elif visible:
                listed = ", ".join(loc("Msg_Quoted", v.display) for v in visible[:MAX_LISTED])
                more = len(visible) - MAX_LISTED
                hints = [loc("Hint_FeedsVisible", listed + (f", … (+{more})" if more > 0 else ""))]
            else:
                hints = [loc("Hint_NoFeedVisible")]
            if other is None and close is None and self._other_project(feed):
                hints.append(loc("Hint_JobScope", feed.project, self._other_project(feed)))
        return " ".join(hints)

    def _not_found(self, http: HttpClient, feed: FeedRef, call: Call, answer: HttpResponse) -> None:
        hints = self._hints(feed, self._visible(http))
        if feed.project and _type_key(answer) in PROJECT_NOT_FOUND_KEYS:
            raise TaskError("Error_FeedProjectNotFound", feed.project, feed.name, call.url, hints)
        if feed.project:
            raise TaskError("Error_FeedNotFoundProject", feed.name, feed.project, call.url, hints)
        raise TaskError("Error_FeedNotFoundOrganization", feed.name, call.url, hints)

    def _refused(self, http: HttpClient, feed: FeedRef, call: Call, answer: HttpResponse) -> None:
        identity = self._identity(http)
        other = self._other_project(feed)
        status = answer.status
        if other:
            key = "Error_FeedForbiddenScope"
            raise TaskError(key, feed.display, identity, status, call.url, feed.project, other)
        raise TaskError("Error_FeedForbidden", feed.display, identity, status, call.url)


# -- the federated feed ------------------------------------------------------------------


def simple_index(upload_url: str) -> str:
    """The PEP 503 index of a feed: its upload URL with ``/upload`` replaced by ``/simple/``."""
    base = upload_url.rstrip("/")
    return base[: -len("upload")] + "simple/" if base.lower().endswith("/upload") else base + "/"


def check_federated(
    agent: Agent, http: HttpClient, repository: Repository, connection: str
) -> None:
    """The federated feed, read with the access token the exchange produced."""
    if not enabled(agent):
        return
    url = simple_index(repository.url)
    call = Call("GET", url, repository.password, {"Accept": "text/html"}, url)
    (answer,) = send_all(http, [call])
    if isinstance(answer, TaskError):
        why = agent.loc(answer.key, *answer.args_)
        agent.warning(agent.loc("Warn_FeedUnchecked", agent.loc("Msg_Quoted", repository.url), why))
    elif answer.status == 404:
        raise TaskError("Error_FeedNotFound", repository.url)
    elif answer.status in (401, 403) or answer.status == 203 or 300 <= answer.status < 400:
        raise TaskError("Error_FederatedForbidden", repository.url, connection, answer.status)
    elif not 200 <= answer.status < 300:
        error = TaskError("Error_HttpStatus", url, answer.status, answer.reason())
        why = agent.loc(error.key, *error.args_)
        agent.warning(agent.loc("Warn_FeedUnchecked", agent.loc("Msg_Quoted", repository.url), why))
