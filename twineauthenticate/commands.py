"""Azure Pipelines logging commands: formatting, escaping and parsing.

A logging command is one stdout line ``##vso[area.action key=value;...]message``.
The agent finds ``##vso[`` anywhere in a line, so every user-controlled string
that reaches stdout goes through one of the functions here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._record import dataclass, field

PREFIX = "##vso["

_MESSAGE_ESCAPES = (("%", "%AZP25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_MESSAGE_ESCAPES, ("]", "%5D"), (";", "%3B"))


def escape_message(text: str) -> str:
    """Escape the message part of a logging command."""
    for raw, escaped in _MESSAGE_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def escape_property(text: str) -> str:
    """Escape a property value of a logging command."""
    for raw, escaped in _PROPERTY_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def unescape(text: str) -> str:
    """Undo :func:`escape_property` / :func:`escape_message`, as the agent does."""
    for raw, escaped in reversed(_PROPERTY_ESCAPES):
        text = text.replace(escaped, raw)
    return text


def format_command(
    command: str, properties: Mapping[str, str] | None = None, message: str = ""
) -> str:
    """Return the logging command line (without line break).

    Properties with an empty value are left out, as the Node task library does.
    """
    line = PREFIX + command
    props = [(k, v) for k, v in (properties or {}).items() if v]
    if props:
        line += " " + "".join(f"{key}={escape_property(value)};" for key, value in props)
    return line + "]" + escape_message(message)


def neutralize(text: str) -> str:
    """Make a plain (non-command) output line safe: one line, no command prefix."""
    text = text.replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(PREFIX, "##vso%5B")


@dataclass(frozen=True)
class Command:
    """A logging command as the agent understands it."""

    command: str
    properties: dict[str, str] = field(default_factory=dict)
    message: str = ""


_COMMAND = re.compile(r"^(?P<command>[^\s\]]+)(?:\s+(?P<props>[^\]]*))?$")


def parse_line(line: str) -> Command | None:
    """Parse one stdout line the way the agent does; ``None`` for a plain line."""
    start = line.find(PREFIX)
    if start < 0:
        return None
    end = line.find("]", start)
    if end < 0:
        return None
    head = line[start + len(PREFIX) : end]
    match = _COMMAND.match(head.strip())
    if match is None:
        return None
    properties: dict[str, str] = {}
    for pair in (match.group("props") or "").split(";"):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        if sep:
            properties[key.strip()] = unescape(value)
    return Command(match.group("command"), properties, unescape(line[end + 1 :]))


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def parse_output(text: str) -> list[Command]:
    """Every logging command in a process's stdout, in order."""
    found = (parse_line(line) for line in _LINE_BREAK.split(text))
    return [cmd for cmd in found if cmd is not None]
