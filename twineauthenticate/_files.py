"""The task's private files: a 0700 folder, and atomic 0600 writes that are read back.

Shared by every file the task writes (``.pypirc``, the netrc file, the run's
summary), so that each format module only renders its text and says how to read
it back.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._messages import Msg
from .exceptions import TaskError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

FOLDER = "twineAuthenticate"  # under Agent.TempDirectory

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def file_identity(info: os.stat_result) -> str:
    """What tells a file the task wrote from any later file at the same path.

    The inode number alone is not enough: a file created after ours was deleted
    may get the same one.
    """
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def random_name(length: int) -> str:
    """``length`` characters of ``_ALPHABET`` drawn uniformly from the OS's CSPRNG, as
    ``secrets.choice`` draws them (``secrets`` itself is slow to import)."""
    limit = 256 - 256 % len(_ALPHABET)  # bytes at or above it would bias the choice
    chars: list[str] = []
    while len(chars) < length:
        chars += (_ALPHABET[b % len(_ALPHABET)] for b in os.urandom(length) if b < limit)
    return "".join(chars[:length])


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each 0700 (a umask only removes bits),
    so that no folder the task creates on the way is writable by others."""
    missing: list[Path] = []
    while not path.exists() and not path.is_symlink() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)


def private_dir(base: Path) -> Path:
    """A new folder ``base/<6 random characters>``, mode 0700 whatever the umask."""
    make_private_dirs(base)
    for _ in range(100):
        candidate = base / random_name(6)
        try:
            candidate.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(candidate, 0o700)  # whatever the umask
        return candidate
    raise TaskError("Error_WriteFailed", base, Msg("Reason_NoFreeFolder"))


def write_atomic(
    path: Path, data: bytes, check: Callable[[Path], None], link_error: TaskError
) -> str:
    """Write ``data`` to ``path`` atomically, mode 0600; return the file's identity.

    The bytes go to a temporary file in the destination's folder, opened with
    ``O_EXCL | O_NOFOLLOW``; ``check`` reads that file back (it raises a
    :class:`TaskError` to refuse it); then it is renamed over the destination, which
    is never a link (``link_error`` is raised when it is). On any failure the
    temporary file is removed and an existing file at ``path`` is left as it was.
    Raises :class:`OSError` for the file system's errors.
    """
    tmp: Path | None = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
    assert tmp is not None
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # whatever the umask
            # No fsync: a per-job temporary file need not survive a crash of the
            # machine, and the rename alone keeps readers from a half-written one.
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        check(tmp)
        if path.is_symlink():
            raise link_error
        os.replace(tmp, path)  # never follows a link at the destination
        tmp = None
        return file_identity(path.lstat())
    finally:
        if tmp is not None:
            try:
                tmp.unlink()
            except OSError:
                pass


def remove_quietly(path: Path) -> None:
    """Remove a file this run wrote (never a folder; a link is removed, not followed)."""
    try:
        path.unlink()
    except OSError:
        pass
