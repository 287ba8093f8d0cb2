"""Applies rendered rules with the `iptables` tools of the host (nf_tables or legacy backend).

A thin shell over `rules`: install the jumps into the built-in chains, replace the content
of our chains atomically, and remove all of it again. Commands run in the calling thread's
network namespace (see `netns.run_in` for a container's).
"""

from __future__ import annotations

import shutil
import subprocess

from dockyard.errors import RuntimeFailure
from dockyard.network import rules
from dockyard.network.rules import BridgeRules, Chains, Forward


def _run(args: list[str], stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise RuntimeFailure(f"{args[0]} not found: install iptables") from None
    if check and proc.returncode != 0:
        raise RuntimeFailure(f"{' '.join(args[:4])} failed: {proc.stderr.strip()}")
    return proc


class Firewall:
    """Our chains in the current namespace, named from `chains.prefix`."""

    def __init__(self, chains: Chains = Chains(), iptables: str = "iptables") -> None:
        self.chains = chains
        self.iptables = shutil.which(iptables) or iptables
        self.restore = shutil.which(f"{iptables}-restore") or f"{iptables}-restore"
        self._jumps_checked = False

    def apply(self, networks: list[BridgeRules], forwards: list[Forward]) -> None:
        """Make our chains hold exactly the rules for these networks and ports (atomic per table)."""
        text = rules.render_filter(self.chains, networks) + rules.render_nat(self.chains, networks, forwards)
        _run([self.restore, "-w", "--noflush"], stdin=text)
        if not self._jumps_checked:
            self._ensure_jumps()

    def _ensure_jumps(self) -> None:
        """Hook our chains into the built-in ones, once per daemon (they stay until uninstall)."""
        self._jumps_checked = True
        for table, chain, rule in self.chains.jumps():
            if _run([self.iptables, "-w", "-t", table, "-C", chain, *rule], check=False).returncode != 0:
                verb = ["-I", chain, "1"] if chain == "FORWARD" else ["-A", chain]
                _run([self.iptables, "-w", "-t", table, *verb, *rule])

    def uninstall(self) -> None:
        """Remove the jumps and our chains (idempotent)."""
        self._jumps_checked = False
        for table, chain, rule in self.chains.jumps():
            while _run([self.iptables, "-w", "-t", table, "-D", chain, *rule], check=False).returncode == 0:
                pass
        groups = {
            "filter": [self.chains.forward, self.chains.isolation1, self.chains.isolation2],
            "nat": [self.chains.nat, self.chains.postrouting],
        }
        for table, names in groups.items():
            for name in names:
                _run([self.iptables, "-w", "-t", table, "-F", name], check=False)
            for name in names:
                _run([self.iptables, "-w", "-t", table, "-X", name], check=False)


def apply_dns_redirect(iptables: str, udp_port: int, tcp_port: int) -> None:
    """In the current (container) namespace: send 127.0.0.11:53 to the daemon's sockets."""
    _run([f"{iptables}-restore", "-w", "--noflush"], stdin=rules.render_dns_redirect(udp_port, tcp_port))
    jump = ["-d", f"{rules.DNS_IP}/32", "-j", rules.DNS_CHAIN]
    if _run([iptables, "-w", "-t", "nat", "-C", "OUTPUT", *jump], check=False).returncode != 0:
        _run([iptables, "-w", "-t", "nat", "-A", "OUTPUT", *jump])


def save() -> str:
    """`iptables-save` of the current namespace, for checks that nothing was left behind."""
    return _run(["iptables-save"]).stdout
