"""The ten cultures of the task: complete, consistent with the English text, chosen from
System.Culture as the task library chooses, and what a failing run shows in each."""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.harness_fixtures import (  # noqa: F401 (fixtures)
    agent_job_fixture,
    bare_python_fixture,
    task_bundle_fixture,
    task_dir_fixture,
)
from tests.helpers import ROOT, base_env, load_tool, run_task
from twineauthenticate._messages import load_messages
from twineauthenticate.agent import Agent, Msg

localize = load_tool("localize")
CULTURES: tuple[str, ...] = localize.CULTURES
TASK: dict[str, Any] = json.loads((ROOT / "task.json").read_text(encoding="utf-8-sig"))
ENGLISH: dict[str, str] = localize.english_strings(TASK)
STRINGS = ROOT / "Strings" / "resources.resjson"
TRANSLATED = [c for c in CULTURES if c != "en-US"]
# Texts without a word of their own (names, code, protocol), the same in every language.
NO_WORDS = {
    "loc.instanceNameFormat",
    "loc.messages.Field_Url",
    "loc.messages.Origin_FeedUrl",
    "loc.messages.Reason_HttpAnswer",
    "loc.messages.Msg_Quoted",
    "loc.messages.Cmd_Twine",  # commands: the same in every language
    "loc.messages.Cmd_Uv",
    "loc.messages.Cmd_UvCheck",
    "loc.messages.Cmd_Poetry",
}
# Words a language uses as they are in English.
LOANWORDS = {
    "it-IT": {
        "loc.messages.Origin_Feed",
        "loc.messages.Field_Password",
        "loc.messages.Summary_ColName",
    },
    "de-DE": {"loc.messages.Summary_ColName"},
    "fr-FR": {"loc.messages.Summary_ColSource"},
}


def strings(culture: str) -> dict[str, str]:
    data: dict[str, str] = json.loads(
        (STRINGS / culture / "resources.resjson").read_text(encoding="utf-8-sig")
    )
    return data


def samples(text: str) -> list[str]:
    return [f"<{i}>" for i in range(len(localize.placeholders(text)))]


# -- completeness -----------------------------------------------------------------------


def test_the_ten_cultures_of_microsofts_tasks() -> None:
    assert set(CULTURES) == {
        "en-US",
        "de-DE",
        "es-ES",
        "fr-FR",
        "it-IT",
        "ja-JP",
        "ko-KR",
        "ru-RU",
        "zh-CN",
        "zh-TW",
    }
    assert sorted(p.name for p in STRINGS.iterdir()) == sorted(CULTURES)


@pytest.mark.parametrize("culture", CULTURES)
def test_every_culture_has_every_key_and_nothing_else(culture: str) -> None:
    translated = strings(culture)
    assert list(translated) == list(ENGLISH)
    assert all(value.strip() for value in translated.values())


@pytest.mark.parametrize("culture", TRANSLATED)
def test_placeholders_and_code_match_the_english_text(culture: str) -> None:
    translated = strings(culture)
    for key, text in ENGLISH.items():
        assert localize.placeholders(translated[key]) == localize.placeholders(text), key
        assert localize.code_parts(translated[key]) == localize.code_parts(text), key


@pytest.mark.parametrize("culture", TRANSLATED)
def test_every_string_is_translated(culture: str) -> None:
    translated = strings(culture)
    same = {key for key in ENGLISH if translated[key] == ENGLISH[key]}
    assert same <= NO_WORDS | LOANWORDS.get(culture, set())


@pytest.mark.parametrize("culture", CULTURES)
def test_the_friendly_name_fits_in_every_culture(culture: str) -> None:
    # tfx and the marketplace refuse a friendly name longer than 40 characters.
    assert len(strings(culture)["loc.friendlyName"]) <= 40


@pytest.mark.parametrize("culture", CULTURES)
def test_every_message_formats_with_sample_arguments(culture: str) -> None:
    messages = load_messages(ROOT, culture)
    assert set(messages) == set(TASK["messages"])
    agent = Agent({"SYSTEM_CULTURE": culture}, stdout=io.StringIO())
    for key, template in messages.items():
        args = samples(template)
        text = agent.loc(key, *args)
        assert "%s" not in text, (culture, key)
        positions = [text.find(arg) for arg in args]
        assert -1 not in positions and positions == sorted(positions), (culture, key, text)


# The pieces of sentences the code builds, with pieces of their own (as the task does).
COMPOSED = [
    ("Error_UnusableName", "my feed", Msg("Origin_Feed", "my feed"), Msg("Reason_NameSpace")),
    ("Error_DuplicateName", "pypi", Msg("Origin_Feed", "pypi"), Msg("Origin_Connection", "pypi")),
    (
        "Error_UnsafeValue",
        Msg("Field_Password"),
        Msg("Origin_Connection", "x"),
        Msg("Reason_ValueSpace"),
    ),
    ("Error_ConnectionMissing", "ext", Msg("Field_ApiToken")),
    ("Error_ConnectionScheme", "ext", Msg("Reason_NoScheme")),
    ("Error_BadResponse", "https://x/", Msg("Reason_AnswerLacks", "locationUrl")),
    ("Error_BadResponse", "https://x/", Msg("Reason_NotJson", 200, 1, 17)),
    ("Error_HttpStatus", "https://x/", 503, Msg("Reason_RetryAfterTooLong", "busy", "60", "20")),
    ("Error_HttpProxy", Msg("Reason_ConfiguredProxy"), "https://x/", Msg("Reason_HttpProxyAuth")),
    ("Error_WifOidc", "conn", Msg("Reason_HttpAnswer", 400, "bad")),
    ("Error_ReadBack", Msg("Reason_ReadBackValue", "password", "f")),
    ("Warn_Retrying", "https://x/", Msg("Reason_HttpNoAnswer"), "0.5", 2, 4),
    ("Warn_CleanupSkipped", "/tmp/.pypirc", Msg("Reason_CleanupNotOurs")),
    ("Info_CleanupNothing", Msg("Reason_CleanupMissing", "/tmp/.pypirc")),
    ("Error_PythonFailed", Msg("Info_PythonExitCode", "/usr/bin/python3", 3)),
]


@pytest.mark.parametrize("culture", TRANSLATED)
def test_pieces_of_sentences_are_in_the_language_of_the_sentence(culture: str) -> None:
    agent = Agent({"SYSTEM_CULTURE": culture}, stdout=io.StringIO())
    english = Agent({}, stdout=io.StringIO())
    for key, *args in COMPOSED:
        text = agent.loc(str(key), *args)
        assert not re.search(r"\b(?:Reason|Origin|Field|Info)_", text), text
        assert text != english.loc(str(key), *args)
        for arg in args:
            if not isinstance(arg, Msg):
                continue
            if f"loc.messages.{arg.key}" not in NO_WORDS | LOANWORDS.get(culture, set()):
                assert english.loc(arg.key, *arg.args) not in text, (culture, key, text)


def _is_name(text: str) -> bool:
    """An identifier a message names as it is (``locationUrl``, ``access_token``)."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)+|[a-z]+[A-Z]\w*", text))


def test_no_text_of_the_code_goes_into_a_message() -> None:
    """Every argument of a message, and every line printed, comes from task.json: a
    string literal with words among them is text that no culture translates."""
    sinks = {"TaskError", "Msg", "loc", "info", "warning", "error", "complete"}
    found = []
    sources = [p for p in (ROOT / "twineauthenticate").rglob("*.py") if "emulator" not in p.parts]
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys = {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in sinks:
                continue
            first = 1 if name in {"TaskError", "Msg", "loc"} else 0
            for arg in node.args[first:]:
                for sub in ast.walk(arg):
                    if (
                        isinstance(sub, ast.Constant)
                        and isinstance(sub.value, str)
                        and re.search(r"[A-Za-z]{2,}", sub.value)
                        and not _is_name(sub.value)
                        and id(sub) not in keys
                    ):
                        found.append(f"{path.name}:{sub.lineno}: {sub.value!r}")
    assert not found, sorted(set(found))


# -- choosing the culture ---------------------------------------------------------------


def loc_in(culture: str | None, key: str = "Error_InvalidFeed", task_dir: Path = ROOT) -> str:
    env = {} if culture is None else {"SYSTEM_CULTURE": culture}
    return Agent(env, stdout=io.StringIO(), task_dir=task_dir).loc(key, "x")


def test_the_culture_is_matched_ignoring_case() -> None:
    german = strings("de-DE")["loc.messages.Error_InvalidFeed"].replace("%s", "x")
    assert loc_in("de-DE") == german
    assert loc_in("DE-de") == german
    assert loc_in("ja-jp") == strings("ja-JP")["loc.messages.Error_InvalidFeed"].replace("%s", "x")


@pytest.mark.parametrize("culture", [None, "", "en-US", "de-AT", "de", "qps-ploc", "../de-DE"])
def test_any_other_culture_is_english(culture: str | None) -> None:
    assert loc_in(culture) == TASK["messages"]["Error_InvalidFeed"].replace("%s", "x")


def test_a_key_a_culture_lacks_is_english(tmp_path: Path) -> None:
    shutil.copyfile(ROOT / "task.json", tmp_path / "task.json")
    folder = tmp_path / "Strings" / "resources.resjson" / "fr-FR"
    folder.mkdir(parents=True)
    french = strings("fr-FR")
    del french["loc.messages.Error_InvalidFeed"]
    (folder / "resources.resjson").write_text(json.dumps(french), encoding="utf-8")
    english = TASK["messages"]["Error_InvalidFeed"].replace("%s", "x")
    assert loc_in("fr-FR", task_dir=tmp_path) == english
    other = loc_in("fr-FR", "Error_FeedNotFound", task_dir=tmp_path)
    assert other == french["loc.messages.Error_FeedNotFound"].replace("%s", "x")


# -- the generated files and the tool ---------------------------------------------------


def test_task_loc_json_refers_to_every_string() -> None:
    loc = json.loads((ROOT / "task.loc.json").read_text(encoding="utf-8"))
    assert loc == localize.loc_task(TASK)
    refs = {
        loc["friendlyName"],
        loc["helpMarkDown"],
        loc["description"],
        loc["instanceNameFormat"],
        *(g["displayName"] for g in loc["groups"]),
        *(i["label"] for i in loc["inputs"]),
        *(i["helpMarkDown"] for i in loc["inputs"]),
        *loc["messages"].values(),
    }
    assert all(ref.startswith("ms-resource:") for ref in refs)
    assert {ref.removeprefix("ms-resource:") for ref in refs} == set(ENGLISH)
    # Everything else is task.json as it is.
    for key in ("id", "name", "version", "execution", "postjobexecution", "dataSourceBindings"):
        assert loc[key] == TASK[key]


def test_localize_names_the_keys_each_culture_lacks(tmp_path: Path) -> None:
    shutil.copyfile(ROOT / "task.json", tmp_path / "task.json")
    shutil.copytree(STRINGS, tmp_path / "Strings" / "resources.resjson")
    assert localize.run(tmp_path, check=False, out=io.StringIO()) == 0
    # A new message, as another change would add it to task.json.
    task = dict(TASK, messages={**TASK["messages"], "Error_New": "A new message about %s."})
    (tmp_path / "task.json").write_text(json.dumps(task), encoding="utf-8")
    out = io.StringIO()
    assert localize.run(tmp_path, check=True, out=out) == 1
    assert "en-US/resources.resjson is out of date" in out.getvalue()
    out = io.StringIO()
    assert localize.run(tmp_path, check=False, out=out) == 1
    report = out.getvalue()
    for culture in TRANSLATED:
        assert f"{culture} lacks 1 of {len(ENGLISH) + 1}: loc.messages.Error_New" in report
    missing = localize.missing_report(tmp_path)
    assert missing == {c: {"loc.messages.Error_New": "A new message about %s."} for c in TRANSLATED}
    # The translations come back in the same shape and go in with --merge.
    done = {c: {k: f"{c}: %s" for k in keys} for c, keys in missing.items()}
    (tmp_path / "done.json").write_text(json.dumps(done), encoding="utf-8")
    argv = ["--root", str(tmp_path), "--merge", str(tmp_path / "done.json")]
    assert localize.main(argv) == 0
    german = json.loads(
        (tmp_path / "Strings/resources.resjson/de-DE/resources.resjson").read_text("utf-8")
    )
    assert list(german)[-1] == "loc.messages.Error_New"
    assert german["loc.messages.Error_New"] == "de-DE: %s"
    shutil.rmtree(tmp_path / "Strings" / "resources.resjson" / "ko-KR")
    out = io.StringIO()
    assert localize.run(tmp_path, check=True, out=out) == 1
    assert "ko-KR: Strings/resources.resjson/ko-KR/resources.resjson does not exist" in (
        out.getvalue()
    )


def test_pseudo_localization_keeps_placeholders() -> None:
    assert localize.pseudo("Left %s in place: %s") == "[Ļéƒţ %s îñ þļåçé: %s]"


# -- a failing run in each culture ------------------------------------------------------


def expected_unusable_name(culture: str, name: str) -> str:
    """Error_UnusableName for a feed with a space, built from the culture's file alone."""
    table = strings(culture)
    origin = table["loc.messages.Origin_Feed"] % name
    reason = table["loc.messages.Reason_NameSpace"]
    return table["loc.messages.Error_UnusableName"] % (name, origin, reason)


@pytest.mark.parametrize("culture", CULTURES)
def test_a_failing_run_speaks_the_culture(culture: str, tmp_path: Path) -> None:
    run = run_task(
        base_env(), "--temp-dir", str(tmp_path), "--feed", "my feed", "--culture", culture
    )
    assert run.returncode == 1
    assert run.result == "Failed"
    assert run.errors == [expected_unusable_name(culture, "my feed")]
    if culture != "en-US":
        assert run.errors[0] != expected_unusable_name("en-US", "my feed")
        assert "white space" not in run.errors[0]


def test_a_failing_run_on_the_agent_in_japanese(agent_job: Any) -> None:
    job = agent_job(culture="ja-JP")
    result = job.run({"artifactFeed": "my feed"})
    assert result.result == "Failed"
    assert result.errors == [expected_unusable_name("ja-JP", "my feed")]
    assert "フィード「my feed」" in result.errors[0]


def test_no_python_on_the_agent_in_french(agent_job: Any, tmp_path: Path) -> None:
    job = agent_job(python=None, path=str(tmp_path), culture="fr-FR")
    result = job.run({"pythonUploadServiceConnection": ""})
    assert result.result == "Failed"
    (message,) = result.errors
    assert message.startswith("Aucun Python 3.9 ou ultérieur n'a été trouvé (recherche : ")
    assert "python3 : absent du PATH; python : absent du PATH" in message
