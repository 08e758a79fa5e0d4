"""Route-template expansion, as Azure DevOps clients do it."""

from __future__ import annotations

import pytest

from twineauthenticate.feeds import expand_route

TEMPLATE = "{project}/_packaging/{feedId}/pypi/upload"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"feedId": "MyFeed", "project": ""}, "_packaging/MyFeed/pypi/upload"),
        ({"feedId": "MyFeed"}, "_packaging/MyFeed/pypi/upload"),
        (
            {"feedId": "my.feed", "project": "My Project"},
            "My%20Project/_packaging/my.feed/pypi/upload",
        ),
        ({"feedId": "a/b?c#d&e", "project": "p"}, "p/_packaging/a%2Fb%3Fc%23d%26e/pypi/upload"),
        ({"feedId": "x(1)!*'~", "project": "Ä"}, "%C3%84/_packaging/x(1)!*'~/pypi/upload"),
    ],
)
def test_expansion(values: dict[str, str], expected: str) -> None:
    assert expand_route(TEMPLATE, values) == expected


def test_literal_braces_and_wildcards() -> None:
    assert expand_route("{{x}}/{*path}/end", {"path": "a b"}) == "{x}/a%20b/end"


def test_empty_segments_are_dropped_and_no_slash_at_ends() -> None:
    assert expand_route("/{a}/{b}//c/", {"b": "B"}) == "B/c"
