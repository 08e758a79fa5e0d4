"""HTTPS with a certificate from a private CA (trustme)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from emu_support import EMU_TOKEN, Dists

from twineauthenticate.emulator import Emulator

AUTH = ("build", EMU_TOKEN)


@pytest.fixture(scope="module")
def ca_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA bundle, server certificate chain, server key) for localhost and 127.0.0.1."""
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    ca_file = directory / "ca.pem"
    cert_file = directory / "server.pem"
    key_file = directory / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    server.private_key_pem.write_to_path(str(key_file))
    for blob in server.cert_chain_pems:
        blob.write_to_path(str(cert_file), append=True)
    return ca_file, cert_file, key_file


def test_https_with_private_ca(
    make_emu: Callable[..., Emulator], ca_files: tuple[Path, Path, Path]
) -> None:
    ca_file, cert_file, key_file = ca_files
    emu = make_emu(tls=(cert_file, key_file))
    assert emu.url.startswith("https://localhost:")
    assert emu.collection_url.startswith("https://localhost:")
    url = emu.collection_url + "_apis/resourceAreas/92F0314B-06C5-46E0-ABE7-15FD9D13276A"
    response = requests.get(url, auth=AUTH, verify=str(ca_file), timeout=10)
    assert response.status_code == 200
    assert response.json()["locationUrl"] == emu.packaging_url
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, auth=AUTH, timeout=10)  # the default trust store lacks the CA
    # A failed handshake does not disturb the server.
    assert requests.get(url, auth=AUTH, verify=str(ca_file), timeout=10).status_code == 200


def test_twine_upload_over_https(
    make_emu: Callable[..., Emulator],
    ca_files: tuple[Path, Path, Path],
    twine_upload: Any,
    dists: Dists,
) -> None:
    ca_file, cert_file, key_file = ca_files
    emu = make_emu(tls=(str(cert_file), str(key_file)))
    url = emu.feed_upload_url("ProjFeed", project="My Project")
    untrusted = twine_upload(url, "build", EMU_TOKEN, [dists.wheel])
    assert untrusted.returncode != 0
    trusted = twine_upload(url, "build", EMU_TOKEN, [dists.wheel], "--cert", str(ca_file))
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert emu.uploaded_files("ProjFeed", project="My Project") == [dists.wheel.name]


def test_tls_accepts_a_ready_ssl_context(
    make_emu: Callable[..., Emulator], ca_files: tuple[Path, Path, Path]
) -> None:
    ca_file, cert_file, key_file = ca_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_file), str(key_file))
    emu = make_emu(tls=context)
    index = emu.feed_index_url("MyFeed")
    assert requests.get(index, auth=AUTH, verify=str(ca_file), timeout=10).status_code == 200
