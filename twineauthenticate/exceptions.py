"""User-facing errors.

Every failure the user can act on is a :class:`TaskError` that names a message of
``task.json`` and its arguments; the task prints it once, localized, as the
reason of the failed run. An argument that is a piece of the sentence (a reason,
an origin) is a :class:`~twineauthenticate._messages.Msg`, localized with it.
Arguments never hold a secret.
"""

from __future__ import annotations

from ._messages import Msg


class TaskError(Exception):
    """A failure with a message from ``task.json`` that says what to change."""

    def __init__(self, key: str, *args: object) -> None:
        super().__init__(key, *args)
        self.key = key
        self.args_ = args

    @property
    def message(self) -> Msg:
        """The failure as a message to localize."""
        return Msg(self.key, *self.args_)

    def __str__(self) -> str:
        return f"{self.key}: " + ", ".join(str(a) for a in self.args_)
