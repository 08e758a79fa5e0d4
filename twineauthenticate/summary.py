"""The Markdown summary the run's page shows (``##vso[task.uploadsummary]``).

One row per repository (name, source, upload URL, simple index URL) and the
commands to use. Every heading and label is a message of ``task.json``; every
value is escaped for Markdown and HTML, and the whole text is masked, so that no
secret and no markup of a user's can reach the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ._files import random_name, write_atomic
from .agent import Agent
from .exceptions import TaskError
from .outputs import simple_url
from .repository import Repository

# What can start markup inside a line (a cell never starts one: it follows "| ").
_MARKDOWN = "\\`*_[]|~"
_KIND_LABEL = {
    "feed": "Summary_KindFeed",
    "connection": "Summary_KindConnection",
    "federated": "Summary_KindFederated",
}


def escape(text: str) -> str:
    """``text`` shown literally in a Markdown table cell: punctuation backslash-escaped,
    ``<``, ``>`` and ``&`` as HTML entities, line breaks as spaces."""
    out: list[str] = []
    for char in text:
        if char in _MARKDOWN:
            out.append("\\" + char)
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char == "&":
            out.append("&amp;")
        elif char in "\r\n\t":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _code(text: str) -> str:
    """A line of a fenced code block: no backtick, so no fence can end it early."""
    return text.replace("`", "%60").replace("\r", " ").replace("\n", " ")


def commands(agent: Agent, repo: Repository, poetry_name: str | None, enabled: bool) -> list[str]:
    """The commands a later step uses for ``repo``: twine, and with configurePublishers
    uv, poetry and pip."""
    lines = [agent.loc("Cmd_Twine", repo.name)]
    if not enabled:
        return lines
    simple = simple_url(repo.url)
    if simple:
        lines.append(agent.loc("Cmd_UvCheck", repo.url, simple))
    else:
        lines.append(agent.loc("Cmd_Uv", repo.url))
    if poetry_name is not None:
        lines.append(agent.loc("Cmd_Poetry", poetry_name))
    if simple:
        lines.append(agent.loc("Cmd_Pip", simple))
    return lines


def render(
    agent: Agent,
    repositories: Sequence[Repository],
    poetry_names: dict[str, str],
    enabled: bool,
) -> str:
    """The summary's Markdown text, masked."""
    out = [f"### {escape(agent.loc('Summary_Title'))}", ""]
    header = ("Summary_ColName", "Summary_ColSource", "Summary_ColUpload", "Summary_ColSimple")
    out.append("| " + " | ".join(escape(agent.loc(key)) for key in header) + " |")
    out.append("|" + "---|" * len(header))
    for repo in repositories:
        simple = simple_url(repo.url) or agent.loc("Summary_NotKnown")
        cells = (repo.name, agent.loc(_KIND_LABEL[repo.kind]), repo.url, simple)
        out.append("| " + " | ".join(escape(cell) for cell in cells) + " |")
    if not repositories:
        out += ["", escape(agent.loc("Summary_NoRepository"))]
    for repo in repositories:
        out += ["", f"**{escape(agent.loc('Summary_Commands', repo.name))}**", "", "```"]
        out += [_code(line) for line in commands(agent, repo, poetry_names.get(repo.name), enabled)]
        out.append("```")
    if not enabled:
        out += ["", escape(agent.loc("Summary_PublishersOff"))]
    return agent.mask("\n".join(out) + "\n")


def write(folder: Path, text: str) -> tuple[Path, str]:
    """Write the summary into the task's private folder; (path, identity)."""
    path = folder / f"summary-{random_name(6)}.md"
    data = text.encode("utf-8")

    def check(tmp: Path) -> None:
        if tmp.read_bytes() != data:
            raise TaskError("Error_SummaryReadBack")

    return path, write_atomic(path, data, check, TaskError("Error_FileIsLink", path))
