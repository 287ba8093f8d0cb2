"""The packet-filter rules of every network and published port, rendered as iptables-restore input.

Pure. The whole content of our own chains is a function of the current networks and port
bindings, so every change (and every recovery) re-renders it and applies it in one atomic
`iptables-restore --noflush` per table: a chain declared in the input is emptied and refilled,
so no rule of a gone container or network can survive.

    table   built-in chain                      our chain            what it holds
    filter  FORWARD (first rule)                <P>-FORWARD          accept per bridge, internal drops
            <P>-FORWARD                         <P>-ISOLATION-1/2    drop bridge-to-other-bridge
    nat     PREROUTING, OUTPUT (dst LOCAL)      <P>                  DNAT of published ports
            POSTROUTING                         <P>-POSTROUTING      outbound MASQUERADE, hairpin,
                                                                     127.0.0.1 -> container (route_localnet)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DNS_IP = "127.0.0.11"
DNS_CHAIN = "DOCKYARD-DNS"


@dataclass(frozen=True, slots=True)
class BridgeRules:
    """What the firewall knows of one network: its device, subnet and reach."""

    bridge: str
    subnet: str
    internal: bool = False


@dataclass(frozen=True, slots=True)
class Forward:
    """One published port: host_ip:host_port/proto goes to container_ip:container_port."""

    proto: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int


@dataclass(frozen=True, slots=True)
class Chains:
    """The names of our chains, from one prefix (`DOCKYARD` by default)."""

    prefix: str = "DOCKYARD"

    @property
    def forward(self) -> str:
        return f"{self.prefix}-FORWARD"

    @property
    def isolation1(self) -> str:
        return f"{self.prefix}-ISOLATION-1"

    @property
    def isolation2(self) -> str:
        return f"{self.prefix}-ISOLATION-2"

    @property
    def nat(self) -> str:
        return self.prefix

    @property
    def postrouting(self) -> str:
        return f"{self.prefix}-POSTROUTING"

    def jumps(self) -> list[tuple[str, str, list[str]]]:
        """(table, built-in chain, rule) that lead into our chains."""
        local = ["-m", "addrtype", "--dst-type", "LOCAL"]
        return [
            ("filter", "FORWARD", ["-j", self.forward]),
            ("nat", "PREROUTING", [*local, "-j", self.nat]),
            ("nat", "OUTPUT", [*local, "-j", self.nat]),
            ("nat", "POSTROUTING", ["-j", self.postrouting]),
        ]


def _filter_rules(chains: Chains, net: BridgeRules) -> list[str]:
    br, fwd = net.bridge, chains.forward
    rules = [
        f"-A {chains.isolation1} -i {br} ! -o {br} -j {chains.isolation2}",
        f"-A {chains.isolation2} -o {br} -j DROP",
        f"-A {fwd} -i {br} -o {br} -j ACCEPT",
    ]
    if net.internal:
        return rules + [f"-A {fwd} -i {br} ! -o {br} -j DROP", f"-A {fwd} -o {br} ! -i {br} -j DROP"]
    return rules + [
        f"-A {fwd} -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        f"-A {fwd} -o {br} -m conntrack --ctstate DNAT -j ACCEPT",
        f"-A {fwd} -i {br} ! -o {br} -j ACCEPT",
    ]


def render_filter(chains: Chains, networks: Iterable[BridgeRules]) -> str:
    """The filter table part: forwarding accepts, internal drops and network isolation."""
    networks = list(networks)
    lines = ["*filter"] + [f":{c} - [0:0]" for c in (chains.forward, chains.isolation1, chains.isolation2)]
    # a published port may be reached from another network through the host, as via a proxy
    lines += [
        f"-A {chains.forward} -j {chains.isolation1}",
        f"-A {chains.isolation1} -m conntrack --ctstate DNAT -j RETURN",
    ]
    for net in networks:
        lines += _filter_rules(chains, net)
    return "\n".join(lines + ["COMMIT", ""])


def _dnat(chains: Chains, fwd: Forward) -> str:
    dest = "" if fwd.host_ip in ("", "0.0.0.0") else f"-d {fwd.host_ip}/32 "
    return (
        f"-A {chains.nat} {dest}-p {fwd.proto} -m {fwd.proto} --dport {fwd.host_port} "
        f"-j DNAT --to-destination {fwd.container_ip}:{fwd.container_port}"
    )


def render_nat(chains: Chains, networks: Iterable[BridgeRules], forwards: Iterable[Forward]) -> str:
    """The nat table part: DNAT of published ports, MASQUERADE out, hairpin and loopback."""
    lines = ["*nat", f":{chains.nat} - [0:0]", f":{chains.postrouting} - [0:0]"]
    for net in networks:
        if net.internal:
            continue
        br, post = net.bridge, chains.postrouting
        lines += [
            f"-A {post} -s {net.subnet} ! -o {br} -j MASQUERADE",
            f"-A {post} -s {net.subnet} -o {br} -m conntrack --ctstate DNAT -j MASQUERADE",
            f"-A {post} -s 127.0.0.0/8 -o {br} -j MASQUERADE",
        ]
    lines += [_dnat(chains, fwd) for fwd in sorted(forwards, key=lambda f: (f.proto, f.host_port, f.host_ip))]
    return "\n".join(lines + ["COMMIT", ""])


def render_dns_redirect(udp_port: int, tcp_port: int) -> str:
    """Inside a container's namespace: 127.0.0.11:53 goes to the daemon's sockets there."""
    return "\n".join(
        [
            "*nat",
            f":{DNS_CHAIN} - [0:0]",
            f"-A {DNS_CHAIN} -d {DNS_IP}/32 -p udp -m udp --dport 53 -j DNAT --to-destination {DNS_IP}:{udp_port}",
            f"-A {DNS_CHAIN} -d {DNS_IP}/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination {DNS_IP}:{tcp_port}",
            "COMMIT",
            "",
        ]
    )
