"""`docker login` / `docker logout`: check credentials against a registry, then file them.

A login succeeds when `/v2/` answers 200 with the credentials: directly (Basic), or after
the token server accepted them (Bearer). Credentials go to config.json as docker writes them
(a helper when credsStore/credHelpers says so, else base64 in `auths`).
"""

from __future__ import annotations

from dockyard.distribution.auth import RegistryAuth
from dockyard.distribution.client import Registries, RegistryClient, try_endpoints
from dockyard.distribution.config import Endpoint
from dockyard.distribution.credentials import Credentials, DockerConfigFile, registry_host, server_key
from dockyard.errors import InvalidArgument, NotFound, Unauthorized

LOGIN_SUCCEEDED = "Login Succeeded"


def check_login(registries: Registries, server: str, credentials: Credentials) -> None:
    """Raises Unauthorized when the registry refuses the credentials."""
    if not credentials.username or not (credentials.password or credentials.identity_token):
        raise InvalidArgument("username and password are required to log in")
    registry = registry_host(server)

    def attempt(endpoint: Endpoint) -> None:
        # A fresh RegistryAuth, never a cached token: these credentials must prove themselves.
        client = RegistryClient(endpoint, registries.transport, RegistryAuth(credentials))
        response = client.send("GET", "/v2/")
        response.read()
        if response.status == 401:
            raise Unauthorized(f"login attempt to {client.url('/v2/')} failed with status: 401 Unauthorized")
        if response.status != 200:
            raise Unauthorized(
                f"login attempt to {client.url('/v2/')} failed with status: {response.status} {response.reason}"
            )

    try_endpoints(registries.endpoints(registry, push=True), attempt)


def login(
    registries: Registries, server: str, username: str, password: str, config: DockerConfigFile | None = None
) -> str:
    """Check the credentials, store them, and return docker's "Login Succeeded"."""
    credentials = Credentials(username, password)
    check_login(registries, server, credentials)
    (config or DockerConfigFile()).store(registry_host(server), credentials)
    return LOGIN_SUCCEEDED


def logout(server: str, config: DockerConfigFile | None = None) -> str:
    """Forget the credentials of a registry, as `docker logout` does.

    Raises:
        NotFound: there were none.
    """
    registry = registry_host(server)
    if not (config or DockerConfigFile()).erase(registry):
        raise NotFound(f"Not logged in to {server_key(registry)}")
    return f"Removing login credentials for {server_key(registry)}"
