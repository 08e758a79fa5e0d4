"""Resource areas and API resource locations served by the emulator.

``GET _apis/resourceAreas/{areaId}`` tells a client which host serves an area;
``OPTIONS _apis/{area}`` lists that area's resource locations (id, route
template, versions). The ids are the ones Azure DevOps uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PYPI_AREA_ID = "92f0314b-06c5-46e0-abe7-15fd9d13276a"
PYPI_UPLOAD_LOCATION_ID = "c7a75c1b-08ac-4b11-b468-6c7ef835c85e"
PACKAGING_AREA_ID = "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5"
FEEDS_LOCATION_ID = "c65009a7-474a-4ad1-8b42-7d852107ef8c"

# Which host serves an area: the collection host, the packaging host (feeds' PyPI
# endpoints) or the feeds host (Feed Management). On Server all three are the collection.
COLLECTION_HOST = "collection"
PACKAGING_HOST = "packaging"
FEEDS_HOST = "feeds"


@dataclass(frozen=True)
class ResourceArea:
    area_id: str
    name: str
    host: str


RESOURCE_AREAS: tuple[ResourceArea, ...] = (
    ResourceArea("79134c72-4a58-4b42-976c-04e7115f32bf", "core", COLLECTION_HOST),
    ResourceArea(PACKAGING_AREA_ID, "Packaging", FEEDS_HOST),
    ResourceArea(PYPI_AREA_ID, "pypi", PACKAGING_HOST),
    ResourceArea("b3be7473-68ea-4a81-bfc7-9530baaa19ad", "nuget", PACKAGING_HOST),
    ResourceArea("4c83cfc1-f33a-477e-a789-29d38ffca52e", "npm", PACKAGING_HOST),
    ResourceArea("6f7f8c07-ff36-473c-bcf3-bd6cc9b6c066", "maven", PACKAGING_HOST),
)


def find_area(area_id: str) -> ResourceArea | None:
    lowered = area_id.lower()
    for area in RESOURCE_AREAS:
        if area.area_id == lowered:
            return area
    return None


def resource_area_payload(area: ResourceArea, location_url: str) -> dict[str, Any]:
    return {"id": area.area_id, "name": area.name, "locationUrl": location_url}


def _location(
    location_id: str,
    area: str,
    resource: str,
    template: str,
    min_version: str,
    max_version: str = "7.2",
    resource_version: int = 1,
    released_version: str = "0.0",
) -> dict[str, Any]:
    return {
        "id": location_id,
        "area": area,
        "resourceName": resource,
        "routeTemplate": template,
        "resourceVersion": resource_version,
        "minVersion": min_version,
        "maxVersion": max_version,
        "releasedVersion": released_version,
    }


_FEED = "{project}/_apis/packaging/feeds/{feedId}/pypi"

_LOCATIONS: dict[str, list[dict[str, Any]]] = {
    "location": [
        _location(
            "e81700f7-3be2-46de-8624-2eb35882fcaa",
            "Location",
            "ResourceAreas",
            "_apis/{resource}/{areaId}",
            "3.2",
        ),
        _location(
            "00d9565f-ed9c-4a06-9a50-00e7896ccab4",
            "Location",
            "ConnectionData",
            "_apis/{resource}",
            "1.0",
        ),
        _location(
            "d810a47d-f4f4-4a62-a03f-fa1860585c4c",
            "Location",
            "ServiceDefinitions",
            "_apis/{resource}/{serviceType}/{identifier}",
            "1.0",
        ),
    ],
    "packaging": [
        _location(
            FEEDS_LOCATION_ID,
            "Packaging",
            "Feeds",
            "{project}/_apis/{area}/{resource}/{feedId}",
            "2.0",
            released_version="7.1",
        ),
    ],
    "pypi": [
        _location(
            "93377a2c-f5fb-48b9-a8dc-7781441cabf1",
            "pypi",
            "simple",
            "{project}/_packaging/{feedId}/pypi/simple/{*packageName}",
            "5.0",
        ),
        _location(
            PYPI_UPLOAD_LOCATION_ID,
            "pypi",
            "upload",
            "{project}/_packaging/{feedId}/pypi/upload",
            "5.0",
        ),
        _location(
            "97218bae-a64d-4381-9257-b5b7951f0b98",
            "pypi",
            "content",
            _FEED + "/packages/{packageName}/versions/{packageVersion}/{fileName}/content",
            "5.0",
        ),
        _location(
            "d146ac7e-9e3f-4448-b956-f9bb3bdf9b2e",
            "pypi",
            "versions",
            _FEED + "/packages/{packageName}/versions/{packageVersion}",
            "5.0",
        ),
        _location(
            "4e53d561-70c1-4c98-b937-0f22acb27b0b",
            "pypi",
            "packagesBatch",
            _FEED + "/packagesbatch",
            "5.0",
        ),
        _location(
            "07143752-3d94-45fd-86c2-0c77ed87847b",
            "pypi",
            "RecycleBinVersions",
            _FEED + "/RecycleBin/packages/{packageName}/versions/{packageVersion}",
            "5.0",
        ),
        _location(
            "21b8c9a7-7080-45be-a5ba-e50bb4c18130",
            "pypi",
            "upstreaming",
            _FEED + "/packages/{packageName}/upstreaming",
            "5.0",
        ),
    ],
}

# Areas whose locations each host answers for (OPTIONS _apis/{area}).
HOST_LOCATION_AREAS: dict[str, frozenset[str]] = {
    COLLECTION_HOST: frozenset({"location"}),
    PACKAGING_HOST: frozenset({"location", "pypi"}),
    FEEDS_HOST: frozenset({"location", "packaging"}),
}


def locations_payload(area: str) -> dict[str, Any] | None:
    """Body of ``OPTIONS _apis/{area}``, or None for an area the emulator does not know."""
    value = _LOCATIONS.get(area.lower())
    if value is None:
        return None
    return {"count": len(value), "value": [dict(item) for item in value]}
