"""The agent's side of the contract: a small Python counterpart of the Node task library.

Everything the task reads from the environment the agent builds, and everything it
tells the agent through stdout, goes through :class:`Agent`: inputs, variables,
service connections, the secrets registry, logging commands and localized messages.
"""

from __future__ import annotations

import _thread  # a lock without importing threading (several ms at start-up)
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from . import commands
from ._messages import DEFAULT_CULTURE, load_messages, localize
from ._messages import Msg as Msg  # re-exported
from ._messages import format_message as format_message  # re-exported
from ._record import dataclass, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, TextIO

# task.json and Strings/ sit next to the package, in the repository and in the bundle.
TASK_DIR = Path(__file__).resolve().parent.parent

BUILD_CONNECTION = "SYSTEMVSSCONNECTION"
MASK = "***"


def env_key(name: str) -> str:
    """The environment name the agent gives an input or variable name."""
    return name.replace(".", "_").replace(" ", "_").upper()


@dataclass(frozen=True)
class EndpointAuth:
    """The authorization of a service connection."""

    scheme: str
    parameters: dict[str, str] = field(default_factory=dict)

    def parameter(self, name: str) -> str:
        """A parameter by name, case-insensitively; ``""`` when missing."""
        for key, value in self.parameters.items():
            if key.lower() == name.lower():
                return value
        return ""


class Agent:
    """Reads the task's environment and writes logging commands to stdout."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        stdout: TextIO | None = None,
        task_dir: Path | None = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self._out = stdout if stdout is not None else sys.stdout
        self.task_dir = task_dir or TASK_DIR
        self._secrets: list[str] = []
        self._lock = _thread.allocate_lock()  # requests of one round log from their threads
        self._messages: dict[str, str] | None = None
        self.debug_enabled = self.get_variable("System.Debug").lower() == "true"

    # -- reading ---------------------------------------------------------------------

    def get_input(self, name: str) -> str:
        """An input's value, trimmed; ``""`` when not given."""
        return self.environ.get("INPUT_" + env_key(name), "").strip()

    def get_variable(self, name: str) -> str:
        """A variable's value (public, or secret as ``SECRET_*``); ``""`` when unset."""
        key = env_key(name)
        value = self.environ.get(key)
        if value is None:
            value = self.environ.get("SECRET_" + key, "")
        return value

    def _endpoint_env(self, prefix: str, endpoint_id: str, suffix: str = "") -> str | None:
        for ident in dict.fromkeys((endpoint_id, endpoint_id.upper())):
            value = self.environ.get(f"{prefix}_{ident}{suffix}")
            if value is not None:
                return value
        return None

    def get_endpoint_url(self, endpoint_id: str) -> str | None:
        """The URL of a service connection, or ``None`` when the job has no such connection."""
        return self._endpoint_env("ENDPOINT_URL", endpoint_id)

    def get_endpoint_auth(self, endpoint_id: str) -> EndpointAuth | None:
        """A connection's scheme and parameters, from the auth JSON and the per-key variables."""
        raw = self._endpoint_env("ENDPOINT_AUTH", endpoint_id)
        scheme = ""
        parameters: dict[str, str] = {}
        if raw:
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = {}
            if isinstance(data, dict):
                scheme = str(data.get("scheme") or "")
                params = data.get("parameters")
                if isinstance(params, dict):
                    parameters = {str(k): str(v) for k, v in params.items() if v is not None}
        scheme = self._endpoint_env("ENDPOINT_AUTH_SCHEME", endpoint_id) or scheme
        for ident in dict.fromkeys((endpoint_id, endpoint_id.upper())):
            prefix = f"ENDPOINT_AUTH_PARAMETER_{ident}_"
            for key, value in self.environ.items():
                if key.startswith(prefix) and key[len(prefix) :]:
                    name = key[len(prefix) :]
                    if not any(k.upper() == name for k in parameters):
                        parameters[name.lower()] = value
        if raw is None and not scheme and not parameters:
            return None
        return EndpointAuth(scheme, parameters)

    def get_endpoint_data(self, endpoint_id: str, key: str) -> str:
        """One data parameter of a connection (e.g. ``endpointName``); ``""`` when missing."""
        value = self._endpoint_env("ENDPOINT_DATA", endpoint_id, "_" + key.upper())
        if value is not None:
            return value
        raw = self._endpoint_env("ENDPOINT_DATA", endpoint_id)
        if raw:
            try:
                data: Any = json.loads(raw)
            except ValueError:
                return ""
            if isinstance(data, dict):
                for name, item in data.items():
                    if str(name).lower() == key.lower() and item is not None:
                        return str(item)
        return ""

    def build_token(self) -> str:
        """The job's access token (``SystemVssConnection``), or ``SYSTEM_ACCESSTOKEN`` locally."""
        auth = self.get_endpoint_auth(BUILD_CONNECTION)
        token = auth.parameter("AccessToken") if auth else ""
        return token or self.environ.get("SYSTEM_ACCESSTOKEN", "")

    # -- secrets ---------------------------------------------------------------------

    def set_secret(self, value: str) -> None:
        """Register a secret with the agent so that it masks it in every later line."""
        if not value or value in self._secrets:
            return
        # A new list, longest first (a secret containing another is masked whole),
        # swapped in at once for a thread that is masking a line meanwhile.
        self._secrets = sorted([*self._secrets, value], key=len, reverse=True)
        self._write(commands.format_command("task.setsecret", None, value), mask=False)

    def mask(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``***``.

        Occurrences that overlap are masked as one run, so no part of
        any secret is left showing between two masks.
        """
        spans: list[tuple[int, int]] = []
        for secret in self._secrets:
            start = text.find(secret)
            while start >= 0:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        if not spans:
            return text
        spans.sort()
        out: list[str] = []
        done = 0  # text[:done] is already written or masked
        for start, end in spans:
            if start > done:
                out.append(text[done:start])
            if end > done:
                if start >= done:
                    out.append(MASK)
                done = end
        out.append(text[done:])
        return "".join(out)

    # -- writing ---------------------------------------------------------------------

    def _write(self, line: str, mask: bool = True) -> None:
        with self._lock:
            if mask:
                line = self.mask(line)
            self._out.write(line + "\n")
            self._out.flush()

    def command(
        self, name: str, properties: Mapping[str, str] | None = None, message: str = ""
    ) -> None:
        """Emit one logging command, its message and properties escaped and masked."""
        props = {k: self.mask(v) for k, v in (properties or {}).items()}
        self._write(commands.format_command(name, props, self.mask(message)))

    def info(self, message: str) -> None:
        """A plain line of output, made unable to start a logging command."""
        for line in message.split("\n"):
            self._write(commands.neutralize(self.mask(line)))

    def debug(self, message: str) -> None:
        """A debug line, shown only when ``System.Debug`` is true."""
        if self.debug_enabled:
            self.command("task.debug", None, message)

    def warning(self, message: str) -> None:
        self.command("task.logissue", {"type": "warning"}, message)

    def error(self, message: str) -> None:
        self.command("task.logissue", {"type": "error"}, message)

    def set_variable(
        self, name: str, value: str, *, secret: bool = False, output: bool = False
    ) -> None:
        """``task.setvariable`` with the exact properties of the Node task library.

        The value is written as it is (escaped, not masked): masking would change
        it, e.g. a path that happens to contain a short secret. The agent masks
        what it shows of it in the log.
        """
        props = {"variable": name, "isOutput": str(output).lower(), "issecret": str(secret).lower()}
        self._write(commands.format_command("task.setvariable", props, value), mask=False)

    def complete(self, succeeded: bool, message: str = "") -> None:
        self.command("task.complete", {"result": "Succeeded" if succeeded else "Failed"}, message)

    # -- messages --------------------------------------------------------------------

    @property
    def culture(self) -> str:
        """The job's culture (``System.Culture``), ``en-US`` when unset."""
        return self.get_variable("System.Culture") or DEFAULT_CULTURE

    def loc(self, key: str, *args: object) -> str:
        """The message ``key`` in the job's culture, formatted like Node's ``util.format``.

        An argument that is a :class:`Msg` is localized first.
        """
        if self._messages is None:
            self._messages = load_messages(self.task_dir, self.culture)
        return localize(self._messages, key, args)
