"""Feeds: twine's upload protocol (with the real twine), the simple index, pip installs."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from emu_support import EMU_TOKEN, Dists, clean_env, form_upload

from twineauthenticate.emulator import DEFAULT_TENANT, Emulator

AUTH = ("build", EMU_TOKEN)


@pytest.mark.parametrize("mode", ["services", "server"])
def test_twine_upload_to_project_feed(
    make_emu: Callable[..., Emulator], twine_upload: Any, dists: Dists, mode: str
) -> None:
    emu = make_emu(mode=mode)
    url = emu.feed_upload_url("ProjFeed", project="My Project")
    result = twine_upload(url, "build", EMU_TOKEN, dists.files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert emu.uploaded_files("ProjFeed", project="My Project") == sorted(
        path.name for path in dists.files
    )
    assert emu.uploaded_files("MyFeed") == []
    stored = emu.storage_dir / "My Project" / "ProjFeed" / "emu-demo-pkg" / dists.wheel.name
    assert stored.read_bytes() == dists.wheel.read_bytes()
    posts = [r for r in emu.requests if r.method == "POST"]
    assert [(r.status, r.auth_ok, r.user) for r in posts] == [(200, True, "build")] * 2
    assert posts[0].path == "/" + url.split("/", 3)[3]


def test_twine_reupload_is_a_conflict(emu: Emulator, twine_upload: Any, dists: Dists) -> None:
    url = emu.feed_upload_url("MyFeed")
    assert twine_upload(url, "x", EMU_TOKEN, [dists.wheel]).returncode == 0
    again = twine_upload(url, "x", EMU_TOKEN, [dists.wheel])
    assert again.returncode != 0
    output = again.stdout + again.stderr
    assert "409" in output
    assert "already contains file" in output
    assert emu.requests[-1].status == 409
    assert emu.uploaded_files("MyFeed") == [dists.wheel.name]


def test_twine_with_wrong_token(emu: Emulator, twine_upload: Any, dists: Dists) -> None:
    result = twine_upload(emu.feed_upload_url("MyFeed"), "x", "wrong", [dists.wheel])
    assert result.returncode != 0
    assert "401" in result.stdout + result.stderr
    assert emu.uploaded_files("MyFeed") == []


def test_names_are_case_insensitive_and_trailing_slash_accepted(emu: Emulator) -> None:
    content = b"wheel bytes"
    url = emu.feed_upload_url("projfeed", project="MY PROJECT") + "/"
    assert form_upload(url, content).status_code == 200
    assert emu.uploaded_files("ProjFeed", project="My Project") == [
        "emu_demo_pkg-0.1.0-py3-none-any.whl"
    ]
    # A file name is unique in the feed whatever its case.
    again = form_upload(emu.feed_upload_url("ProjFeed", project="My Project"), content)
    assert again.status_code == 409
    assert again.json()["typeKey"] == "PackageExistsException"


def test_anonymous_get_of_upload_url_reveals_tenant(emu: Emulator) -> None:
    for url in (emu.feed_upload_url("ProjFeed", "My Project"), emu.feed_upload_url("MyFeed") + "/"):
        response = requests.get(url, timeout=10)
        assert response.status_code == 401
        assert response.headers["X-VSS-ResourceTenant"] == DEFAULT_TENANT
        assert "Basic" in response.headers["WWW-Authenticate"]
    # Even for a feed that does not exist: authentication comes first.
    response = requests.get(emu.feed_upload_url("NoSuchFeed"), timeout=10)
    assert response.status_code == 401
    assert response.headers["X-VSS-ResourceTenant"] == DEFAULT_TENANT
    # Authenticated, GET is not how one uploads.
    assert requests.get(emu.feed_upload_url("MyFeed"), auth=AUTH, timeout=10).status_code == 405


@pytest.mark.parametrize(
    ("feed", "project", "type_key"),
    [
        ("NoSuchFeed", None, "FeedIdNotFoundException"),
        ("ProjFeed", None, "FeedIdNotFoundException"),  # project feed without its project
        ("MyFeed", "My Project", "FeedIdNotFoundException"),  # org feed under a project
        ("ProjFeed", "Other Project", "ProjectDoesNotExistWithNameException"),
    ],
)
def test_unknown_feed_or_project(
    emu: Emulator, feed: str, project: str | None, type_key: str
) -> None:
    response = form_upload(emu.feed_upload_url(feed, project=project), b"x")
    assert response.status_code == 404
    assert response.json()["typeKey"] == type_key
    index = requests.get(emu.feed_index_url(feed, project=project), auth=AUTH, timeout=10)
    assert index.status_code == 404


def test_digest_mismatch_is_refused(emu: Emulator) -> None:
    url = emu.feed_upload_url("MyFeed")
    response = form_upload(url, b"real content", sha256_digest="0" * 64)
    assert response.status_code == 400
    assert "sha256_digest" in response.json()["message"]
    assert "sha256" in response.reason
    md5 = form_upload(url, b"real content", sha256_digest=None, md5_digest="0" * 32)
    assert md5.status_code == 400
    assert emu.uploaded_files("MyFeed") == []


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"action": "submit"}, ":action"),
        ({"protocol_version": "2"}, "protocol_version"),
        ({"name": None}, "'name'"),
        ({"content": None}, "'content'"),
        ({"sha256_digest": None}, "sha256_digest"),
        ({"content": ("../evil.whl", b"x", "application/octet-stream")}, "file name"),
        ({"content": ("emu_demo_pkg-0.1.0.exe", b"x", "application/octet-stream")}, "file name"),
        ({"name": "other-pkg"}, "does not match"),
    ],
)
def test_malformed_uploads(emu: Emulator, overrides: dict[str, Any], needle: str) -> None:
    response = form_upload(emu.feed_upload_url("MyFeed"), b"bytes", **overrides)
    assert response.status_code == 400
    assert needle in response.json()["message"]
    assert emu.uploaded_files("MyFeed") == []


def test_non_multipart_and_broken_multipart(emu: Emulator) -> None:
    url = emu.feed_upload_url("MyFeed")
    as_json = requests.post(url, json={"name": "x"}, auth=AUTH, timeout=10)
    assert as_json.status_code == 400
    broken = requests.post(
        url,
        data=b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nno end",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        auth=AUTH,
        timeout=10,
    )
    assert broken.status_code == 400
    assert "multipart" in broken.json()["message"]


def test_pypi_token_rule(
    make_emu: Callable[..., Emulator], twine_upload: Any, dists: Dists
) -> None:
    emu = make_emu(pypi_token_rule=True)
    url = emu.feed_upload_url("MyFeed")
    refused = twine_upload(url, "build", EMU_TOKEN, [dists.wheel])
    assert refused.returncode != 0
    assert "403" in refused.stdout + refused.stderr
    assert emu.requests[-1].auth_ok is False
    assert emu.requests[-1].user == "build"
    accepted = twine_upload(url, "__token__", EMU_TOKEN, [dists.wheel])
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    index = emu.feed_index_url("MyFeed")
    assert requests.get(index, auth=("build", EMU_TOKEN), timeout=10).status_code == 403
    assert requests.get(index, auth=("__token__", EMU_TOKEN), timeout=10).status_code == 200
    # The REST API keeps Azure DevOps' rule: any user name.
    feed_ids = f"{emu.collection_url}_apis/packaging/feedids"
    assert requests.get(feed_ids, auth=("build", EMU_TOKEN), timeout=10).status_code == 200


def test_simple_index(emu: Emulator, make_dists: Callable[[str, str], Dists]) -> None:
    demo = make_dists("Emu.Demo_Pkg", "1.0")
    url = emu.feed_upload_url("MyFeed")
    for path in demo.files:
        content = path.read_bytes()
        assert form_upload(url, content, filename=path.name, name=demo.name).status_code == 200
    index = emu.feed_index_url("MyFeed")
    root = requests.get(index, auth=AUTH, timeout=10)
    assert root.status_code == 200
    assert root.headers["Content-Type"].startswith("text/html")
    assert '<a href="emu-demo-pkg/">emu-demo-pkg</a>' in root.text
    page = requests.get(index + "emu-demo-pkg/", auth=AUTH, timeout=10)
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', page.text)
    assert sorted(text for _, text in links) == sorted(path.name for path in demo.files)
    for href, text in links:
        path, _, fragment = href.partition("#")
        content = (demo.wheel if text.endswith(".whl") else demo.sdist).read_bytes()
        assert fragment == "sha256=" + hashlib.sha256(content).hexdigest()
        download = requests.get(emu.url + path, auth=AUTH, timeout=10)
        assert download.content == content
        assert requests.get(emu.url + path, timeout=10).status_code == 401
    # Non-normalized names and missing slashes redirect (PEP 503).
    redirect = requests.get(index + "Emu_Demo.PKG", auth=AUTH, timeout=10, allow_redirects=False)
    assert redirect.status_code == 301
    assert redirect.headers["Location"].endswith("/pypi/simple/emu-demo-pkg/")
    assert requests.get(index + "nothing-here/", auth=AUTH, timeout=10).status_code == 404
    assert requests.get(index, timeout=10).status_code == 401


def test_pip_installs_from_the_feed(
    emu: Emulator, twine_upload: Any, dists: Dists, tmp_path: Path
) -> None:
    url = emu.feed_upload_url("ProjFeed", project="My Project")
    assert twine_upload(url, "build", EMU_TOKEN, [dists.wheel]).returncode == 0
    index = emu.feed_index_url("ProjFeed", project="My Project")
    index_with_auth = index.replace("http://", f"http://pip:{EMU_TOKEN}@")
    target = tmp_path / "site"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--no-deps",
            "--index-url",
            index_with_auth,
            "--target",
            str(target),
            dists.name,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    check = subprocess.run(
        [sys.executable, "-c", f"import {dists.module}; print({dists.module}.VALUE)"],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(PYTHONPATH=str(target)),
        check=False,
    )
    assert check.stdout.strip() == dists.version
    assert all(r.auth_ok for r in emu.requests if r.method == "GET")
