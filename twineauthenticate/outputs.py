"""The variables a later step sees: output variables, and what uv, poetry and pip read.

Output variables are always set (non-secret, ``isOutput=true``), so that a later
step can use ``$(stepName.variable)``. The variables that change what other tools
do (``NETRC``, ``POETRY_REPOSITORIES_<NAME>_URL``) are set only when the input
``configurePublishers`` is on. Variables that would break commands that work today
(``TWINE_REPOSITORY_URL``, ``TWINE_USERNAME``/``TWINE_PASSWORD``, ``UV_PUBLISH_URL``,
``UV_PUBLISH_CHECK_URL``, ``FLIT_INDEX_URL``) are never set.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from .agent import Agent
from .repository import Repository

# Of the step's first repository (the only one, in most steps).
REPOSITORY_NAME = "repositoryName"
UPLOAD_URL = "uploadUrl"
SIMPLE_URL = "simpleUrl"
REPOSITORY_NAMES = "repositoryNames"  # every repository, separated by spaces
# Of each repository: "<key>_uploadUrl", "<key>_simpleUrl", see output_key().
PER_REPOSITORY = (UPLOAD_URL, SIMPLE_URL)
NETRC = "NETRC"
NEVER_SET = frozenset(
    {
        "TWINE_REPOSITORY_URL",
        "TWINE_USERNAME",
        "TWINE_PASSWORD",
        "UV_PUBLISH_URL",
        "UV_PUBLISH_CHECK_URL",
        "FLIT_INDEX_URL",
    }
)
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_POETRY_CHARS = _KEY_CHARS | {".", "-"}
_PYPI_SIMPLE = {
    "upload.pypi.org": "https://pypi.org/simple/",
    "test.pypi.org": "https://test.pypi.org/simple/",
}


def simple_url(upload_url: str) -> str:
    """The simple index (PEP 503) of a repository, from its upload URL; ``""`` when unknown.

    Azure Artifacts: ``.../pypi/upload`` → ``.../pypi/simple/``; PyPI and TestPyPI:
    their index; a server whose upload URL is its root (pypiserver): ``/simple/``.
    """
    parts = urlsplit(upload_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    path = parts.path.rstrip("/")
    host = (parts.hostname or "").lower()
    if path.endswith("/upload"):
        return urlunsplit((parts.scheme, parts.netloc, path[: -len("upload")] + "simple/", "", ""))
    if path == "/legacy" and host in _PYPI_SIMPLE:
        return _PYPI_SIMPLE[host]
    if not path:
        return urlunsplit((parts.scheme, parts.netloc, "/simple/", "", ""))
    return ""


def output_key(name: str) -> str:
    """The prefix of a repository's own output variables: its name, every character
    other than a letter, digit or ``_`` replaced by ``_`` (variable names allow no more)."""
    return "".join(c if c in _KEY_CHARS else "_" for c in name)


def poetry_name(name: str) -> str | None:
    """What to pass to ``poetry publish -r`` for a repository, or ``None`` when poetry
    cannot be given it by an environment variable.

    poetry looks ``-r NAME`` up as ``POETRY_REPOSITORIES_<NAME upper-cased, '-' → '_'>_URL``
    and keeps dots, while the agent turns the dots of a variable name into ``_``: so a
    dot becomes ``-``.
    """
    if not name or any(c not in _POETRY_CHARS for c in name):
        return None
    return name.replace(".", "-")


def poetry_variable(name: str) -> str:
    """The variable poetry reads for ``poetry publish -r poetry_name(name)``."""
    return "POETRY_REPOSITORIES_" + name.upper().replace("-", "_").replace(".", "_") + "_URL"


def _holds_secret(agent: Agent, *values: str) -> bool:
    return any(agent.mask(value) != value for value in values)


def _public(agent: Agent, repo: Repository) -> bool:
    """Whether the repository's name and URL may be set in plain variables (no secret)."""
    if _holds_secret(agent, repo.name, repo.url):
        agent.warning(agent.loc("Warn_OutputHasSecret", repo.name))
        return False
    return True


def set_outputs(agent: Agent, repositories: Sequence[Repository]) -> None:
    """The output variables of the step (always set, never a secret)."""
    public = [repo for repo in repositories if _public(agent, repo)]
    if public:
        first = public[0]
        agent.set_variable(REPOSITORY_NAME, first.name, output=True)
        agent.set_variable(UPLOAD_URL, first.url, output=True)
        agent.set_variable(SIMPLE_URL, simple_url(first.url), output=True)
    agent.set_variable(REPOSITORY_NAMES, " ".join(r.name for r in public), output=True)
    taken: dict[str, str] = {}  # variable names are case-insensitive
    for repo in public:
        key = output_key(repo.name)
        if _holds_secret(agent, key):  # a secret made up by the replaced characters
            continue
        other = taken.setdefault(key.lower(), repo.name)
        if other != repo.name:
            agent.warning(agent.loc("Warn_OutputNameTaken", repo.name, other, key))
            continue
        agent.set_variable(f"{key}_{UPLOAD_URL}", repo.url, output=True)
        agent.set_variable(f"{key}_{SIMPLE_URL}", simple_url(repo.url), output=True)


def poetry_variables(
    agent: Agent, repositories: Sequence[Repository]
) -> list[tuple[Repository, str, str]]:
    """(repository, poetry's name for it, variable) for each repository poetry can use;
    a warning for the others."""
    out: list[tuple[Repository, str, str]] = []
    taken: dict[str, str] = {}
    for repo in repositories:
        name = poetry_name(repo.name)
        if name is None:
            agent.warning(agent.loc("Warn_PoetryNameUnusable", repo.name))
            continue
        variable = poetry_variable(repo.name)
        other = taken.setdefault(variable, repo.name)
        if other != repo.name:
            agent.warning(agent.loc("Warn_PoetryNameTaken", repo.name, other, variable))
            continue
        if _holds_secret(agent, repo.name, repo.url, variable):
            continue  # warned about by set_outputs
        out.append((repo, name, variable))
    return out


def set_publisher_variables(
    agent: Agent, poetry: Sequence[tuple[Repository, str, str]], netrc_path: str
) -> None:
    """``NETRC`` and poetry's repository URLs, for the later steps (configurePublishers)."""
    agent.set_variable(NETRC, netrc_path)
    for repo, _name, variable in poetry:
        assert variable not in NEVER_SET
        agent.set_variable(variable, repo.url)
