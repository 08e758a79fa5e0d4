"""Generate and check the localized strings of task.json.

    python3 tools/localize.py          # write Strings/resources.resjson/en-US from task.json,
                                       # then check the translations
    python3 tools/localize.py --check  # change nothing; fail when en-US is out of date or a
                                       # translation lacks a key

en-US is generated; every other culture under Strings/resources.resjson/ is
translated by hand and must have exactly the keys of en-US, each non-empty and
with the same ``%s`` placeholders. When an English text changes, the run that
regenerates en-US names the keys whose translations need a second look.
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
PLACEHOLDER = re.compile(r"%[sdijoO%]")


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


def dumps(strings: dict[str, str]) -> str:
    return json.dumps(strings, indent=2, ensure_ascii=False) + "\n"


def load(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def diff_keys(old: dict[str, str], new: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Keys added, removed and changed from ``old`` to ``new``."""
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    changed = [k for k in new if k in old and old[k] != new[k]]
    return added, removed, changed


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
    problems.extend(
        f"{culture}: {key} is not in task.json any more" for key in translated if key not in english
    )
    return problems


def run(root: Path, check: bool, out: Any = sys.stdout) -> int:
    task = json.loads((root / "task.json").read_text(encoding="utf-8-sig"))
    english = english_strings(task)
    problems: list[str] = []
    en_path = resjson_path(root, SOURCE)
    if not en_path.is_file() or en_path.read_text(encoding="utf-8") != dumps(english):
        added, removed, changed = diff_keys(load(en_path) or {}, english)
        if check:
            problems.append(
                f"{en_path.relative_to(root)} is out of date with task.json "
                f"(added {added}, removed {removed}, changed {changed}, or formatting); "
                "run python3 tools/localize.py"
            )
        else:
            en_path.parent.mkdir(parents=True, exist_ok=True)
            en_path.write_text(dumps(english), encoding="utf-8")
            print(f"wrote {en_path.relative_to(root)} ({len(english)} strings)", file=out)
            if changed:
                print(f"English text changed, review the translations of: {changed}", file=out)
    folders = strings_dir(root).iterdir() if strings_dir(root).is_dir() else iter(())
    cultures = sorted(p.name for p in folders if p.is_dir() and p.name != SOURCE)
    for culture in cultures:
        translated = load(resjson_path(root, culture)) or {}
        problems.extend(check_translation(culture, english, translated))
    for problem in problems:
        print(problem, file=out)
    if not problems:
        done = ", ".join(cultures) or "none"
        print(f"{len(english)} strings; translations complete: {done}", file=out)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate and check Strings/ from task.json.")
    parser.add_argument("--check", action="store_true", help="change nothing, fail on any problem")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return run(args.root, args.check)


if __name__ == "__main__":
    raise SystemExit(main())
