"""What the build identity may do with each feed: nothing, read, or read and publish.

Azure Artifacts grants roles per feed (Feed Reader, Feed Publisher...); the
emulator keeps one level per feed for its one identity. A feed the identity
may not read answers 403 on every route (Feed Management, simple index,
downloads, uploads) and is left out of feed lists; a feed it may only read
answers 403 on upload, with the permission Azure names in its message.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ._catalog import FeedCatalog, FeedEntry
from ._errors import FEED_WEBAPI, vss_error
from ._http import Response

NONE = "none"
READ = "read"
PUBLISH = "publish"
LEVELS = (NONE, READ, PUBLISH)

READ_PACKAGES = "ReadPackages"
ADD_PACKAGE = "AddPackage"


def check_level(level: str) -> str:
    """``level`` in canonical (lower-case) form; ValueError for an unknown one."""
    canonical = level.strip().lower()
    if canonical not in LEVELS:
        raise ValueError(f"permission level must be one of {', '.join(LEVELS)}, not {level!r}")
    return canonical


def split_feed_key(key: str) -> tuple[str | None, str]:
    """``'project/feed'`` or ``'feed'`` as (project or None, feed)."""
    project, sep, feed = key.partition("/")
    if not sep:
        return None, key
    if not project or not feed or "/" in feed:
        raise ValueError(f"expected FEED or PROJECT/FEED, not {key!r}")
    return project, feed


def needs_permission(identity_id: str, permission: str) -> Response:
    """Azure Artifacts' 403 for an identity that lacks ``permission`` on a feed."""
    message = (
        f"User '{identity_id}' lacks permission to complete this action. "
        f"You need to have '{permission}'."
    )
    return vss_error(
        403,
        message,
        "FeedNeedsPermissionsException",
        reason=f"Forbidden - {message}",
        namespace=FEED_WEBAPI,
    )


class FeedPermissions:
    """The identity's level on each feed (``publish`` unless set otherwise)."""

    def __init__(self, catalog: FeedCatalog, identity_id: str) -> None:
        self._catalog = catalog
        self.identity_id = identity_id
        self._lock = threading.Lock()
        self._levels: dict[str, str] = {}  # feed id -> level

    def resolve(self, feed: str, project: str | None) -> FeedEntry:
        entry = self._catalog.find(feed, project)
        if entry is None:
            scope = f" in project {project!r}" if project else ""
            raise ValueError(f"permission for an unknown feed: {feed!r}{scope}")
        return entry

    def set(self, feed: str, level: str, project: str | None = None) -> None:
        canonical = check_level(level)
        entry = self.resolve(feed, project)
        with self._lock:
            self._levels[entry.feed_id] = canonical

    def set_all(self, levels: Mapping[str, str]) -> None:
        """Levels keyed ``feed`` or ``project/feed`` (names or ids, any case)."""
        for key, level in levels.items():
            project, feed = split_feed_key(key)
            self.set(feed, level, project)

    def level(self, entry: FeedEntry) -> str:
        with self._lock:
            return self._levels.get(entry.feed_id, PUBLISH)

    def can_read(self, entry: FeedEntry) -> bool:
        return self.level(entry) != NONE

    def refusal(self, entry: FeedEntry, *, publish: bool = False) -> Response | None:
        """The 403 for reading (or, with ``publish``, adding to) ``entry``, or None if allowed."""
        level = self.level(entry)
        if level == NONE:
            return needs_permission(self.identity_id, READ_PACKAGES)
        if publish and level != PUBLISH:
            return needs_permission(self.identity_id, ADD_PACKAGE)
        return None
