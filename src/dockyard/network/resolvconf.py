"""The container's /etc/resolv.conf: a pure parse and render, and docker's rules for it.

network                      nameservers in the container
user-defined (embedded DNS)  127.0.0.11 (the resolver forwards to the host's or --dns)
default bridge / none        --dns, else the host's minus loopback ones, else Google's
host                         the host's file as it is
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

EMBEDDED_DNS = "127.0.0.11"
FALLBACK_DNS = ("8.8.8.8", "8.8.4.4")


@dataclass(frozen=True, slots=True)
class ResolvConf:
    """The three settings that matter: servers, search domains and options."""

    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = field(default=())


def parse_resolv_conf(text: str) -> ResolvConf:
    """Read a resolv.conf; later `search`/`domain` lines replace earlier ones, like glibc."""
    servers: list[str] = []
    search: tuple[str, ...] = ()
    options: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if not fields:
            continue
        key, values = fields[0], fields[1:]
        if key == "nameserver" and values:
            servers.append(values[0])
        elif key in ("search", "domain"):
            search = tuple(values)
        elif key == "options":
            options.extend(values)
    return ResolvConf(tuple(servers), search, tuple(options))


def render_resolv_conf(conf: ResolvConf) -> str:
    lines = [f"nameserver {server}" for server in conf.nameservers]
    if conf.search:
        lines.append("search " + " ".join(conf.search))
    if conf.options:
        lines.append("options " + " ".join(conf.options))
    return "\n".join(lines) + "\n"


def _is_loopback(server: str) -> bool:
    return server.startswith("127.") or server in ("::1", "0:0:0:0:0:0:0:1")


def container_resolv_conf(
    host: ResolvConf,
    dns: Iterable[str] = (),
    dns_search: Iterable[str] = (),
    dns_options: Iterable[str] = (),
    embedded: bool = False,
) -> ResolvConf:
    """What a container sees, from the host's file and `--dns`, `--dns-search`, `--dns-option`."""
    dns, dns_search, dns_options = tuple(dns), tuple(dns_search), tuple(dns_options)
    conf = replace(host, search=dns_search or host.search, options=dns_options or host.options)
    if embedded:
        options = conf.options if any(o.startswith("ndots:") for o in conf.options) else ("ndots:0", *conf.options)
        return replace(conf, nameservers=(EMBEDDED_DNS,), options=options)
    servers = dns or tuple(s for s in host.nameservers if not _is_loopback(s)) or FALLBACK_DNS
    return replace(conf, nameservers=servers)


def upstream_servers(host: ResolvConf, dns: Iterable[str] = ()) -> tuple[str, ...]:
    """Where the embedded resolver forwards names it does not own: `--dns`, else the host's."""
    return tuple(dns) or host.nameservers or FALLBACK_DNS
