"""The post-job step: remove the files this task wrote, and nothing else."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from ._messages import Msg
from .agent import Agent
from .pypirc import FILE_NAME, FOLDER, earlier_record, file_identity

NETRC_FILE = ".netrc"  # netrcfile.FILE_NAME, without importing the task's modules


def _written_by_task(agent: Agent, path: Path, info: os.stat_result) -> tuple[bool, Path | None]:
    """Whether the task wrote ``path`` (and the folder it created for it)."""
    state = earlier_record(agent)
    if state.get("path") == str(path):
        same = state.get("id") == file_identity(info)
        folder = Path(state["dir"]) if same and state.get("dir") else None
        return same, folder
    # No record (a local run): only the task's own layout counts, and never through a
    # link (a linked folder would lead to someone else's .pypirc).
    temp = agent.get_variable("Agent.TempDirectory")
    folder = path.parent
    if (
        temp
        and path.name == FILE_NAME
        and folder.parent == Path(temp) / FOLDER
        and not folder.is_symlink()
        and not folder.parent.is_symlink()
    ):
        return True, folder
    return False, None


def _recorded_files(agent: Agent) -> list[tuple[Path, str]]:
    """The other files of the job's record (netrc, summaries): (path, identity)."""
    try:
        items = json.loads(earlier_record(agent).get("files", "[]"))
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [
        (Path(i[0]), i[1])
        for i in items
        if isinstance(i, list) and len(i) == 2 and all(isinstance(v, str) for v in i)
    ]


def _remove_other_files(agent: Agent) -> None:
    """Delete each recorded file that is still the regular file the task wrote (never
    through a link: a linked folder on the way counts as a link), then the folder
    made for them alone when it is empty."""
    record = earlier_record(agent)
    folders = {record.get("dir", ""), record.get("files_dir", "")} - {""}
    for path, identity in _recorded_files(agent):
        try:
            info = path.lstat()
        except OSError:
            continue
        if (
            not stat.S_ISREG(info.st_mode)
            or file_identity(info) != identity
            or str(path.parent) not in folders
            or path.parent.is_symlink()
        ):
            agent.warning(agent.loc("Warn_CleanupSkippedFile", path))
            continue
        try:
            path.unlink()
        except OSError:
            agent.warning(agent.loc("Warn_CleanupSkippedFile", path))
            continue
        if path.name == NETRC_FILE:  # a credentials file: say so, as for .pypirc
            agent.info(agent.loc("Info_CleanupRemovedFile", path))
        else:  # the summary
            agent.debug(agent.loc("Info_CleanupRemovedFile", path))
    folder = record.get("files_dir", "")
    if folder and not Path(folder).is_symlink():
        try:
            Path(folder).rmdir()  # only when empty
        except OSError:
            pass


def cleanup(agent: Agent) -> bool:
    """Delete the files the task wrote: the one ``PYPIRC_PATH`` names when it is the
    regular file the task wrote, and the other files the job's record lists."""
    _remove_other_files(agent)
    return _cleanup_pypirc(agent)


def _cleanup_pypirc(agent: Agent) -> bool:
    try:
        raw = agent.get_variable("PYPIRC_PATH")
        if not raw:
            agent.info(agent.loc("Info_CleanupNothing", Msg("Reason_CleanupUnset")))
            agent.complete(True)
            return True
        path = Path(raw)
        try:
            info = path.lstat()
        except FileNotFoundError:
            agent.info(agent.loc("Info_CleanupNothing", Msg("Reason_CleanupMissing", path)))
            agent.complete(True)
            return True
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            agent.warning(agent.loc("Warn_CleanupSkipped", path, Msg("Reason_CleanupNotFile")))
            agent.complete(True)
            return True
        ours, folder = _written_by_task(agent, path, info)
        if not ours:
            agent.warning(agent.loc("Warn_CleanupSkipped", path, Msg("Reason_CleanupNotOurs")))
            agent.complete(True)
            return True
        path.unlink()
        if folder is not None and folder == path.parent and not folder.is_symlink():
            try:
                folder.rmdir()  # only when empty: nothing else is ever deleted
            except OSError:
                pass
        agent.info(agent.loc("Info_CleanupRemoved", path))
        agent.complete(True)
        return True
    except OSError as exc:
        message = agent.loc(
            "Warn_CleanupSkipped", agent.get_variable("PYPIRC_PATH"), exc.strerror or exc
        )
        agent.warning(message)
        agent.complete(True)
        return True
