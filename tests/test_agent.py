"""The agent contract: inputs, variables, endpoints, secrets, messages."""

from __future__ import annotations

import io
import json

from tests.helpers import build_token_env, connection_env
from twineauthenticate.agent import Agent, env_key, format_message
from twineauthenticate.commands import parse_output


def make(env: dict[str, str]) -> tuple[Agent, io.StringIO]:
    out = io.StringIO()
    return Agent(env, out), out


def test_names_are_formatted_like_the_agent() -> None:
    assert env_key("Agent.TempDirectory") == "AGENT_TEMPDIRECTORY"
    assert env_key("my var.x") == "MY_VAR_X"


def test_inputs_are_trimmed_and_variables_fall_back_to_secrets() -> None:
    agent, _ = make({"INPUT_ARTIFACTFEED": "  a/b , c \n", "SECRET_AGENT_PROXYPASSWORD": "pw"})
    assert agent.get_input("artifactFeed") == "a/b , c"
    assert agent.get_input("missing") == ""
    assert agent.get_variable("Agent.ProxyPassword") == "pw"


def test_endpoint_auth_from_json_and_per_key_variables() -> None:
    env = connection_env("abc", "https://x/", "ext", "UsernamePassword", username="u", password="p")
    env["ENDPOINT_AUTH_PARAMETER_abc_EXTRA"] = "e"
    agent, _ = make(env)
    auth = agent.get_endpoint_auth("abc")
    assert auth is not None
    assert auth.scheme == "UsernamePassword"
    assert auth.parameter("USERNAME") == "u"
    assert auth.parameter("password") == "p"
    assert auth.parameter("extra") == "e"
    assert agent.get_endpoint_url("abc") == "https://x/"
    assert agent.get_endpoint_data("abc", "endpointName") == "ext"
    assert agent.get_endpoint_auth("nope") is None


def test_endpoint_data_from_json_only() -> None:
    agent, _ = make({"ENDPOINT_DATA_x": json.dumps({"endpointName": "n"})})
    assert agent.get_endpoint_data("x", "ENDPOINTNAME") == "n"


def test_build_token_from_system_connection_then_local_fallback() -> None:
    agent, _ = make(build_token_env("tok", "https://dev.azure.com/o/"))
    assert agent.build_token() == "tok"
    agent, _ = make({"SYSTEM_ACCESSTOKEN": "local"})
    assert agent.build_token() == "local"
    agent, _ = make({})
    assert agent.build_token() == ""


def test_secrets_are_registered_once_and_masked_afterwards() -> None:
    agent, out = make({})
    agent.set_secret("hunter2")
    agent.set_secret("hunter2")
    agent.set_secret("")
    agent.info("the password is hunter2")
    agent.error("hunter2 again")
    commands = parse_output(out.getvalue())
    assert [c.message for c in commands if c.command == "task.setsecret"] == ["hunter2"]
    assert out.getvalue().count("hunter2") == 1
    assert "the password is ***" in out.getvalue()


def test_debug_only_when_system_debug_is_true() -> None:
    agent, out = make({})
    agent.debug("hidden")
    assert out.getvalue() == ""
    agent, out = make({"SYSTEM_DEBUG": "True"})
    agent.debug("shown")
    assert out.getvalue() == "##vso[task.debug]shown\n"


def test_messages_come_from_task_json() -> None:
    agent, _ = make({})
    text = agent.loc("Error_InvalidFeed", "a/b/c")
    assert text.startswith("'a/b/c' is not a feed name.")
    assert agent.loc("No_Such_Key", 1) == "No_Such_Key 1"


def test_format_message_is_like_node_util_format() -> None:
    assert format_message("%s has %d%% and %s", "a", 5) == "a has 5% and %s"
    assert format_message("x", "extra") == "x extra"


def test_overlapping_secrets_are_masked_whole() -> None:
    agent, out = make({})
    agent.set_secret("abcdef")
    agent.set_secret("defghi")
    agent.info("x abcdefghi y defghi abcdef")
    assert out.getvalue().splitlines()[-1] == "x *** y *** ***"


def test_the_test_suite_reaches_loopback_only() -> None:
    import pytest

    from tests.conftest import loopback_only

    loopback_only("socket.connect", (None, ("127.0.0.1", 80)))
    loopback_only("socket.connect", (None, ("::1", 80, 0, 0)))
    loopback_only("socket.connect", (None, "/run/some.sock"))
    with pytest.raises(PermissionError):
        loopback_only("socket.connect", (None, ("203.0.113.9", 443)))


def test_variable_values_are_not_changed_by_masking() -> None:
    agent, out = make({})
    agent.set_secret("agent")
    agent.set_variable("PYPIRC_PATH", "/home/agent/_temp/.pypirc")
    commands = [c for c in parse_output(out.getvalue()) if c.command == "task.setvariable"]
    assert commands[0].message == "/home/agent/_temp/.pypirc"
