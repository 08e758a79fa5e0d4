"""Plays the Azure Pipelines agent for tests: runs the built task bundle with Node.

It does what the agent does for one job: reads ``task.json``, resolves a YAML step's
``inputs:`` (aliases to canonical names, ``defaultValue``, trimming, ``$(var)``
macros), builds the process environment (``INPUT_*``, variables, ``SECRET_*``,
``VSTS_*_VARIABLES``, ``ENDPOINT_*`` including ``SYSTEMVSSCONNECTION``), starts
``node <execution target>`` (or the ``postjobexecution`` target) from the task folder,
and reads the logging commands back with :func:`twineauthenticate.commands.parse_output`.
Variables a step sets are seen by later steps and by the post-job steps, as in a job.

    bundle = build_bundle(tmp / "dist")                     # once per session
    job = AgentJob(bundle, tmp / "work", collection_uri=emu.collection_url,
                   access_token=BUILD_TOKEN)
    result = job.run({"artifactFeed": "MyFeed"})
    assert result.result == "Succeeded" and "PYPIRC_PATH" in result.variables
    job.post_job()                                          # cleanup.js of every step
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from tests.helpers import TaskRun, secret_leaks
from twineauthenticate.agent import env_key
from twineauthenticate.commands import parse_output

ROOT = Path(__file__).resolve().parent.parent
NODE_HANDLERS = ("Node24", "Node20_1", "Node16", "Node10", "Node")
BUILD_CONNECTION = "SYSTEMVSSCONNECTION"
DEFAULT_COLLECTION = "https://dev.azure.com/harness-org/"
DEFAULT_TOKEN = "harness-build-token-5b1e"
AGENT_VERSION = "4.258.1"

# Inherited variables that would make a test depend on the machine or on an outer
# pipeline: the agent's own, a proxy, a CA bundle, an earlier PYPIRC_PATH.
_DROPPED_PREFIXES = (
    "INPUT_",
    "ENDPOINT_",
    "SECRET_",
    "SYSTEM_",
    "AGENT_",
    "BUILD_",
    "RELEASE_",
    "VSTS_",
    "TWINEAUTHENTICATE_",
    "PYTHON",
)
_DROPPED_NAMES = {
    "PYPIRC_PATH",
    "TF_BUILD",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
}

InputValue = Union[str, bool, int, Sequence[str], None]


def build_bundle(out: Path, *, compile_: bool = False, timeout: float = 600) -> Path:
    """``tools/package.py --no-vsix`` into ``out``; the task folder it made."""
    cmd = [sys.executable, str(ROOT / "tools" / "package.py"), "--out", str(out), "--no-vsix"]
    cmd.append("--compile" if compile_ else "--no-compile")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"package.py failed:\n{proc.stdout}{proc.stderr}")
    return out / "task" / "TwineAuthenticate"


def copy_bundle(bundle: Path, agent_dir: Path) -> Path:
    """A copy of the task folder where the agent keeps tasks: ``_tasks/<name>_<id>/<version>``."""
    task = load_task(bundle)
    version = "{Major}.{Minor}.{Patch}".format(**task["version"])
    target = agent_dir / "_tasks" / f"{task['name']}_{task['id']}" / version
    shutil.copytree(bundle, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def load_task(task_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((task_dir / "task.json").read_text(encoding="utf-8-sig"))
    return data


def handler_target(task: Mapping[str, Any], stage: str = "execution") -> str:
    """The target of the newest Node handler of ``execution`` or ``postjobexecution``."""
    handlers = task.get(stage) or {}
    for name in NODE_HANDLERS:
        if name in handlers:
            return str(handlers[name]["target"])
    raise ValueError(f"task.json has no Node handler in {stage!r}: {sorted(handlers)}")


def _as_text(value: InputValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


_MACRO = re.compile(r"\$\(([^()]+)\)")


def expand_macros(value: str, variables: Mapping[str, str]) -> str:
    """``$(name)`` replaced by the variable's value (names case-insensitive); unknown ones stay."""
    lookup = {k.lower(): v for k, v in variables.items()}
    return _MACRO.sub(lambda m: lookup.get(m.group(1).strip().lower(), m.group(0)), value)


def resolve_inputs(
    task: Mapping[str, Any],
    inputs: Mapping[str, InputValue] | None,
    variables: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every input of task.json by canonical name: the step's value, or the default, trimmed.

    A YAML name may be an input's name or one of its aliases, case-insensitively;
    an unknown name is an error, as when the agent validates the pipeline.
    """
    names: dict[str, str] = {}
    for item in task.get("inputs", []):
        for alias in [item["name"], *item.get("aliases", [])]:
            names[alias.lower()] = item["name"]
    given: dict[str, str] = {}
    for key, value in (inputs or {}).items():
        canonical = names.get(key.lower())
        if canonical is None:
            raise ValueError(f"unknown input {key!r}; task.json has {sorted(set(names.values()))}")
        if canonical in given:
            raise ValueError(f"input {canonical!r} given twice (through an alias)")
        given[canonical] = _as_text(value)
    resolved = {}
    for item in task.get("inputs", []):
        name = item["name"]
        value = given[name] if name in given else _as_text(item.get("defaultValue"))
        resolved[name] = expand_macros(value, variables or {}).strip()
    return resolved


@dataclass
class Endpoint:
    """A service connection as the agent hands it to a task."""

    id: str
    url: str
    scheme: str = "None"
    parameters: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)

    @classmethod
    def token(cls, ident: str, url: str, token: str, endpoint_name: str) -> Endpoint:
        """A Python upload connection with 'Authentication Token'."""
        return cls(ident, url, "Token", {"apitoken": token}, {"endpointName": endpoint_name})

    @classmethod
    def username_password(
        cls, ident: str, url: str, username: str, password: str, endpoint_name: str
    ) -> Endpoint:
        """A Python upload connection with 'Username and Password'."""
        params = {"username": username, "password": password}
        return cls(ident, url, "UsernamePassword", params, {"endpointName": endpoint_name})

    @classmethod
    def workload_identity(
        cls,
        ident: str,
        client_id: str,
        tenant_id: str = "",
        url: str = "https://dev.azure.com/",
        data: Mapping[str, str] | None = None,
    ) -> Endpoint:
        """An 'Azure DevOps' connection with workload identity federation."""
        params = {"serviceprincipalid": client_id}
        if tenant_id:
            params["tenantid"] = tenant_id
        return cls(ident, url, "WorkloadIdentityFederation", params, dict(data or {}))

    def environment(self) -> dict[str, str]:
        env = {
            f"ENDPOINT_URL_{self.id}": self.url,
            f"ENDPOINT_AUTH_{self.id}": json.dumps(
                {"parameters": self.parameters, "scheme": self.scheme}
            ),
            f"ENDPOINT_AUTH_SCHEME_{self.id}": self.scheme,
        }
        for key, value in self.parameters.items():
            env[f"ENDPOINT_AUTH_PARAMETER_{self.id}_{key.upper()}"] = value
        if self.data:
            env[f"ENDPOINT_DATA_{self.id}"] = json.dumps(self.data)
            for key, value in self.data.items():
                env[f"ENDPOINT_DATA_{self.id}_{key.upper()}"] = value
        return env

    def secrets(self) -> list[str]:
        """The values the agent masks: every auth parameter but the plain ids."""
        plain = {"username", "serviceprincipalid", "tenantid"}
        return [v for k, v in self.parameters.items() if v and k.lower() not in plain]


@dataclass
class TaskResult(TaskRun):
    """What one run of a task handler printed, parsed as the agent parses it."""

    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def complete_message(self) -> str | None:
        done = self.named("task.complete")
        return done[-1].message if done else None

    @property
    def outcome(self) -> str:
        """The step's result as the agent shows it: a non-zero exit fails it whatever was said."""
        if self.returncode != 0:
            return "Failed"
        return self.result or "Succeeded"

    @property
    def secret_variables(self) -> set[str]:
        return {
            c.properties["variable"]
            for c in self.named("task.setvariable")
            if c.properties.get("issecret", "").lower() == "true"
        }

    @property
    def agent_errors(self) -> list[str]:
        """The errors the run's summary shows: logged ones, plus the agent's own for an exit code."""
        extra = [f"Exit code {self.returncode} returned from process"] if self.returncode else []
        return [*self.errors, *extra]

    def lines_showing(self, secret: str) -> list[str]:
        """Where ``secret`` shows other than in its own ``task.setsecret``."""
        return secret_leaks(self.stdout, self.stderr, secret)


@dataclass
class _Step:
    inputs: dict[str, str]
    env: dict[str, str]


class AgentJob:
    """One job of an agent running the task folder ``task_dir``, possibly several times.

    ``python`` (default: the interpreter running the tests) has its folder put first
    on PATH, as a UsePythonVersion step would; ``path`` replaces PATH altogether.
    ``variables`` and ``secrets`` are pipeline variables by their pipeline names
    (``System.Debug``); a value of None removes a default one.
    """

    def __init__(
        self,
        task_dir: Path,
        work_dir: Path,
        *,
        collection_uri: str = DEFAULT_COLLECTION,
        server_type: str | None = "Hosted",
        access_token: str | None = DEFAULT_TOKEN,
        variables: Mapping[str, str | None] | None = None,
        secrets: Mapping[str, str] | None = None,
        endpoints: Iterable[Endpoint] = (),
        python: str | os.PathLike[str] | None = sys.executable,
        path: str | None = None,
        node: str | None = None,
        culture: str = "en-US",
        debug: bool = False,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.task_dir = Path(task_dir)
        self.task = load_task(self.task_dir)
        self.work_dir = Path(work_dir)
        self.sources_dir = self.work_dir / "s"
        self.temp_dir = self.work_dir / "_temp"
        for folder in (self.sources_dir, self.temp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        found = node or shutil.which("node")
        if found is None:
            raise RuntimeError("node is not installed")
        self.node = found
        self.access_token = access_token
        self.collection_uri = collection_uri
        self.endpoints: dict[str, Endpoint] = {}
        for endpoint in endpoints:
            self.add_endpoint(endpoint)
        self.variables: dict[str, str] = {
            "Agent.TempDirectory": str(self.temp_dir),
            "Agent.WorkFolder": str(self.work_dir),
            "Agent.Version": AGENT_VERSION,
            "Agent.OS": {"win32": "Windows_NT", "darwin": "Darwin"}.get(sys.platform, "Linux"),
            "Build.SourcesDirectory": str(self.sources_dir),
            "System.DefaultWorkingDirectory": str(self.sources_dir),
            "System.TeamFoundationCollectionUri": collection_uri,
            "System.CollectionUri": collection_uri,
            "System.TeamProject": "HarnessProject",
            "System.HostType": "build",
            "System.Culture": culture,
        }
        if server_type is not None:
            self.variables["System.ServerType"] = server_type
        if debug:
            self.variables["System.Debug"] = "true"
        for name, value in (variables or {}).items():
            if value is None:
                self.variables.pop(name, None)
            else:
                self.variables[name] = value
        self.secrets: dict[str, str] = dict(secrets or {})
        self.base_env = self._base_env(base_env, python, path)
        self.steps: list[_Step] = []
        self.results: list[TaskResult] = []

    @staticmethod
    def _base_env(
        base: Mapping[str, str] | None,
        python: str | os.PathLike[str] | None,
        path: str | None,
    ) -> dict[str, str]:
        source = os.environ if base is None else base
        env = {
            k: v
            for k, v in source.items()
            if k.upper() not in _DROPPED_NAMES and not k.upper().startswith(_DROPPED_PREFIXES)
        }
        path_key = next((k for k in env if k.upper() == "PATH"), "PATH")
        if path is not None:
            env[path_key] = path
        elif python is not None:
            folder = str(Path(python).parent)
            env[path_key] = os.pathsep.join([folder, env.get(path_key, "")])
        env["TF_BUILD"] = "True"
        return env

    def add_endpoint(self, endpoint: Endpoint) -> None:
        self.endpoints[endpoint.id] = endpoint

    def known_secrets(self) -> list[str]:
        """What the agent itself masks: secret variables, the job token, connection secrets."""
        values = list(self.secrets.values())
        if self.access_token:
            values.append(self.access_token)
        for endpoint in self.endpoints.values():
            values.extend(endpoint.secrets())
        return [v for v in values if v]

    def environment(
        self, inputs: Mapping[str, InputValue] | None = None, env: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The process environment of a step with ``inputs`` and the step's ``env:`` map."""
        return self._environment(self._resolve(inputs), dict(env or {}))

    def _resolve(self, inputs: Mapping[str, InputValue] | None) -> dict[str, str]:
        return resolve_inputs(self.task, inputs, {**self.variables, **self.secrets})

    def _environment(
        self, inputs: Mapping[str, str], step_env: Mapping[str, str]
    ) -> dict[str, str]:
        env = dict(self.base_env)
        for name, value in self.variables.items():
            env[env_key(name)] = value
        for name, value in self.secrets.items():
            env["SECRET_" + env_key(name)] = value
        env["VSTS_PUBLIC_VARIABLES"] = json.dumps(sorted(self.variables))
        env["VSTS_SECRET_VARIABLES"] = json.dumps(sorted(self.secrets))
        for name, value in inputs.items():
            env["INPUT_" + env_key(name)] = value
        if self.access_token is not None:
            build = Endpoint(
                BUILD_CONNECTION, self.collection_uri, "OAuth", {"AccessToken": self.access_token}
            )
            env.update(build.environment())
        for endpoint in self.endpoints.values():
            env.update(endpoint.environment())
        env.update(step_env)
        return env

    def _execute(
        self, stage: str, inputs: dict[str, str], step_env: dict[str, str], timeout: float
    ) -> TaskResult:
        env = self._environment(inputs, step_env)
        target = self.task_dir / handler_target(self.task, stage)
        proc = subprocess.run(
            [self.node, str(target)],
            cwd=self.sources_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        result = TaskResult(proc.returncode, stdout, stderr, parse_output(stdout), env)
        for command in result.named("task.setvariable"):
            name = command.properties.get("variable", "")
            if command.properties.get("issecret", "").lower() == "true":
                self.secrets[name] = command.message
            elif name:
                self.variables[name] = command.message
        self.results.append(result)
        return result

    def run(
        self,
        inputs: Mapping[str, InputValue] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> TaskResult:
        """Run the task as a step of the job (task.json ``execution``)."""
        step = _Step(self._resolve(inputs), dict(env or {}))
        self.steps.append(step)
        return self._execute("execution", step.inputs, step.env, timeout)

    def post_job(self, *, timeout: float = 120) -> list[TaskResult]:
        """The post-job handler of every step run so far, last step first, as the agent does."""
        if "postjobexecution" not in self.task:
            return []
        return [
            self._execute("postjobexecution", step.inputs, step.env, timeout)
            for step in reversed(self.steps)
        ]
