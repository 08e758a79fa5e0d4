"""Mistakes a Python upload service connection shows by its URL and token alone.

No request: a run with service connections only stays off the network.

- An Azure Artifacts package index (``…/_packaging/{feed}/pypi/simple/``) takes
  no upload, and twine's error then says little (a 405 or 404): the step fails
  with the upload URL to put in the connection instead.
- PyPI (``upload.pypi.org``, ``test.pypi.org``) takes API tokens only, and they
  start with ``pypi-``: anything else gets a warning (PyPI will refuse it).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .agent import Agent
from .exceptions import TaskError
from .repository import Repository

PYPI_HOSTS = ("upload.pypi.org", "test.pypi.org")
PYPI_TOKEN_PREFIX = "pypi-"
_INDEX = re.compile(r"^(?P<feed>.*/_packaging/[^/]+/pypi/)simple(?:/.*)?$", re.IGNORECASE)


def upload_url_for_index(url: str) -> str:
    """The upload URL of an Azure Artifacts simple index URL; ``""`` for any other URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    match = _INDEX.match(parts.path)
    if match is None or not parts.hostname:
        return ""
    return parts._replace(path=match.group("feed") + "upload/", query="", fragment="").geturl()


def check_connection(agent: Agent, repository: Repository, label: str) -> None:
    """Fail for an index URL; warn for a PyPI token that is not one."""
    upload = upload_url_for_index(repository.url)
    if upload:
        raise TaskError("Error_ConnectionIsIndex", label, repository.url, upload)
    try:
        host = (urlsplit(repository.url.strip()).hostname or "").lower()
    except ValueError:
        return
    if host in PYPI_HOSTS and not repository.password.startswith(PYPI_TOKEN_PREFIX):
        agent.warning(agent.loc("Warn_PypiTokenForm", label, host))
