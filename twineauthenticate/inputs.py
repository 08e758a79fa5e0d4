"""The task's inputs, read once from the agent and checked."""

from __future__ import annotations

from ._record import dataclass
from .agent import Agent
from .exceptions import TaskError

ARTIFACT_FEED = "artifactFeed"
UPLOAD_CONNECTION = "pythonUploadServiceConnection"
WIF_CONNECTION = "workloadIdentityServiceConnection"
WIF_CONNECTION_ALIAS = "azureDevOpsServiceConnection"
FEED_URL = "feedUrl"


@dataclass(frozen=True)
class FeedRef:
    """A feed of the organization: ``feed`` or ``project/feed``."""

    name: str
    project: str = ""

    @property
    def display(self) -> str:
        return f"{self.project}/{self.name}" if self.project else self.name


@dataclass(frozen=True)
class Federation:
    """A workload identity federation connection and the feed it publishes to."""

    connection: str
    feed_url: str


@dataclass(frozen=True)
class TaskInputs:
    feeds: tuple[FeedRef, ...] = ()
    connections: tuple[str, ...] = ()
    federation: Federation | None = None

    @property
    def empty(self) -> bool:
        return not (self.feeds or self.connections or self.federation)


def split_list(value: str) -> list[str]:
    """Items of a comma-separated input, trimmed, empty ones and repeats dropped."""
    items = (item.strip() for item in value.split(","))
    return list(dict.fromkeys(item for item in items if item))


def parse_feed(value: str) -> FeedRef:
    parts = value.split("/")
    if len(parts) == 1:
        return FeedRef(parts[0])
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return FeedRef(parts[1].strip(), parts[0].strip())
    raise TaskError("Error_InvalidFeed", value)


def read_inputs(agent: Agent) -> TaskInputs:
    """Read and check every input of the task."""
    feeds = tuple(parse_feed(item) for item in split_list(agent.get_input(ARTIFACT_FEED)))
    connections = tuple(split_list(agent.get_input(UPLOAD_CONNECTION)))
    wif = agent.get_input(WIF_CONNECTION) or agent.get_input(WIF_CONNECTION_ALIAS)
    feed_url = agent.get_input(FEED_URL)
    federation = None
    if wif and not feed_url:
        raise TaskError("Error_WifIncomplete", WIF_CONNECTION_ALIAS, FEED_URL)
    if feed_url and not wif:
        raise TaskError("Error_WifIncomplete", FEED_URL, WIF_CONNECTION_ALIAS)
    if wif:
        federation = Federation(wif, feed_url)
    return TaskInputs(feeds, connections, federation)
