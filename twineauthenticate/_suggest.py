"""What the user probably meant by a feed that was not found.

From the feeds the job's identity can see (``_apis/packaging/feedids``, the list
the classic editor's feed picker shows), in this order: the same feed in another
scope (a project feed written without its project, or an organization feed
written with one), then a close spelling. Names compare case-insensitively, and
a feed or project may be written as its id, as Azure DevOps accepts.
"""

from __future__ import annotations

from typing import Any

from ._record import dataclass
from .inputs import FeedRef


@dataclass(frozen=True)
class Visible:
    """A feed the identity can see."""

    name: str
    id: str = ""
    project: str = ""
    project_id: str = ""

    @property
    def display(self) -> str:
        """How the input ``artifactFeed`` names it."""
        return f"{self.project}/{self.name}" if self.project else self.name

    def in_scope_of(self, feed: FeedRef) -> bool:
        """Whether it is in the scope (project, or organization) ``feed`` names."""
        wanted = feed.project.lower()
        return (
            wanted in (self.project.lower(), self.project_id.lower())
            if wanted
            else (not self.project)
        )

    def is_named(self, name: str) -> bool:
        return name.lower() in (self.name.lower(), self.id.lower())


def parse_visible(data: Any) -> list[Visible]:
    """The feeds of a ``feedids`` (or feed list) answer; nothing for an answer of another form."""
    items = data.get("value") if isinstance(data, dict) else None
    feeds: list[Visible] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        project = item.get("projectName") or ""
        if not project and isinstance(item.get("project"), dict):  # the feed list's form
            project = item["project"].get("name") or ""
            item = {**item, "projectId": item["project"].get("id") or ""}
        feeds.append(
            Visible(
                str(item["name"]),
                str(item.get("id") or ""),
                str(project),
                str(item.get("projectId") or ""),
            )
        )
    return feeds


def elsewhere(feed: FeedRef, visible: list[Visible]) -> Visible | None:
    """The same feed (name or id) in another scope; the organization's first."""
    matches = [v for v in visible if v.is_named(feed.name) and not v.in_scope_of(feed)]
    matches.sort(key=lambda v: bool(v.project))  # organization feeds first
    return matches[0] if matches else None


def close_spelling(feed: FeedRef, visible: list[Visible]) -> Visible | None:
    """The visible feed whose ``project/feed`` (or name, same scope) is closest to ``feed``."""
    import difflib  # only on the failure path

    by_display = {v.display.lower(): v for v in visible}
    found = difflib.get_close_matches(feed.display.lower(), list(by_display), n=1, cutoff=0.75)
    if found:
        return by_display[found[0]]
    same_scope = {v.name.lower(): v for v in visible if v.in_scope_of(feed)}
    found = difflib.get_close_matches(feed.name.lower(), list(same_scope), n=1, cutoff=0.6)
    return same_scope[found[0]] if found else None
