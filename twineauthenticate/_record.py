"""Frozen value classes without the start-up cost of :mod:`dataclasses`.

Importing ``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``,
``tokenize``...), and every class it decorates compiles generated source: together
about a quarter of a run that needs no network. The task's value types use only
``@dataclass(frozen=True)`` with plain defaults and ``field(default_factory=...)``;
this module gives them the same behaviour, built from closures:

- ``__init__`` takes the fields, in order, by position or keyword;
- ``__repr__`` is ``Name(field=value, ...)`` unless the class defines its own;
- ``__eq__`` compares the fields of two instances of the same class, ``__hash__``
  hashes them, ``__match_args__`` lists them;
- setting or deleting an attribute raises :class:`FrozenInstanceError`, an
  ``AttributeError``.

For the type checker, ``dataclass`` and ``field`` are those of ``dataclasses``, so
the classes are checked exactly as data classes.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    _T = TypeVar("_T")

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """An attempt to change a field of a frozen instance."""


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def _field(*, default_factory: Callable[[], Any]) -> Any:
    return _Factory(default_factory)


def _dataclass(*, frozen: bool = False) -> Callable[[type[_T]], type[_T]]:
    if not frozen:
        raise TypeError("only frozen classes are supported")
    return _frozen


def _frozen(cls: type[_T]) -> type[_T]:
    own = vars(cls).get("__annotations__")
    names = tuple(cls.__annotations__ if own is None else own)  # 3.14 builds them lazily
    defaults: dict[str, Any] = {}
    for name in names:
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Factory):
            delattr(cls, name)  # as dataclasses does: only plain defaults stay on the class
        if value is not _MISSING:
            defaults[name] = value
        elif defaults:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    qualname = cls.__qualname__
    set_attribute = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{qualname}() takes at most {len(names)} arguments")
        for name in names[: len(args)]:
            if name in kwargs:
                raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
        for name, value in zip(names, args):
            set_attribute(self, name, value)
        for name in names[len(args) :]:
            if name in kwargs:
                value = kwargs.pop(name)
            elif name in defaults:
                default = defaults[name]
                value = default.make() if isinstance(default, _Factory) else default
            else:
                raise TypeError(f"{qualname}() missing required argument: {name!r}")
            set_attribute(self, name, value)
        if kwargs:
            unknown = next(iter(kwargs))
            raise TypeError(f"{qualname}() got an unexpected keyword argument {unknown!r}")

    def values(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in names)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __repr__(self: Any) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{qualname}({fields})"

    def __setattr__(self: Any, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self: Any, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    methods: dict[str, Any] = {
        "__init__": __init__,
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__repr__": __repr__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__match_args__": names,
    }
    for name, method in methods.items():
        if name in ("__init__", "__repr__", "__eq__") and name in cls.__dict__:
            continue  # the class's own method wins, as with dataclasses
        if name in ("__setattr__", "__delattr__") and name in cls.__dict__:
            raise TypeError(f"cannot overwrite attribute {name} in class {cls.__name__}")
        if callable(method):
            method.__qualname__ = f"{qualname}.{name}"
        setattr(cls, name, method)
    return cls


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
    from dataclasses import field as field
else:
    dataclass, field = _dataclass, _field
