"""The post-job step: remove the credentials file this task wrote, and nothing else."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ._messages import Msg
from .agent import Agent
from .pypirc import FILE_NAME, FOLDER, earlier_record, file_identity


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


def cleanup(agent: Agent) -> bool:
    """Delete the file named by ``PYPIRC_PATH`` when it is the regular file the task wrote."""
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
