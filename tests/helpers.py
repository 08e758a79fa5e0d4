"""Helpers shared by the tests: running the task as a process, building distributions."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from twineauthenticate.commands import Command, parse_line, parse_output

ROOT = Path(__file__).resolve().parent.parent


def load_tool(name: str) -> ModuleType:
    """The module ``tools/<name>.py``, loaded once (registered, as dataclasses need)."""
    key = f"tools_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def base_env(**extra: str) -> dict[str, str]:
    """A minimal process environment: no agent variable unless a test adds it."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


@dataclass
class TaskRun:
    """A run of the task, its stdout parsed as the agent parses it."""

    returncode: int
    stdout: str
    stderr: str
    commands: list[Command] = field(default_factory=list)

    def named(self, name: str) -> list[Command]:
        return [c for c in self.commands if c.command == name]

    @property
    def result(self) -> str | None:
        done = self.named("task.complete")
        return done[-1].properties.get("result") if done else None

    @property
    def variables(self) -> dict[str, str]:
        return {c.properties["variable"]: c.message for c in self.named("task.setvariable")}

    @property
    def secrets(self) -> list[str]:
        return [c.message for c in self.named("task.setsecret")]

    def issues(self, kind: str) -> list[str]:
        return [c.message for c in self.named("task.logissue") if c.properties.get("type") == kind]

    @property
    def errors(self) -> list[str]:
        return self.issues("error")

    @property
    def warnings(self) -> list[str]:
        return self.issues("warning")

    @property
    def pypirc(self) -> Path:
        return Path(self.variables["PYPIRC_PATH"])

    @property
    def plain_lines(self) -> list[str]:
        """Output lines that are not logging commands."""
        return [line for line in self.stdout.splitlines() if "##vso[" not in line]


def run_task(env: dict[str, str], *args: str, timeout: float = 120) -> TaskRun:
    """Run ``python -m twineauthenticate`` as the agent would: environment only."""
    proc = subprocess.run(
        [sys.executable, "-m", "twineauthenticate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=env.get("AGENT_TEMPDIRECTORY", str(ROOT)),
    )
    return TaskRun(proc.returncode, proc.stdout, proc.stderr, parse_output(proc.stdout))


def connection_env(ident: str, url: str, name: str, scheme: str, **params: str) -> dict[str, str]:
    """The variables the agent sets for a service connection."""
    env = {
        f"ENDPOINT_URL_{ident}": url,
        f"ENDPOINT_AUTH_{ident}": json.dumps({"parameters": params, "scheme": scheme}),
        f"ENDPOINT_AUTH_SCHEME_{ident}": scheme,
        f"ENDPOINT_DATA_{ident}": json.dumps({"endpointName": name}),
        f"ENDPOINT_DATA_{ident}_ENDPOINTNAME": name,
    }
    for key, value in params.items():
        env[f"ENDPOINT_AUTH_PARAMETER_{ident}_{key.upper()}"] = value
    return env


def build_token_env(token: str, collection: str) -> dict[str, str]:
    return {
        "ENDPOINT_URL_SYSTEMVSSCONNECTION": collection,
        "ENDPOINT_AUTH_SYSTEMVSSCONNECTION": json.dumps(
            {"parameters": {"AccessToken": token}, "scheme": "OAuth"}
        ),
        "ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION": "OAuth",
        "ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN": token,
    }


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_wheel(directory: Path, name: str = "demo_pkg", version: str = "0.1.0") -> Path:
    """A small valid pure-Python wheel whose module ``name`` has ``VALUE = version``."""
    directory.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'VALUE = "{version}"\n'.encode(),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            "Summary: A package for testing uploads\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    record += f"{dist_info}/RECORD,,\n"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(f"{dist_info}/RECORD", record)
    return path


# -- what a user sees -------------------------------------------------------------------


def files_under(path: Path) -> list[Path]:
    """Every file or link below ``path`` (folders alone do not count)."""
    return sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink())


def without_summaries(paths: list[Path]) -> list[Path]:
    """``paths`` without the run summaries (``summary-*.md``) every successful run writes."""
    return [p for p in paths if not (p.name.startswith("summary-") and p.suffix == ".md")]


def summaries_under(path: Path) -> list[Path]:
    return sorted(set(files_under(path)) - set(without_summaries(files_under(path))))


def assert_failed_cleanly(run: TaskRun, agent_temp: Path) -> str:
    """Exit code 1, ``task.complete result=Failed``, one error, no file, no PYPIRC_PATH."""
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.result == "Failed", run.stdout
    assert len(run.named("task.complete")) == 1
    assert "PYPIRC_PATH" not in run.variables
    assert files_under(agent_temp) == []
    assert len(run.errors) == 1, run.errors
    assert run.stderr == ""
    return run.errors[0]


def secret_leaks(stdout: str, stderr: str, secret: str) -> list[str]:
    """Where ``secret`` shows outside a ``task.setsecret`` command (empty when nowhere).

    Checked twice: in the raw lines, and in what the agent reads once it has
    unescaped each command's properties and message. ``task.setsecret`` lines are
    consumed by the agent and never shown (another secret may contain this one).
    """
    leaks: list[str] = []
    if secret in stderr:
        leaks.append("stderr")
    for line in re.split(r"\r\n|\r|\n", stdout):
        command = parse_line(line)
        if command is not None and command.command == "task.setsecret":
            continue
        shown = [line]
        if command is not None:
            shown += [command.message, *command.properties.values()]
        if any(secret in text for text in shown):
            leaks.append(line)
    return leaks


def assert_no_secret_in_clear(run: TaskRun, *secrets: str) -> None:
    for secret in secrets:
        assert secret
        assert secret_leaks(run.stdout, run.stderr, secret) == []


# -- TLS ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path
    ca: Path


def make_tls(folder: Path) -> Tls:
    """A private CA and a server certificate for ``localhost`` and 127.0.0.1."""
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    paths = Tls(folder / "cert.pem", folder / "key.pem", folder / "ca.pem")
    issued.cert_chain_pems[0].write_to_path(str(paths.cert))
    for pem in issued.cert_chain_pems[1:]:
        pem.write_to_path(str(paths.cert), append=True)
    issued.private_key_pem.write_to_path(str(paths.key))
    ca.cert_pem.write_to_path(str(paths.ca))
    return paths


# -- twine ------------------------------------------------------------------------------


def twine_upload(
    pypirc: Path, repository: str, *files: Path, cert: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real ``twine upload -r REPOSITORY --config-file PYPIRC``, as a pipeline step runs it."""
    extra = ["--cert", str(cert)] if cert is not None else []
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override twine's --cert.
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "-r",
            repository,
            "--config-file",
            str(pypirc),
            *extra,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        env={**env, "TWINE_NON_INTERACTIVE": "1"},
        timeout=120,
    )
