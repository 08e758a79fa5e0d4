"""Fixtures for the emulator's own tests: emulators, tiny distributions, twine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from emu_support import (
    CLIENT_ID,
    CONNECTION_ID,
    EMU_TOKEN,
    FEEDS,
    OTHER_CLIENT_ID,
    OTHER_CONNECTION_ID,
    Dists,
    build_dists,
    clean_env,
)

from twineauthenticate.emulator import Emulator


@pytest.fixture
def make_emu() -> Iterator[Callable[..., Emulator]]:
    """Start emulators (build token EMU_TOKEN by default); all stop after the test."""
    started: list[Emulator] = []

    def start(**kwargs: Any) -> Emulator:
        kwargs.setdefault("token", EMU_TOKEN)
        kwargs.setdefault("feeds", FEEDS)
        kwargs.setdefault(
            "service_connections",
            {CONNECTION_ID: CLIENT_ID, OTHER_CONNECTION_ID: OTHER_CLIENT_ID},
        )
        emu = Emulator(**kwargs)
        emu.start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def emu(make_emu: Callable[..., Emulator]) -> Emulator:
    return make_emu()


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    return build_dists(tmp_path_factory.mktemp("dists"), "emu-demo-pkg", "0.1.0")


@pytest.fixture
def make_dists(tmp_path: Path) -> Callable[[str, str], Dists]:
    def make(name: str, version: str) -> Dists:
        return build_dists(tmp_path / f"{name}-{version}", name, version)

    return make


TwineRunner = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def twine_upload(tmp_path: Path) -> TwineRunner:
    """Run the real ``twine upload`` in a subprocess; returns the completed process."""

    def run(
        url: str, user: str, password: str, files: list[Path], *extra: str
    ) -> subprocess.CompletedProcess[str]:
        config = tmp_path / "empty.pypirc"
        config.write_text("")
        command = [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--config-file",
            str(config),
            "--repository-url",
            url,
            "-u",
            user,
            "-p",
            password,
            *extra,
            *[str(path) for path in files],
        ]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=60, env=clean_env(), check=False
        )

    return run
