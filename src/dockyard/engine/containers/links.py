"""Legacy container links (`--link name:alias` on the default bridge), as moby's daemon/links:
the environment the linking container gets and the /etc/hosts lines naming the linked ones.

For `--link db:alias` to a container exposing 5432/tcp at 172.17.0.2:

    ALIAS_NAME=/web/alias
    ALIAS_PORT=tcp://172.17.0.2:5432                 (the lowest port)
    ALIAS_PORT_5432_TCP=tcp://172.17.0.2:5432        (and _ADDR, _PORT, _PROTO, per port)
    ALIAS_ENV_<NAME>=<value>                         (db's Config.Env, not HOME or PATH)

and `172.17.0.2  alias <db's hostname> db` in /etc/hosts. On a user-defined network a link
is only a name in that network's DNS. Pure: the linked containers come in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockyard.engine.containers.model import Container
from dockyard.errors import InvalidArgument, NotFound

LEGACY_MODES = ("", "default", "bridge")


@dataclass(frozen=True, slots=True)
class Link:
    name: str  # the linked container, as given
    alias: str


def parse(spec: str) -> Link:
    """`db:alias` or `db` (alias = name); a leading slash is dropped, as moby's ParseLink."""
    name, _, alias = spec.partition(":")
    name = name.lstrip("/")
    return Link(name, (alias or name).lstrip("/"))


def validate(specs: object) -> None:
    """Raises InvalidArgument, in moby's ParseLink words, for a link that is not `name[:alias]`."""
    for spec in specs or []:
        if not spec:  # "" or a JSON null (Go's "")
            raise InvalidArgument("empty string specified for links")
        if not isinstance(spec, str) or spec.count(":") > 1:
            raise InvalidArgument(f"bad format for links: {spec}")


def check(host_config: dict, find: Callable[[str], Container]) -> None:
    """Raises InvalidArgument, in dockerd's words, for a malformed link and for a link to a
    container that does not exist (on a user-defined network a link is a name that may
    resolve later, as dockerd: no such check there)."""
    validate(host_config.get("Links"))
    if user_defined(host_config.get("NetworkMode") or ""):
        return
    for spec in host_config.get("Links") or []:
        link = parse(spec)
        try:
            find(link.name)
        except NotFound as exc:
            raise InvalidArgument(f"could not get container for {link.name}: {exc}") from None


def user_defined(mode: str) -> bool:
    """Whether a NetworkMode names a user-defined network (not the default bridge, host,
    none or another container's namespace)."""
    return mode not in (*LEGACY_MODES, "host", "none") and not mode.startswith("container:")


def legacy(container: Container) -> bool:
    """Links give environment and hosts lines only on the default bridge."""
    return (container.host_config.get("NetworkMode") or "") in LEGACY_MODES


def resolve(container: Container, find: Callable[[str], Container]) -> list[tuple[Link, Container, str]]:
    """(link, linked container, its default-bridge address) for each link.

    Raises InvalidArgument when a linked container is not running, as dockerd's start does.
    """
    out = []
    for spec in container.host_config.get("Links") or []:
        link = parse(spec)
        child = find(link.name)
        if not child.state.running:
            raise InvalidArgument(
                f"Cannot link to a non running container: /{child.name} AS /{container.name}/{link.alias}"
            )
        address = ((child.network_settings.get("Networks") or {}).get("bridge") or {}).get("IPAddress") or ""
        out.append((link, child, address))
    return out


def environment(parent: str, link: Link, child: Container, address: str) -> list[str]:
    """The variables one link adds to the linking container `parent`'s environment."""
    prefix = link.alias.upper().replace("-", "_")
    env = [f"{prefix}_NAME=/{parent}/{link.alias}"]
    ports = sorted(_ports(child), key=lambda p: (p[0], p[1]))
    if ports:
        number, proto = ports[0]
        env.append(f"{prefix}_PORT={proto}://{address}:{number}")
    for number, proto in ports:
        key = f"{prefix}_PORT_{number}_{proto.upper()}"
        env += [
            f"{key}={proto}://{address}:{number}",
            f"{key}_ADDR={address}",
            f"{key}_PORT={number}",
            f"{key}_PROTO={proto}",
        ]
    for entry in child.config.get("Env") or []:
        name, sep, value = entry.partition("=")
        if sep and name not in ("HOME", "PATH"):
            env.append(f"{prefix}_ENV_{name}={value}")
    return env


def host_names(link: Link, child: Container) -> tuple[str, ...]:
    """The names an /etc/hosts line gives a linked container: alias, hostname, name."""
    names = [link.alias, child.config.get("Hostname") or ""]
    if link.alias != child.name:
        names.append(child.name)
    return tuple(name for name in names if name)


def _ports(child: Container) -> list[tuple[int, str]]:
    out = []
    for port in child.config.get("ExposedPorts") or {}:
        number, _, proto = port.partition("/")
        if number.isdigit():
            out.append((int(number), proto or "tcp"))
    return out
