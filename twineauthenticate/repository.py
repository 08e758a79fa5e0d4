"""One repository entry of ``.pypirc``: what twine needs to upload to one source."""

from __future__ import annotations

from ._messages import Msg
from ._record import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import Literal

    Kind = Literal["feed", "connection", "federated"]


@dataclass(frozen=True)
class Repository:
    """A ``.pypirc`` section: the name twine selects with ``-r``, URL and credentials."""

    name: str
    url: str
    username: str
    password: str
    kind: Kind
    origin: Msg  # what the user wrote to get it (Origin_*), for messages (never a secret)

    def __repr__(self) -> str:  # never show the password, even by accident
        return (
            f"Repository(name={self.name!r}, url={self.url!r}, username={self.username!r}, "
            f"password='***', kind={self.kind!r}, origin={self.origin!r})"
        )
