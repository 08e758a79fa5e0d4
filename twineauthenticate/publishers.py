"""What the run gives later steps besides ``.pypirc``: outputs, netrc, poetry, summary.

:func:`prepare` checks everything before any file is written; :func:`write` writes
the netrc file (with ``configurePublishers``) and the summary into the task's
private folder; :func:`announce` sets the variables, attaches the summary and logs
the commands. The files written are recorded for the post-job step.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import outputs, summary
from ._files import FOLDER, private_dir, remove_quietly
from ._record import dataclass
from .agent import Agent
from .exceptions import TaskError
from .pypirc import earlier_record
from .repository import Repository

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:  # pragma: no cover
    from . import netrcfile  # imported on use: only configurePublishers needs it
    from .pypirc import Written

INPUT = "configurePublishers"


@dataclass(frozen=True)
class Prepared:
    enabled: bool
    repositories: tuple[Repository, ...]
    netrc: netrcfile.Plan | None
    poetry: tuple[tuple[Repository, str, str], ...]
    summary: str


@dataclass(frozen=True)
class Files:
    """What this run wrote besides ``.pypirc``, as recorded for the post-job step."""

    folder: str  # a private folder made for these files alone ("" when none)
    files: tuple[tuple[str, str], ...]  # (path, identity), the earlier runs' included
    netrc: str  # path of the netrc file ("" when none)
    summary: str  # path of the summary ("" when none)


def enabled(agent: Agent) -> bool:
    return agent.get_input(INPUT).lower() == "true"


def prepare(agent: Agent, repositories: Sequence[Repository], has_folder: bool) -> Prepared:
    """Every refusal comes from here, before anything is written."""
    on = enabled(agent)
    if on and not has_folder and not agent.get_variable("Agent.TempDirectory"):
        raise TaskError("Error_NoTempDirectory")
    plan = None
    if on:
        from . import netrcfile

        plan = netrcfile.plan(agent, repositories)
    poetry = tuple(outputs.poetry_variables(agent, repositories)) if on else ()
    names = {repo.name: name for repo, name, _variable in poetry}
    text = summary.render(agent, repositories, names, on)
    return Prepared(on, tuple(repositories), plan, poetry, text)


def _folder(agent: Agent, folder: str, earlier: dict[str, str]) -> tuple[Path | None, str]:
    """Where the files go: the task's folder of ``.pypirc``, else a private folder of
    an earlier run or a new one; (folder, the folder made for them alone)."""
    if folder:
        return Path(folder), ""
    made = earlier.get("files_dir", "")
    if made and Path(made).is_dir() and not Path(made).is_symlink():
        return Path(made), made
    temp = agent.get_variable("Agent.TempDirectory")
    if not temp:
        return None, ""
    created = private_dir(Path(temp) / FOLDER)
    return created, str(created)


def _earlier_files(earlier: dict[str, str]) -> list[tuple[str, str]]:
    import json

    try:
        items = json.loads(earlier.get("files", "[]"))
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [
        (str(i[0]), str(i[1]))
        for i in items
        if isinstance(i, list) and len(i) == 2 and all(isinstance(v, str) for v in i)
    ]


def write(agent: Agent, prepared: Prepared, pypirc_written: Written, folder: str) -> Files:
    """Write the netrc file and the summary. When that fails, what this run wrote goes,
    the ``.pypirc`` it created too, so that a failed run leaves no credential behind."""
    try:
        return _write(agent, prepared, folder, earlier_record(agent))
    except TaskError:
        if pypirc_written.created_dir is not None:
            remove_quietly(pypirc_written.path)
            try:
                pypirc_written.created_dir.rmdir()
            except OSError:
                pass
        raise


def _write(agent: Agent, prepared: Prepared, folder: str, earlier: dict[str, str]) -> Files:
    written: list[tuple[Path, str]] = []
    where = Path(folder)
    target: Path | None = None
    made = ""
    try:
        target, made = _folder(agent, folder, earlier)
        if target is None:  # a local run with neither PYPIRC_PATH's folder nor a temp dir
            return Files("", (), "", "")
        where = target
        netrc_path = ""
        if prepared.netrc is not None:
            from . import netrcfile

            written.append(netrcfile.write(target, prepared.netrc))
            netrc_path = str(written[-1][0])
        written.append(summary.write(target, prepared.summary))
    except OSError as exc:
        _undo(written, made)
        raise TaskError("Error_FileWriteFailed", where, exc.strerror or str(exc)) from None
    except TaskError:
        _undo(written, made)
        raise
    paths = {str(p) for p, _ in written}
    files = [f for f in _earlier_files(earlier) if f[0] not in paths]
    files += [(str(p), identity) for p, identity in written]
    return Files(made, tuple(files), netrc_path, str(written[-1][0]))


def _undo(written: list[tuple[Path, str]], made: str) -> None:
    for path, _identity in written:
        remove_quietly(path)
    if made:
        try:
            Path(made).rmdir()
        except OSError:
            pass


def record(files: Files) -> dict[str, str]:
    """The keys this module adds to the job's record (``pypirc.STATE_VARIABLE``)."""
    import json

    return {"files": json.dumps([list(f) for f in files.files]), "files_dir": files.folder}


def announce(agent: Agent, prepared: Prepared, files: Files) -> None:
    """Set the variables, attach the summary and log the commands of each repository."""
    outputs.set_outputs(agent, prepared.repositories)
    if prepared.enabled:
        outputs.set_publisher_variables(agent, prepared.poetry, files.netrc)
        assert prepared.netrc is not None
        served = set(prepared.netrc.served)
        names = {repo.name: name for repo, name, _variable in prepared.poetry}
        for repo in prepared.repositories:
            if repo.name not in served:
                continue
            agent.info(agent.loc("Info_PublishCommands", repo.name))
            for line in summary.commands(agent, repo, names.get(repo.name), True)[1:]:
                agent.info("    " + line)
        agent.info(agent.loc("Info_NetrcWritten", files.netrc, len(prepared.netrc.entries)))
        if prepared.netrc.user_file:
            agent.info(
                agent.loc("Info_NetrcKept", len(prepared.netrc.kept), prepared.netrc.user_file)
            )
    elif prepared.repositories:
        agent.info(agent.loc("Info_PublishersHint", INPUT))
    if files.summary:
        agent.command("task.uploadsummary", None, files.summary)
