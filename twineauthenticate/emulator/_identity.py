"""The identity the build token stands for, and ``_apis/connectionData`` naming it.

A pipeline job runs as a build service identity: ``Project Collection Build
Service ({org})`` or, with a job authorization scope of the current project,
``{Project} Build Service ({org})``. ``connectionData`` tells a client who it
is authenticated as (``authenticatedUser.providerDisplayName``) and which kind
of deployment it talks to (``deploymentType``: ``hosted`` for Azure DevOps
Services, ``onPremises`` for Azure DevOps Server).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ._catalog import stable_id

# The Location service's owner id, as Azure DevOps reports it.
LOCATION_SERVICE_OWNER = "00025394-6065-48ca-87d9-7f5672854ef7"


def default_identity(organization: str) -> str:
    return f"Project Collection Build Service ({organization})"


@dataclass(frozen=True)
class Identity:
    name: str
    id: str
    descriptor: str
    subject_descriptor: str

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "descriptor": self.descriptor,
            "subjectDescriptor": self.subject_descriptor,
            "providerDisplayName": self.name,
            "isActive": True,
            "properties": {"Account": {"$type": "System.String", "$value": self.name}},
            "resourceVersion": 2,
            "metaTypeId": 255,
        }


def make_identity(organization: str, name: str) -> Identity:
    """A build service identity with ids that depend only on the organization and name."""
    if not name or name != name.strip():
        raise ValueError(f"identity must be non-empty without surrounding spaces: {name!r}")
    identity_id = stable_id(organization, "identity", name)
    scope_id = stable_id(organization, "identity-scope", name)
    descriptor = (
        f"Microsoft.TeamFoundation.ServiceIdentity;{collection_id(organization)}:Build:{scope_id}"
    )
    encoded = base64.urlsafe_b64encode(descriptor.split(";", 1)[1].encode("utf-8"))
    return Identity(name, identity_id, descriptor, "svc." + encoded.decode("ascii").rstrip("="))


def collection_id(organization: str) -> str:
    return stable_id(organization, "collection")


def connection_data_payload(identity: Identity, organization: str, mode: str) -> dict[str, Any]:
    """Body of ``GET _apis/connectionData``."""
    user = identity.payload()
    return {
        "authenticatedUser": user,
        "authorizedUser": dict(user),
        "instanceId": collection_id(organization),
        "deploymentId": stable_id(organization, "deployment"),
        "deploymentType": "hosted" if mode == "services" else "onPremises",
        "locationServiceData": {
            "serviceOwner": LOCATION_SERVICE_OWNER,
            "defaultAccessMappingMoniker": "PublicAccessMapping",
            "lastChangeId": 1,
            "lastChangeId64": 1,
        },
    }
