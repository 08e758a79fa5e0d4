"""Several requests at once (``twineauthenticate/_concurrent.py``), in process against the emulator."""

from __future__ import annotations

import io
from typing import Any

from tests.conftest import BUILD_TOKEN
from tests.test_reliability_helpers import closed_port
from twineauthenticate._concurrent import Call, send_all
from twineauthenticate._http import HttpClient, HttpResponse, HttpSettings
from twineauthenticate.agent import Agent
from twineauthenticate.emulator import Feed
from twineauthenticate.exceptions import TaskError


def client(**settings: Any) -> tuple[HttpClient, io.StringIO]:
    out = io.StringIO()
    return HttpClient(Agent({}, stdout=out), HttpSettings(**settings)), out


def test_answers_come_back_in_the_order_of_the_calls(make_emulator: Any) -> None:
    feeds = [Feed(f"Feed{i}") for i in range(20)]
    emu = make_emulator(feeds=feeds)
    http, _ = client()
    calls = [
        Call("GET", emu.feed_api_url(f.name), BUILD_TOKEN, {}, f.name) for f in reversed(feeds)
    ]
    answers = send_all(http, calls)
    assert [a.url for a in answers if isinstance(a, HttpResponse)] == [c.url for c in calls]
    assert all(isinstance(a, HttpResponse) and a.status == 200 for a in answers)
    assert [a.json()["name"] for a in answers if isinstance(a, HttpResponse)] == [
        c.what for c in calls
    ]
    assert http.requests_sent == 20  # counted from every thread
    assert len(emu.requests) == 20


def test_a_failed_call_is_its_error_not_the_rounds(make_emulator: Any) -> None:
    emu = make_emulator()
    http, out = client(attempts=1)
    dead = f"http://127.0.0.1:{closed_port()}/_apis/nothing"
    calls = [
        Call("GET", emu.feed_api_url("MyFeed"), BUILD_TOKEN, {}, "feed"),
        Call("GET", dead, BUILD_TOKEN, {}, dead),
        Call("GET", emu.feed_api_url("Missing"), BUILD_TOKEN, {}, "missing"),
    ]
    ok, failed, missing = send_all(http, calls)
    assert isinstance(ok, HttpResponse) and ok.status == 200
    assert isinstance(failed, TaskError) and failed.key == "Error_HttpConnection"
    assert isinstance(missing, HttpResponse) and missing.status == 404
    assert BUILD_TOKEN not in out.getvalue()


def test_one_call_runs_in_the_calling_thread(make_emulator: Any) -> None:
    emu = make_emulator()
    http, _ = client()
    (answer,) = send_all(http, [Call("OPTIONS", emu.packaging_url + "_apis/pypi", BUILD_TOKEN)])
    assert isinstance(answer, HttpResponse) and answer.status == 200
    assert send_all(http, []) == []
