"""twineauthenticate._record: frozen value classes that behave as frozen data classes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from twineauthenticate import _record
from twineauthenticate.agent import EndpointAuth, Msg
from twineauthenticate.inputs import FeedRef
from twineauthenticate.repository import Repository


def make(decorator: Any, field: Any) -> Any:
    class Point:
        name: str
        project: str = ""
        extra: dict[str, str] = field(default_factory=dict)

    return decorator(frozen=True)(Point)


REFERENCE = make(dataclasses.dataclass, dataclasses.field)
RECORD = make(_record._dataclass, _record._field)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("a",), {}), (("a", "p"), {}), (("a",), {"extra": {"k": "v"}}), ((), {"name": "a"})],
)
def test_same_values_repr_equality_and_hash(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    ref, rec = REFERENCE(*args, **kwargs), RECORD(*args, **kwargs)
    assert repr(rec) == repr(ref)
    assert (rec.name, rec.project, rec.extra) == (ref.name, ref.project, ref.extra)
    assert rec == RECORD(*args, **kwargs)
    assert rec != RECORD("other")
    assert rec != ref  # another class, as between two data classes
    assert rec.__match_args__ == ("name", "project", "extra")


def test_hash_of_the_fields() -> None:
    assert hash(RECORD("a", "p", None)) == hash(REFERENCE("a", "p", None))
    with pytest.raises(TypeError):
        hash(RECORD("a"))  # a dict field is unhashable, as with dataclasses


def test_defaults() -> None:
    first, second = RECORD("a"), RECORD("b")
    assert first.extra == {} and first.extra is not second.extra
    assert RECORD.project == ""  # plain defaults stay on the class
    assert not hasattr(RECORD, "extra")


def test_frozen() -> None:
    rec = RECORD("a")
    with pytest.raises(AttributeError, match="cannot assign to field 'name'"):
        rec.name = "b"
    with pytest.raises(AttributeError, match="cannot delete field 'name'"):
        del rec.name
    with pytest.raises(AttributeError):
        rec.other = 1


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), (("a", "b", {}, 1), {}), (("a",), {"name": "b"}), (("a",), {"unknown": 1})],
)
def test_wrong_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for cls in (REFERENCE, RECORD):
        with pytest.raises(TypeError):
            cls(*args, **kwargs)


def test_the_task_classes() -> None:
    repo = Repository("n", "https://x/", "u", "secret", "feed", Msg("Origin_Feed", "n"))
    assert "secret" not in repr(repo)  # the class's own __repr__ is kept
    assert repo == Repository("n", "https://x/", "u", "secret", "feed", Msg("Origin_Feed", "n"))
    assert FeedRef("f").display == "f" and FeedRef("f", "p").display == "p/f"
    assert EndpointAuth("Token").parameters == {}
    assert EndpointAuth("Token").parameters is not EndpointAuth("Token").parameters
