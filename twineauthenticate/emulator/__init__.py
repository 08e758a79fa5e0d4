"""A local emulator of Azure DevOps and Azure Artifacts PyPI feeds, for tests.

Serves the REST calls TwineAuthenticate makes (resource areas, API resource
locations, the feed picker, Feed Management, ``connectionData``), with
per-feed permissions of the build identity, the feeds themselves (twine's upload protocol and a
PEP 503 simple index that pip can install from), and the workload identity
federation endpoints (pipeline OIDC token, Entra-like token exchange), with
request logging, fault injection, latency and optional TLS.

    from twineauthenticate.emulator import Emulator, Feed

    with Emulator(feeds=[Feed("MyFeed")], token="build-token") as emu:
        upload_url = emu.feed_upload_url("MyFeed")
"""

from __future__ import annotations

from ._emulator import DEFAULT_TENANT, DEFAULT_TOKEN, Emulator
from ._federation import AZURE_DEVOPS_RESOURCE, EXPECTED_SCOPE, JWT_BEARER_ASSERTION
from ._locations import (
    FEEDS_LOCATION_ID,
    PACKAGING_AREA_ID,
    PYPI_AREA_ID,
    PYPI_UPLOAD_LOCATION_ID,
)
from ._model import Feed, RequestRecord

__all__ = [
    "AZURE_DEVOPS_RESOURCE",
    "DEFAULT_TENANT",
    "DEFAULT_TOKEN",
    "EXPECTED_SCOPE",
    "FEEDS_LOCATION_ID",
    "JWT_BEARER_ASSERTION",
    "PACKAGING_AREA_ID",
    "PYPI_AREA_ID",
    "PYPI_UPLOAD_LOCATION_ID",
    "Emulator",
    "Feed",
    "RequestRecord",
]
