"""The command line of a local run: each flag sets what the agent would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import BUILD_TOKEN
from tests.helpers import base_env, run_task


def test_help_documents_the_flags() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "twineauthenticate", "--help"],
        capture_output=True,
        text=True,
        env=base_env(),
        check=True,
    )
    for flag in (
        "--feed",
        "--collection-uri",
        "--server-type",
        "--token",
        "--temp-dir",
        "--pypirc-path",
        "--connection-url",
        "--connection-name",
        "--connection-token",
        "--connection-username",
        "--connection-password",
        "--federated-connection",
        "--feed-url",
        "--debug",
        "--culture",
    ):
        assert flag in proc.stdout


def test_local_run_with_flags_only(make_emulator: Any, tmp_path: Path) -> None:
    emu = make_emulator()
    temp = tmp_path / "temp"
    run = run_task(
        base_env(),
        "--collection-uri",
        emu.collection_url,
        "--server-type",
        "Hosted",
        "--feed",
        "MyFeed",
        "--feed",
        "My Project/ProjFeed",
        "--token",
        BUILD_TOKEN,
        "--temp-dir",
        str(temp),
        "--connection-url",
        "https://upload.example/legacy/",
        "--connection-name",
        "ext",
        "--connection-username",
        "me",
        "--connection-password",
        "pw-123456",
    )
    assert run.returncode == 0, run.stdout
    assert run.result == "Succeeded"
    assert run.pypirc.parent.parent == temp / "twineAuthenticate"
    text = run.pypirc.read_text()
    assert text.startswith("[distutils]\nindex-servers=MyFeed ProjFeed ext\n\n")
    assert f"repository={emu.feed_upload_url('ProjFeed', project='My Project')}\n" in text
    assert (
        "[ext]\nrepository=https://upload.example/legacy/\nusername=me\npassword=pw-123456" in text
    )
    assert len(emu.requests) == 2 + 1 + 2  # the lookup, the check's area and its two feeds

    done = run_task(
        base_env(), "cleanup", "--pypirc-path", str(run.pypirc), "--temp-dir", str(temp)
    )
    assert done.result == "Succeeded"
    assert not run.pypirc.exists()


def test_local_run_in_german(tmp_path: Path) -> None:
    run = run_task(base_env(), "--temp-dir", str(tmp_path), "--feed", "a/b/c", "--culture", "de-DE")
    assert run.returncode == 1
    assert run.result == "Failed"
    assert "a/b/c" in run.errors[0]
    assert not run.errors[0].startswith("'a/b/c' is not a feed name")  # not the English text
