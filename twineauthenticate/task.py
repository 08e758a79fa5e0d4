"""One run of the task: environment → inputs → repositories → ``.pypirc`` → ``PYPIRC_PATH``."""

from __future__ import annotations

import json

from . import publishers, pypirc
from ._messages import Msg
from .agent import Agent
from .connections import connection_repository, connection_secrets
from .exceptions import TaskError
from .inputs import UPLOAD_CONNECTION, read_inputs, split_list
from .repository import Repository

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:  # pragma: no cover
    from ._http import HttpClient


def register_secrets(agent: Agent) -> None:
    """Register every secret the run can touch, before anything else is printed."""
    agent.set_secret(agent.build_token())
    for connection in split_list(agent.get_input(UPLOAD_CONNECTION)):
        auth = agent.get_endpoint_auth(connection)
        for secret in connection_secrets(auth) if auth else ():
            agent.set_secret(secret)
    agent.set_secret(agent.get_variable("Agent.ProxyPassword"))


def _http(agent: Agent) -> HttpClient:
    from ._http import HttpClient

    return HttpClient(agent)


def collect(agent: Agent) -> list[Repository]:
    """Every repository the inputs name: feeds, then connections, then the federated feed."""
    inputs = read_inputs(agent)
    # Connections need no network: check them first, so a typo fails fast.
    connections = [connection_repository(agent, c) for c in inputs.connections]
    token = agent.build_token()
    names = [(f.name, Msg("Origin_Feed", f.display)) for f in inputs.feeds]
    names += [(r.name, r.origin) for r in connections]
    if inputs.federation:
        from .federation import check

        checked = check(agent, inputs.federation, token)  # no network: the URL, the connection
        names.append((checked.name, Msg("Origin_FeedUrl", inputs.federation.feed_url)))
    # Names twine cannot use, and duplicates, fail before any request or token exchange.
    pypirc.check_names(names)
    repositories: list[Repository] = []
    http = _http(agent) if inputs.feeds or inputs.federation else None
    if inputs.feeds:
        from .feeds import resolve_feeds

        if not token:
            raise TaskError("Error_NoBuildToken", ", ".join(f"'{f.display}'" for f in inputs.feeds))
        assert http is not None
        repositories += resolve_feeds(agent, http, inputs.feeds, token)
    repositories += connections
    if inputs.federation:
        from .federation import federated_repository

        assert http is not None
        repositories.append(federated_repository(agent, http, inputs.federation, token))
    return repositories


def _folder_of_earlier_run(agent: Agent, path: str) -> str:
    """The private folder an earlier run of the job made for ``path`` (which this run
    rewrote in place), so that the post-job step still removes it."""
    record = pypirc.earlier_record(agent)
    return record.get("dir", "") if record.get("path") == path else ""


def run(agent: Agent) -> bool:
    """Run the task; report the result with ``task.complete``. True when it succeeded."""
    try:
        register_secrets(agent)
        target = pypirc.plan_target(agent)
        repositories = collect(agent)
        pypirc.check_repositories(repositories)
        prepared = publishers.prepare(agent, repositories, target.explicit is None)
        written = pypirc.write(target, pypirc.render(repositories), repositories)
        folder = str(written.created_dir or "") or _folder_of_earlier_run(agent, str(written.path))
        files = publishers.write(agent, prepared, written, folder)
        agent.set_variable("PYPIRC_PATH", str(written.path))
        state = {"path": str(written.path), "dir": folder, "id": written.identity}
        state.update(publishers.record(files))
        agent.set_variable(pypirc.STATE_VARIABLE, json.dumps(state))
        publishers.announce(agent, prepared, files)
        for repo in repositories:
            agent.info(agent.loc("Info_Repository", repo.name, repo.origin, repo.name))
        if not repositories:
            agent.warning(agent.loc("Warn_NothingConfigured"))
        counts = {
            kind: sum(r.kind == kind for r in repositories)
            for kind in ("feed", "connection", "federated")
        }
        agent.info(
            agent.loc(
                "Info_Summary",
                written.path,
                counts["feed"],
                counts["connection"],
                counts["federated"],
            )
        )
        agent.complete(True)
        return True
    except TaskError as exc:
        message = agent.loc(exc.key, *exc.args_)
    except Exception as exc:  # one clear line instead of a stack trace
        import traceback  # only on this path: it is slow to import

        agent.debug(traceback.format_exc())
        message = agent.loc("Error_Unexpected", f"{type(exc).__name__}: {exc}")
    agent.error(message)
    agent.complete(False, message)
    return False
