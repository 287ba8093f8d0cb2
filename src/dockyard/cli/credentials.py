"""X-Registry-Auth for pull and push: the credentials `~/.docker/config.json` gives a registry.

The config file is read by dockyard.distribution.credentials, as docker reads it: the
registry's credHelpers entry, then credsStore, then `auths`. The header is base64url JSON of
docker's AuthConfig; empty credentials when none are stored.
"""

from __future__ import annotations

import base64
import json

from dockyard.distribution.credentials import DockerConfigFile, server_key
from dockyard.oci.reference import parse_reference


def auth_header(reference: str) -> dict[str, str]:
    """The X-Registry-Auth header for the registry of an image reference."""
    registry = parse_reference(reference).domain
    found = DockerConfigFile().get(registry)
    auth: dict[str, str] = {}
    if found is not None:
        auth = {"username": found.username, "password": found.password, "serveraddress": server_key(registry)}
        if found.identity_token:
            auth["identitytoken"] = found.identity_token
    payload = json.dumps(auth, separators=(",", ":")).encode()
    return {"X-Registry-Auth": base64.urlsafe_b64encode(payload).decode()}
