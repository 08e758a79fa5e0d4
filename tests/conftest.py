"""Fixtures: the emulator, a real pypiserver, the agent's temp directory."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import base_env, build_token_env, connection_env

BUILD_TOKEN = "build-token-3f9a7c1e"


def loopback_only(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: a test process may connect to loopback only, never to anything else."""
    if event != "socket.connect" or len(args) < 2:
        return
    address = args[1]
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host not in ("localhost", "::1") and not host.startswith("127."):
            raise PermissionError(f"tests may reach loopback only, not {host}")


sys.addaudithook(loopback_only)


@pytest.fixture
def agent_temp(tmp_path: Path) -> Path:
    path = tmp_path / "agent-temp"
    path.mkdir()
    return path


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Any]]:
    """Start emulators on loopback; all are stopped at the end of the test."""
    from twineauthenticate.emulator import Emulator

    started: list[Any] = []

    def start(**kwargs: Any) -> Any:
        kwargs.setdefault("token", BUILD_TOKEN)
        emu = Emulator(**kwargs)
        emu.start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


def agent_env_for(emu: Any, agent_temp: Path, **extra: str) -> dict[str, str]:
    """What the agent gives the task in a job of the emulator's organization."""
    env = base_env(
        AGENT_TEMPDIRECTORY=str(agent_temp),
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=emu.collection_url,
        SYSTEM_SERVERTYPE="Hosted" if emu.mode == "services" else "OnPremises",
        **build_token_env(BUILD_TOKEN, emu.collection_url),
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PypiServer:
    def __init__(self, url: str, packages: Path) -> None:
        self.url = url
        self.packages = packages

    def job_env(
        self, agent_temp: Path, password: str = "", username: str = "alice"
    ) -> dict[str, str]:
        """A job whose one input is a password connection 'private' to this server."""
        env = base_env(AGENT_TEMPDIRECTORY=str(agent_temp))
        env.update(
            connection_env(
                "c1",
                self.url,
                "private",
                "UsernamePassword",
                username=username,
                password=password or PYPISERVER_PASSWORD,
            )
        )
        env["INPUT_PYTHONUPLOADSERVICECONNECTION"] = "c1"
        return env


@pytest.fixture
def pypiserver(tmp_path: Path) -> Iterator[PypiServer]:
    """A real pypiserver on loopback; upload needs user 'alice' with password 's3cret pass%;#'
    (or NETRC_USER with NETRC_PASSWORD, which a netrc file can hold: no white space)."""
    from passlib.apache import HtpasswdFile

    packages = tmp_path / "pypiserver-packages"
    packages.mkdir()
    htpasswd = tmp_path / "htpasswd"
    users = HtpasswdFile(str(htpasswd), new=True)
    users.set_password("alice", PYPISERVER_PASSWORD)
    users.set_password(NETRC_USER, NETRC_PASSWORD)
    users.save()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-P",
            str(htpasswd),
            "-a",
            "update",
            "--disable-fallback",  # a missing package is a 404, not a redirect to PyPI
            str(packages),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("pypiserver did not start") from None
            time.sleep(0.1)
    try:
        yield PypiServer(url, packages)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


PYPISERVER_PASSWORD = "s3cret pass%;#"
NETRC_USER = "bob"
NETRC_PASSWORD = "s3cret-pass%;#!x"
