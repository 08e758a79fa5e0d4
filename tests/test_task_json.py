"""task.json: valid against the schema, the inputs the contract needs, every message key
used by the code defined, localized strings up to date, the extension manifest in step."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.helpers import load_tool

ROOT = Path(__file__).resolve().parent.parent
TASK: dict[str, Any] = json.loads((ROOT / "task.json").read_text(encoding="utf-8-sig"))
INPUTS = {item["name"]: item for item in TASK["inputs"]}
MESSAGE_CALL = re.compile(r"""(?:\bloc|\bTaskError|\bMsg)\(\s*["']([A-Za-z0-9_]+)["']""")
MESSAGE_LITERAL = re.compile(
    r"""["']((?:Error|Info|Warn|Reason|Origin|Field|Hint|Msg|Summary|Cmd)_[A-Za-z0-9_]+)["']"""
)



def task_sources() -> list[Path]:
    """The task's code: the package (not the emulator) and the Node launcher."""
    package = [p for p in (ROOT / "twineauthenticate").rglob("*.py") if "emulator" not in p.parts]
    return [*sorted(package), ROOT / "launcher.js", ROOT / "bootstrap.py"]


# -- schema and shape -------------------------------------------------------------------


def test_valid_against_the_task_schema() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "tasks.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(TASK), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_identity_of_the_task() -> None:
    assert TASK["id"] == "64243707-ad98-4e00-aafc-810746e2ade7"
    assert TASK["name"] == "TwineAuthenticate"
    assert TASK["version"]["Major"] == 1
    # tfx and the marketplace refuse a longer friendly name.
    assert len(TASK["friendlyName"]) <= 40


def test_inputs_of_the_contract() -> None:
    assert set(INPUTS) == {
        "workloadIdentityServiceConnection",
        "feedUrl",
        "artifactFeed",
        "pythonUploadServiceConnection",
        "configurePublishers",
    }
    assert INPUTS["configurePublishers"]["type"] == "boolean"
    assert INPUTS["configurePublishers"]["defaultValue"] == "false"
    assert INPUTS["workloadIdentityServiceConnection"]["aliases"] == [
        "azureDevOpsServiceConnection"
    ]
    assert INPUTS["workloadIdentityServiceConnection"]["type"] == (
        "connectedService:workloadidentityuser"
    )
    assert INPUTS["pythonUploadServiceConnection"]["type"] == (
        "connectedService:externalPythonUploadFeed"
    )
    assert INPUTS["pythonUploadServiceConnection"]["properties"]["MultiSelectFlatList"] == "True"
    assert INPUTS["artifactFeed"]["type"] == "pickList"
    assert INPUTS["feedUrl"]["type"] == "string"
    assert not any(item.get("required") for item in TASK["inputs"])


def test_aliases_are_unique_and_do_not_shadow_an_input() -> None:
    names = [n.lower() for item in TASK["inputs"] for n in [item["name"], *item.get("aliases", [])]]
    assert len(names) == len(set(names))


def test_every_input_is_in_a_group_that_exists_and_has_help() -> None:
    groups = {group["name"] for group in TASK["groups"]}
    for item in TASK["inputs"]:
        assert item.get("groupName") in groups, item["name"]
        assert item.get("label") and item.get("helpMarkDown"), item["name"]


def test_feed_picker_binding() -> None:
    (binding,) = TASK["dataSourceBindings"]
    assert binding["target"] == "artifactFeed"
    assert binding["endpointId"] == "tfs:feed"
    assert binding["endpointUrl"] == "{{endpoint.url}}/_apis/packaging/feedids"
    assert binding["resultSelector"] == "jsonpath:$.value[*]"
    assert "projectName" in binding["resultTemplate"]


def test_instance_name_uses_existing_inputs() -> None:
    for name in re.findall(r"\$\(([^)]+)\)", TASK["instanceNameFormat"]):
        assert name in INPUTS


@pytest.mark.parametrize(
    ("stage", "target"), [("execution", "index.js"), ("postjobexecution", "cleanup.js")]
)
def test_node_handlers_point_at_the_entry_scripts(stage: str, target: str) -> None:
    handlers = TASK[stage]
    assert set(handlers) == {"Node24", "Node20_1", "Node16"}
    for handler in handlers.values():
        assert handler["target"] == target
        assert (ROOT / target).is_file()


# -- messages ---------------------------------------------------------------------------


def test_every_message_the_code_uses_is_in_task_json() -> None:
    messages = TASK["messages"]
    missing = []
    calls = 0
    for path in task_sources():
        text = path.read_text(encoding="utf-8")
        keys = set(MESSAGE_CALL.findall(text)) | set(MESSAGE_LITERAL.findall(text))
        calls += len(MESSAGE_CALL.findall(text))
        missing += [f"{path.relative_to(ROOT)}: {key}" for key in sorted(keys - set(messages))]
    assert not missing, missing
    assert calls > 10  # the patterns still find the calls


def test_messages_the_launcher_needs() -> None:
    for key in ("Error_PythonNotFound", "Error_PythonFailed"):
        assert "%s" in TASK["messages"][key]
    assert "UsePythonVersion@0" in TASK["messages"]["Error_PythonNotFound"]


# -- localization -----------------------------------------------------------------------


def test_localized_strings_are_up_to_date_and_complete() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "localize.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_localize_check_names_what_is_missing(tmp_path: Path) -> None:
    localize = load_tool("localize")
    task = {
        "friendlyName": "F",
        "groups": [{"name": "g", "displayName": "G"}],
        "inputs": [{"name": "a", "label": "A", "helpMarkDown": "help"}],
        "messages": {"One": "one %s", "Two": "two"},
    }
    (tmp_path / "task.json").write_text(json.dumps(task), encoding="utf-8")
    cultures = ("en-US", "de-DE")
    out = io.StringIO()
    assert localize.run(tmp_path, check=True, out=out, cultures=cultures) == 1
    assert "en-US/resources.resjson is out of date" in out.getvalue()
    assert "task.loc.json is out of date" in out.getvalue()
    # No de-DE folder yet: it is named as missing, with all its strings.
    out = io.StringIO()
    assert localize.run(tmp_path, check=False, out=out, cultures=cultures) == 1
    assert "de-DE: Strings/resources.resjson/de-DE/resources.resjson does not exist" in (
        out.getvalue()
    )
    assert localize.run(tmp_path, check=True, out=io.StringIO(), cultures=("en-US",)) == 0
    english = json.loads(
        (tmp_path / "Strings/resources.resjson/en-US/resources.resjson").read_text()
    )
    assert list(english) == [
        "loc.friendlyName",
        "loc.group.displayName.g",
        "loc.input.label.a",
        "loc.input.help.a",
        "loc.messages.One",
        "loc.messages.Two",
    ]
    german = tmp_path / "Strings/resources.resjson/de-DE"
    german.mkdir()
    translated = {k: "x" for k in english if k != "loc.messages.Two"}
    translated["loc.messages.One"] = "eins"
    translated["loc.messages.Old"] = "alt"
    (german / "resources.resjson").write_text(json.dumps(translated), encoding="utf-8")
    out = io.StringIO()
    assert localize.run(tmp_path, check=True, out=out, cultures=cultures) == 1
    report = out.getvalue()
    assert "de-DE: missing loc.messages.Two (English: 'two')" in report
    assert "de-DE: loc.messages.One has placeholders [], English has ['%s']" in report
    assert "de-DE: loc.messages.Old is not in task.json any more" in report
    assert "de-DE lacks 1 of 6: loc.messages.Two" in report


# -- the extension manifest -------------------------------------------------------------


def test_extension_manifest_matches_the_task() -> None:
    manifest = json.loads((ROOT / "vss-extension.json").read_text("utf-8"))
    version = TASK["version"]
    assert manifest["version"] == f"{version['Major']}.{version['Minor']}.{version['Patch']}"
    (contribution,) = manifest["contributions"]
    assert contribution["type"] == "ms.vss-distributed-task.task"
    assert contribution["targets"] == ["ms.vss-distributed-task.tasks"]
    task_path = contribution["properties"]["name"]
    assert task_path == "task/TwineAuthenticate"
    assert {"path": task_path} in manifest["files"]
    assert manifest["publisher"] == "twineauthenticate"


def test_output_variables_are_the_ones_the_task_sets() -> None:
    from twineauthenticate import outputs

    names = [item["name"] for item in TASK["outputVariables"]]
    assert names == [
        outputs.REPOSITORY_NAME,
        outputs.UPLOAD_URL,
        outputs.SIMPLE_URL,
        outputs.REPOSITORY_NAMES,
    ]
    assert all(item["description"] for item in TASK["outputVariables"])
