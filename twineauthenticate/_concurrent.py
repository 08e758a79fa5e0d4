"""Several requests at once: one round of requests costs one round trip, not one each.

:class:`~._http.HttpClient` sends one request at a time and blocks until it has its
final answer (retries included). :func:`send_all` sends a list of :class:`Call` at
the same time, one thread each (at most :data:`MAX_PARALLEL` at once), and returns,
in the order of the calls, each one's :class:`~._http.HttpResponse`, or the
:class:`~.exceptions.TaskError` it ended with (a timeout, a connection failure, a
transient status that outlasted the retries), so that the caller decides which
failures end the run and which only deserve a warning. Anything else a call raises
is raised again in the caller. Every call shares the client's deadline, so the
round is bounded like a single request.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Union  # loaded by requests anyway: this module runs only with a request

from ._http import GRACE, HttpClient, HttpResponse
from ._record import dataclass, field
from .exceptions import TaskError

Answer = Union[HttpResponse, TaskError]

MAX_PARALLEL = 16  # more feeds than this wait for a free slot (the pool holds 32 connections)


@dataclass(frozen=True)
class Call:
    """One request of a round: what :meth:`HttpClient.request` takes."""

    method: str
    url: str
    token: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    what: str = ""


def _send(http: HttpClient, call: Call) -> Answer:
    try:
        return http.request(
            call.method, call.url, token=call.token, headers=call.headers, what=call.what
        )
    except TaskError as exc:
        return exc


def send_all(http: HttpClient, calls: Sequence[Call]) -> list[Answer]:
    """Send ``calls`` concurrently; their answers (or final errors), in order."""
    if len(calls) <= 1:
        return [_send(http, call) for call in calls]
    answers: list[Answer | None] = [None] * len(calls)
    raised: list[BaseException] = []
    slots = threading.BoundedSemaphore(MAX_PARALLEL)

    def work(index: int) -> None:
        with slots:
            try:
                answers[index] = _send(http, calls[index])
            except BaseException as exc:  # re-raised in the calling thread
                raised.append(exc)

    threads = [
        threading.Thread(target=work, args=(i,), name="twineauthenticate-round", daemon=True)
        for i in range(len(calls))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Each request gives up at the deadline; this wait only guards against a bug.
        thread.join(max(0.0, http.remaining()) + 2 * GRACE + 1)
    if raised:
        raise raised[0]
    out: list[Answer] = []
    for call, answer in zip(calls, answers):
        out.append(answer if answer is not None else http.timeout_error(call.what or call.url))
    return out
