"""The organization's feeds and projects, looked up the way Azure DevOps does.

Names compare case-insensitively; a feed or project may also be addressed by
its id (a GUID). Ids are derived from the names, so they are stable across runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ._model import Feed

_NAMESPACE = uuid.UUID("5d1f7a52-3c0e-4f55-9a43-6a1c2b1e9d30")


def stable_id(*parts: str) -> str:
    """A GUID that depends only on ``parts`` (case-insensitively)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(p.lower() for p in parts)))


@dataclass(frozen=True)
class FeedEntry:
    feed: Feed
    feed_id: str
    project_id: str | None

    @property
    def name(self) -> str:
        return self.feed.name

    @property
    def project(self) -> str | None:
        return self.feed.project


class FeedCatalog:
    def __init__(self, organization: str, feeds: Iterable[Feed]) -> None:
        self.organization = organization
        self._entries: list[FeedEntry] = []
        self._projects: dict[str, str] = {}  # lower-case name -> canonical name
        seen: set[tuple[str, str]] = set()
        for feed in feeds:
            key = ((feed.project or "").lower(), feed.name.lower())
            if key in seen:
                raise ValueError(f"duplicate feed: {feed}")
            seen.add(key)
            project_id = None
            if feed.project is not None:
                known = self._projects.setdefault(feed.project.lower(), feed.project)
                project_id = stable_id(organization, "project", known)
            feed_id = stable_id(organization, "feed", feed.project or "", feed.name)
            self._entries.append(FeedEntry(feed, feed_id, project_id))

    @property
    def entries(self) -> list[FeedEntry]:
        return list(self._entries)

    def project_name(self, ref: str) -> str | None:
        """Canonical name of the project named or identified by ``ref``."""
        lowered = ref.lower()
        for name in self._projects.values():
            if name.lower() == lowered or stable_id(self.organization, "project", name) == lowered:
                return name
        return None

    def project_id(self, ref: str) -> str | None:
        """Id of the project named or identified by ``ref``."""
        name = self.project_name(ref)
        return None if name is None else stable_id(self.organization, "project", name)

    def find(self, feed_ref: str, project_ref: str | None) -> FeedEntry | None:
        """The feed ``feed_ref`` (name or id) in ``project_ref`` (None: organization scope)."""
        project = None
        if project_ref is not None:
            project = self.project_name(project_ref)
            if project is None:
                return None
        lowered = feed_ref.lower()
        for entry in self._entries:
            if (entry.project or "").lower() != (project or "").lower():
                continue
            if entry.name.lower() == lowered or entry.feed_id == lowered:
                return entry
        return None

    def feed_ids_payload(
        self, visible: Callable[[FeedEntry], bool] = lambda entry: True
    ) -> dict[str, Any]:
        """Body of ``GET _apis/packaging/feedids`` (the task's feed picker): the visible feeds."""
        value: list[dict[str, Any]] = []
        for entry in self._entries:
            if not visible(entry):
                continue
            item: dict[str, Any] = {"id": entry.feed_id, "name": entry.name}
            if entry.project is not None:
                item["projectName"] = entry.project
                item["projectId"] = entry.project_id
            value.append(item)
        return {"count": len(value), "value": value}
