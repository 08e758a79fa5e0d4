"""Constants and helpers shared by the emulator's tests."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from urllib3 import encode_multipart_formdata

from twineauthenticate.emulator import Feed

EMU_TOKEN = "emu-test-token-7c2d"
CONNECTION_ID = "0a1b2c3d-0000-4000-8000-00000000c0de"
CLIENT_ID = "c11e0000-aaaa-4bbb-8ccc-000000000001"
OTHER_CONNECTION_ID = "0a1b2c3d-0000-4000-8000-0000000000ff"
OTHER_CLIENT_ID = "c11e0000-aaaa-4bbb-8ccc-000000000002"
FEEDS = [Feed("MyFeed"), Feed("ProjFeed", project="My Project")]
AUTH = ("build", EMU_TOKEN)


@dataclass(frozen=True)
class Dists:
    name: str
    version: str
    wheel: Path
    sdist: Path

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")

    @property
    def files(self) -> list[Path]:
        return [self.wheel, self.sdist]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_dists(directory: Path, name: str, version: str) -> Dists:
    """A minimal valid wheel and sdist, written by hand (no build backend needed)."""
    module = name.replace("-", "_")
    metadata = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        "Summary: Tiny package for the emulator's tests\n"
    ).encode()
    source = f"VALUE = {version!r}\n".encode()
    dist_info = f"{module}-{version}.dist-info"
    members = {
        f"{module}/__init__.py": source,
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: emulator-tests\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in members.items())
    record += f"{dist_info}/RECORD,,\n"
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(path, data)
        archive.writestr(f"{dist_info}/RECORD", record)
    sdist = directory / f"{module}-{version}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for path, data in (
            ("PKG-INFO", metadata),
            (f"{module}/__init__.py", source),
        ):
            info = tarfile.TarInfo(f"{module}-{version}/{path}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return Dists(name, version, wheel, sdist)


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWINE_", "PIP_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"))
    }
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env.update(extra)
    return env


def form_upload(
    url: str,
    payload: bytes,
    /,
    *,
    filename: str = "emu_demo_pkg-0.1.0-py3-none-any.whl",
    auth: tuple[str, str] = AUTH,
    **overrides: Any,
) -> requests.Response:
    """A twine-like upload request, with fields replaced or removed (value None)."""
    fields: dict[str, Any] = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": "emu-demo-pkg",
        "version": "0.1.0",
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "metadata_version": "2.1",
        "sha256_digest": hashlib.sha256(payload).hexdigest(),
        "content": (filename, payload, "application/octet-stream"),
    }
    for key, value in overrides.items():
        key = {"action": ":action"}.get(key, key)
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    body, content_type = encode_multipart_formdata(fields)
    return requests.post(
        url, data=body, headers={"Content-Type": content_type}, auth=auth, timeout=10
    )


# What REST clients send to get a 401 rather than the sign-in page for bad credentials.
SUPPRESS = {"X-TFS-FedAuthRedirect": "Suppress"}


def flat(text: str) -> str:
    """``text`` with every run of white space made one space (rich wraps twine's errors)."""
    return " ".join(text.split())
