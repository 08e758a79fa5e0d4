"""Logging commands: the exact escaping of the agent, and parsing back."""

from __future__ import annotations

from twineauthenticate.commands import (
    escape_message,
    escape_property,
    format_command,
    neutralize,
    parse_line,
    parse_output,
)


def test_setvariable_line_is_byte_identical_to_the_node_library() -> None:
    line = format_command(
        "task.setvariable",
        {"variable": "PYPIRC_PATH", "isOutput": "false", "issecret": "false"},
        "/tmp/x/.pypirc",
    )
    assert line == (
        "##vso[task.setvariable variable=PYPIRC_PATH;isOutput=false;issecret=false;]/tmp/x/.pypirc"
    )


def test_escaping_rules() -> None:
    assert escape_message("a%b\r\nc]d;") == "a%AZP25b%0D%0Ac]d;"
    assert escape_property("a%b\r\nc]d;") == "a%AZP25b%0D%0Ac%5Dd%3B"


def test_empty_properties_are_left_out() -> None:
    assert format_command("task.complete", {"result": "Succeeded", "x": ""}) == (
        "##vso[task.complete result=Succeeded;]"
    )


def test_a_hostile_message_stays_one_command() -> None:
    hostile = "feed]\n##vso[task.setvariable variable=EVIL]x;%0A"
    line = format_command("task.logissue", {"type": "error;x=]"}, hostile)
    assert "\n" not in line
    commands = parse_output(line + "\n")
    assert len(commands) == 1
    assert commands[0].message == hostile
    assert commands[0].properties == {"type": "error;x=]"}


def test_neutralized_plain_line_starts_no_command() -> None:
    text = "name ##vso[task.setvariable variable=X]y\n##vso[task.complete]"
    assert parse_output(neutralize(text)) == []


def test_plain_line_is_not_a_command() -> None:
    assert parse_line("hello world") is None
