"""Files uploaded to the emulator's feeds, kept on disk.

Layout: ``<root>/<project or _org>/<feed>/<normalized package name>/<file name>``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ._catalog import FeedEntry

ORG_SCOPE_DIR = "_org"
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip", ".egg", ".tar.bz2")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!~-]*")


def normalize_name(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def valid_filename(filename: str) -> bool:
    return (
        len(filename) <= 255
        and _FILENAME.fullmatch(filename) is not None
        and ".." not in filename
        and filename.lower().endswith(DIST_SUFFIXES)
    )


def filename_project(filename: str) -> str:
    """The project-name part of a distribution file name (before the version)."""
    lowered = filename.lower()
    for suffix in DIST_SUFFIXES:
        if lowered.endswith(suffix):
            stem = filename[: -len(suffix)]
            break
    else:
        stem = filename
    if lowered.endswith((".whl", ".egg")):
        return stem.split("-", 1)[0]
    return stem.rsplit("-", 1)[0]


@dataclass(frozen=True)
class StoredFile:
    filename: str
    path: Path
    sha256: str


class PackageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._digests: dict[Path, tuple[int, int, str]] = {}

    def feed_dir(self, entry: FeedEntry) -> Path:
        return self.root / (entry.project or ORG_SCOPE_DIR) / entry.name

    def add(self, entry: FeedEntry, package: str, filename: str, content: bytes) -> bool:
        """Store a file; False (and nothing written) when the file name already exists."""
        directory = self.feed_dir(entry) / normalize_name(package)
        target = directory / filename
        with self._lock:
            if self._find(self.feed_dir(entry), filename) is not None:
                return False
            directory.mkdir(parents=True, exist_ok=True)
            handle, temp_name = tempfile.mkstemp(dir=directory, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(content)
                os.replace(temp_name, target)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise
        return True

    @staticmethod
    def _find(feed_dir: Path, filename: str) -> Path | None:
        # A file name is unique within a feed, whatever package it was uploaded to.
        if not feed_dir.is_dir():
            return None
        lowered = filename.lower()
        for package_dir in feed_dir.iterdir():
            if not package_dir.is_dir():
                continue
            for candidate in package_dir.iterdir():
                if candidate.name.lower() == lowered:
                    return candidate
        return None

    def packages(self, entry: FeedEntry) -> list[str]:
        """Normalized names of the packages that have at least one file."""
        feed_dir = self.feed_dir(entry)
        if not feed_dir.is_dir():
            return []
        return sorted(
            child.name for child in feed_dir.iterdir() if child.is_dir() and self._names(child)
        )

    def files(self, entry: FeedEntry, package: str) -> list[StoredFile]:
        directory = self.feed_dir(entry) / normalize_name(package)
        return [
            StoredFile(name, directory / name, self._sha256(directory / name))
            for name in self._names(directory)
        ]

    def file(self, entry: FeedEntry, package: str, filename: str) -> Path | None:
        if not valid_filename(filename):
            return None
        path = self.feed_dir(entry) / normalize_name(package) / filename
        return path if path.is_file() else None

    def all_files(self, entry: FeedEntry) -> list[str]:
        feed_dir = self.feed_dir(entry)
        return sorted(
            name for package in self.packages(entry) for name in self._names(feed_dir / package)
        )

    @staticmethod
    def _names(directory: Path) -> list[str]:
        if not directory.is_dir():
            return []
        return sorted(
            child.name
            for child in directory.iterdir()
            if child.is_file() and not child.name.startswith(".")
        )

    def _sha256(self, path: Path) -> str:
        stat = path.stat()
        with self._lock:
            cached = self._digests.get(path)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        value = digest.hexdigest()
        with self._lock:
            self._digests[path] = (stat.st_mtime_ns, stat.st_size, value)
        return value
