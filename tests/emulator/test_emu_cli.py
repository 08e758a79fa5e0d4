"""The command line: ``python -m twineauthenticate.emulator``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from emu_support import clean_env

from twineauthenticate.emulator import DEFAULT_TOKEN


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "twineauthenticate.emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "no output"
        yield proc, json.loads(line)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_stops_on_signal(tmp_path: Path, signum: int) -> None:
    log_file = tmp_path / "requests.jsonl"
    storage = tmp_path / "storage"
    with running(
        "--port", "0",
        "--org", "fabrikam",
        "--feed", "Alpha",
        "--feed", "Team Space/Beta",
        "--token", "cli-token",
        "--fail-first", "1",
        "--fail-status", "503",
        "--retry-after", "1",
        "--storage", str(storage),
        "--log-file", str(log_file),
    ) as (proc, info):  # fmt: skip
        assert set(info) == {
            "url",
            "collection_url",
            "packaging_url",
            "feeds_url",
            "oidc_request_uri",
            "authority_url",
        }
        assert info["collection_url"] == info["url"] + "/fabrikam/"
        assert info["packaging_url"] == info["url"] + "/_pkgs/fabrikam/"
        feeds_url = info["collection_url"] + "_apis/packaging/feedids"
        first = requests.get(feeds_url, auth=("u", "cli-token"), timeout=10)
        assert first.status_code == 503
        assert first.headers["Retry-After"] == "1"
        feeds = requests.get(feeds_url, auth=("u", "cli-token"), timeout=10).json()["value"]
        assert [(f["name"], f.get("projectName")) for f in feeds] == [
            ("Alpha", None),
            ("Beta", "Team Space"),
        ]
        proc.send_signal(signum)
        assert proc.wait(10) == 0
        assert proc.stdout is not None
        assert proc.stdout.read() == ""  # exactly one line
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [(r["method"], r["status"], r["auth_ok"], r["user"]) for r in records] == [
        ("GET", 503, True, "u"),
        ("GET", 200, True, "u"),
    ]
    assert records[0]["path"] == "/fabrikam/_apis/packaging/feedids"
    assert storage.is_dir()  # a given storage directory is kept


def test_cli_defaults_and_server_mode() -> None:
    with running("--mode", "server", "--service-connection", "abc=client-1") as (proc, info):
        assert info["collection_url"] == info["packaging_url"]
        assert info["collection_url"].endswith("/tfs/DefaultCollection/")
        feeds_url = info["collection_url"] + "_apis/packaging/feedids"
        feeds = requests.get(feeds_url, auth=("u", DEFAULT_TOKEN), timeout=10).json()["value"]
        assert [(f["name"], f.get("projectName")) for f in feeds] == [
            ("MyFeed", None),
            ("ProjFeed", "My Project"),
        ]
        oidc = requests.post(
            info["oidc_request_uri"],
            params={"api-version": "7.1", "serviceConnectionId": "abc"},
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
            timeout=10,
        )
        assert oidc.status_code == 200
        proc.terminate()
        assert proc.wait(10) == 0


def test_cli_identity_permissions_and_sign_in() -> None:
    with running(
        "--identity", "My Project Build Service (contoso)",
        "--permission", "MyFeed=none",
        "--permission", "my project/projfeed=Read",
        "--sign-in", "redirect",
    ) as (proc, info):  # fmt: skip
        assert info["feeds_url"] == info["url"] + "/_feeds/contoso/"
        auth = ("u", DEFAULT_TOKEN)
        suppress = {"X-TFS-FedAuthRedirect": "Suppress"}
        data = requests.get(f"{info['collection_url']}_apis/connectionData", auth=auth, timeout=10)
        user = data.json()["authenticatedUser"]
        assert user["providerDisplayName"] == "My Project Build Service (contoso)"
        feed_api = info["feeds_url"] + "{}_apis/packaging/feeds/{}?api-version=7.1"
        refused = requests.get(feed_api.format("", "MyFeed"), auth=auth, timeout=10)
        assert refused.status_code == 403
        assert refused.json()["message"] == (
            f"User '{user['id']}' lacks permission to complete this action. "
            "You need to have 'ReadPackages'."
        )
        readable = requests.get(feed_api.format("My%20Project/", "ProjFeed"), auth=auth, timeout=10)
        assert readable.status_code == 200
        upload = info["packaging_url"] + "My%20Project/_packaging/ProjFeed/pypi/upload"
        assert "'AddPackage'" in requests.post(upload, auth=auth, timeout=10).json()["message"]
        listed = requests.get(info["feeds_url"] + "_apis/packaging/feeds", auth=auth, timeout=10)
        assert [feed["name"] for feed in listed.json()["value"]] == ["ProjFeed"]
        bad = requests.get(
            feed_api.format("", "MyFeed"), auth=("u", "bad"), allow_redirects=False, timeout=10
        )
        assert bad.status_code == 302
        assert bad.headers["Location"].startswith(info["url"] + "/_signin?")
        bad = requests.get(
            feed_api.format("", "MyFeed"), auth=("u", "bad"), headers=suppress, timeout=10
        )
        assert bad.status_code == 401
        proc.terminate()
        assert proc.wait(10) == 0


def test_cli_rejects_bad_arguments() -> None:
    for args in (
        ["--tls-cert", "x.pem"],
        ["--service-connection", "nope"],
        ["--feed", "a/b/c"],
        ["--permission", "MyFeed"],
        ["--permission", "MyFeed=write"],
        ["--permission", "NoSuchFeed=read"],
        ["--permission", "a/b/c=read"],
        ["--sign-in", "popup"],
        ["--identity", ""],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "twineauthenticate.emulator", *args],
            capture_output=True,
            text=True,
            timeout=30,
            env=clean_env(),
            check=False,
        )
        assert result.returncode == 2, args
        assert result.stdout == ""
