"""Generate and check the localized strings of task.json.

    python3 tools/localize.py            # write task.loc.json and Strings/resources.resjson/en-US
                                         # from task.json, then check every culture
    python3 tools/localize.py --check    # change nothing; fail on anything out of date or missing
    python3 tools/localize.py --missing  # print, as JSON, the English text of every string
                                         # each culture lacks (what to hand to a translator)
    python3 tools/localize.py --merge FILE
                                         # put the translations of FILE (the JSON of
                                         # --missing, translated) into each culture, in
                                         # the order of en-US, then check everything

task.json is the source. ``task.loc.json`` is task.json with every string a user
sees replaced by an ``ms-resource:loc.*`` reference, as Microsoft's tasks ship it
for the classic editor; ``en-US`` holds the English of those references. Every
other culture of :data:`CULTURES` is translated by hand and must have exactly the
keys of en-US, each non-empty, with the same ``%s`` placeholders in the same order
and the same code (``$(VARIABLE)``, `` `code` ``) as the English text. The report
names, for each culture, the keys it lacks; when an English text changes, the run
that regenerates en-US names the keys whose translations need a second look.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "en-US"
# The cultures Microsoft's tasks ship, and so this one.
CULTURES = (
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
)
PLACEHOLDER = re.compile(r"%[sdijoO%]")
CODE = re.compile(r"`[^`]*`|\$\([^)]*\)")
LOC_JSON = "task.loc.json"
RESOURCE = "ms-resource:"


def strings_dir(root: Path) -> Path:
    return root / "Strings" / "resources.resjson"


def resjson_path(root: Path, culture: str) -> Path:
    return strings_dir(root) / culture / "resources.resjson"


def english_strings(task: dict[str, Any]) -> dict[str, str]:
    """The loc.* keys of a task.json, in the order of Microsoft's resjson files."""
    out: dict[str, str] = {}
    fields = ("friendlyName", "helpMarkDown", "description", "instanceNameFormat", "releaseNotes")
    for field in fields:
        if task.get(field):
            out[f"loc.{field}"] = str(task[field])
    for group in task.get("groups", []):
        out[f"loc.group.displayName.{group['name']}"] = str(group["displayName"])
    for item in task.get("inputs", []):
        out[f"loc.input.label.{item['name']}"] = str(item["label"])
        if item.get("helpMarkDown"):
            out[f"loc.input.help.{item['name']}"] = str(item["helpMarkDown"])
    for key, value in task.get("messages", {}).items():
        out[f"loc.messages.{key}"] = str(value)
    return out


def loc_task(task: dict[str, Any]) -> dict[str, Any]:
    """task.json with every localized string replaced by its ``ms-resource:`` reference."""
    loc: dict[str, Any] = json.loads(json.dumps(task))
    for field in ("friendlyName", "helpMarkDown", "description", "instanceNameFormat"):
        if field in loc:
            loc[field] = f"{RESOURCE}loc.{field}"
    if loc.get("releaseNotes"):
        loc["releaseNotes"] = f"{RESOURCE}loc.releaseNotes"
    for group in loc.get("groups", []):
        group["displayName"] = f"{RESOURCE}loc.group.displayName.{group['name']}"
    for item in loc.get("inputs", []):
        item["label"] = f"{RESOURCE}loc.input.label.{item['name']}"
        if item.get("helpMarkDown"):
            item["helpMarkDown"] = f"{RESOURCE}loc.input.help.{item['name']}"
    loc["messages"] = {key: f"{RESOURCE}loc.messages.{key}" for key in loc.get("messages", {})}
    return loc


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def placeholders(text: str) -> list[str]:
    """The ``%s``-style placeholders of ``text``, in order (``%%`` is not one)."""
    return [p for p in PLACEHOLDER.findall(text) if p != "%%"]


def code_parts(text: str) -> list[str]:
    """What a translation keeps as it is: pipeline macros and `code` spans."""
    return sorted(CODE.findall(text))


def diff_keys(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Keys added, removed and changed from ``old`` to ``new``."""
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    changed = [k for k in new if k in old and old[k] != new[k]]
    return added, removed, changed


def missing_keys(english: dict[str, str], translated: dict[str, str]) -> list[str]:
    """The keys of ``english`` that ``translated`` lacks (or leaves empty)."""
    return [k for k in english if not translated.get(k, "").strip()]


def check_translation(
    culture: str, english: dict[str, str], translated: dict[str, str]
) -> list[str]:
    """Problems of one culture's strings against the English ones."""
    problems = []
    for key, text in english.items():
        if key not in translated:
            problems.append(f"{culture}: missing {key} (English: {text!r})")
        elif not translated[key].strip():
            problems.append(f"{culture}: empty {key}")
        elif placeholders(translated[key]) != placeholders(text):
            problems.append(
                f"{culture}: {key} has placeholders {placeholders(translated[key])}, "
                f"English has {placeholders(text)}"
            )
        elif code_parts(translated[key]) != code_parts(text):
            problems.append(
                f"{culture}: {key} changes the code {code_parts(text)} of the English text "
                f"(has {code_parts(translated[key])})"
            )
    problems.extend(
        f"{culture}: {key} is not in task.json any more" for key in translated if key not in english
    )
    return problems


def cultures_on_disk(root: Path) -> list[str]:
    folders = strings_dir(root).iterdir() if strings_dir(root).is_dir() else iter(())
    return sorted(p.name for p in folders if p.is_dir())


def _generated(root: Path, task: dict[str, Any], english: dict[str, str]) -> dict[Path, str]:
    return {resjson_path(root, SOURCE): dumps(english), root / LOC_JSON: dumps(loc_task(task))}


def run(
    root: Path,
    check: bool,
    out: Any = sys.stdout,
    cultures: Sequence[str] = CULTURES,
) -> int:
    task = json.loads((root / "task.json").read_text(encoding="utf-8-sig"))
    english = english_strings(task)
    problems: list[str] = []
    for path, text in _generated(root, task, english).items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        name = path.relative_to(root)
        if check:
            detail = ""
            if path.name == "resources.resjson":
                added, removed, changed = diff_keys(load(path) or {}, english)
                detail = f" (added {added}, removed {removed}, changed {changed}, or formatting)"
            problems.append(
                f"{name} is out of date with task.json{detail}; run python3 tools/localize.py"
            )
            continue
        changed = []
        if path.name == "resources.resjson":
            changed = diff_keys(load(path) or {}, english)[2]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {name}", file=out)
        if changed:
            print(f"English text changed, review the translations of: {changed}", file=out)
    others = [c for c in dict.fromkeys([*cultures, *cultures_on_disk(root)]) if c != SOURCE]
    summary: list[str] = []
    for culture in others:
        loaded = load(resjson_path(root, culture))
        if loaded is None:
            problems.append(
                f"{culture}: {resjson_path(root, culture).relative_to(root)} does not exist "
                f"(all {len(english)} strings missing; python3 tools/localize.py --missing)"
            )
            continue
        lacking = missing_keys(english, loaded)
        problems.extend(check_translation(culture, english, loaded))
        if lacking:
            listed = ", ".join(lacking)
            summary.append(f"{culture} lacks {len(lacking)} of {len(english)}: {listed}")
    for problem in problems:
        print(problem, file=out)
    for line in summary:
        print(line, file=out)
    if not problems:
        done = ", ".join([SOURCE, *others])
        print(f"{len(english)} strings; complete in {len(others) + 1} cultures: {done}", file=out)
    return 1 if problems else 0


def missing_report(root: Path, cultures: Sequence[str] = CULTURES) -> dict[str, dict[str, str]]:
    """For each culture that lacks strings: key -> English text."""
    task = json.loads((root / "task.json").read_text(encoding="utf-8-sig"))
    english = english_strings(task)
    report: dict[str, dict[str, str]] = {}
    for culture in cultures:
        if culture == SOURCE:
            continue
        lacking = missing_keys(english, load(resjson_path(root, culture)) or {})
        if lacking:
            report[culture] = {key: english[key] for key in lacking}
    return report


def merge(root: Path, translations: dict[str, dict[str, str]], out: Any = sys.stdout) -> None:
    """Write ``{culture: {key: text}}`` into the cultures' files, keys in en-US order."""
    task = json.loads((root / "task.json").read_text(encoding="utf-8-sig"))
    english = english_strings(task)
    for culture, new in translations.items():
        if culture == SOURCE:
            raise ValueError(f"{SOURCE} is generated from task.json; edit task.json instead")
        unknown = [key for key in new if key not in english]
        if unknown:
            raise ValueError(f"{culture}: not keys of task.json: {unknown}")
        strings = {**(load(resjson_path(root, culture)) or {}), **new}
        ordered = {key: strings[key] for key in english if key in strings}
        path = resjson_path(root, culture)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(ordered), encoding="utf-8")
        print(f"{culture}: {len(new)} strings merged", file=out)


# -- pseudo-localization (for the tests: never shipped) ---------------------------------

_PSEUDO = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "åƀçđéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)


def pseudo(text: str) -> str:
    """``text`` with every letter accented and brackets around it; placeholders kept."""
    parts = re.split(r"(%[sdijoO%])", text)
    body = "".join(p if PLACEHOLDER.fullmatch(p) else p.translate(_PSEUDO) for p in parts)
    return "[" + body + "]"


def pseudo_strings(english: dict[str, str]) -> dict[str, str]:
    return {key: pseudo(text) for key, text in english.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate and check Strings/ from task.json.")
    parser.add_argument("--check", action="store_true", help="change nothing, fail on any problem")
    parser.add_argument(
        "--missing", action="store_true", help="print what each culture lacks, as JSON"
    )
    parser.add_argument(
        "--merge", type=Path, metavar="FILE", help="merge translations ({culture: {key: text}})"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.root, json.loads(args.merge.read_text(encoding="utf-8-sig")))
        return run(args.root, check=True)
    if args.missing:
        report = missing_report(args.root)
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 1 if report else 0
    return run(args.root, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
