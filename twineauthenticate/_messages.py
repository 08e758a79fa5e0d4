"""Localized messages: the job's culture, the strings of that culture, formatting.

The culture is chosen as the Node task library chooses it: ``System.Culture``
(``en-US`` when unset) names a folder of ``Strings/resources.resjson``, matched
without regard to case; each message of ``task.json`` takes that folder's
``loc.messages.<key>`` when it has one, else the English text of ``task.json``.
A culture the task does not ship is English, as is a key a culture lacks.

A piece of a sentence (the reason something failed, where a repository comes
from) is a :class:`Msg`: a key and its arguments, localized where the sentence
that holds it is built, so no English fragment ends up in a translated message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_CULTURE = "en-US"
PREFIX = "loc.messages."


class Msg:
    """A message key and its arguments (which may be :class:`Msg` themselves)."""

    __slots__ = ("args", "key")

    def __init__(self, key: str, *args: object) -> None:
        self.key = key
        self.args = args

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Msg):
            return NotImplemented
        return (self.key, self.args) == (other.key, other.args)

    def __hash__(self) -> int:
        return hash((self.key, self.args))

    def __repr__(self) -> str:
        return "Msg(" + ", ".join([repr(self.key), *(repr(a) for a in self.args)]) + ")"

    def __str__(self) -> str:  # for debug output only: users see it localized
        return " ".join([self.key, *(str(a) for a in self.args)])


def _read_json(path: Path) -> object:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def culture_file(task_dir: Path, culture: str) -> Path | None:
    """The ``resources.resjson`` of ``culture`` (folder name matched ignoring case)."""
    folder = task_dir / "Strings" / "resources.resjson"
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    wanted = (culture or DEFAULT_CULTURE).upper()
    for name in names:
        if name.upper() == wanted:
            path = folder / name / "resources.resjson"
            return path if path.is_file() else None
    return None


def load_messages(task_dir: Path, culture: str) -> dict[str, str]:
    """Every message of ``task.json``, in ``culture`` where it has the key, else English."""
    task = _read_json(task_dir / "task.json")
    english = task.get("messages") if isinstance(task, dict) else None
    messages = {str(k): str(v) for k, v in english.items()} if isinstance(english, dict) else {}
    path = culture_file(task_dir, culture)
    strings = _read_json(path) if path is not None else None
    if isinstance(strings, dict):
        for key in messages:
            value = strings.get(PREFIX + key)
            if isinstance(value, str):
                messages[key] = value
    return messages


def localize(messages: dict[str, str], key: str, args: tuple[object, ...]) -> str:
    """``key`` formatted with ``args``, every :class:`Msg` among them localized first."""
    values = [localize(messages, a.key, a.args) if isinstance(a, Msg) else a for a in args]
    template = messages.get(key)
    if template is None:
        return " ".join([key, *(str(v) for v in values)])
    return format_message(template, *values)


def format_message(template: str, *args: object) -> str:
    """Substitute ``%s``/``%d``/``%i``/``%%`` the way Node's ``util.format`` does."""
    out: list[str] = []
    rest = list(args)
    i = 0
    while i < len(template):
        char = template[i]
        if char == "%" and i + 1 < len(template):
            spec = template[i + 1]
            if spec == "%":
                out.append("%")
                i += 2
                continue
            if spec in "sdij" and rest:
                value = rest.pop(0)
                out.append(
                    str(int(value))
                    if spec in "di" and isinstance(value, (int, float))
                    else str(value)
                )
                i += 2
                continue
        out.append(char)
        i += 1
    out.extend(" " + str(a) for a in rest)
    return "".join(out)
