"""Container networking: IPAM, the bridge driver (netlink), NAT and published ports
(iptables), the embedded DNS, and the /etc/hosts and resolv.conf files.

The engine talks to `controller.NetworkController`; the pure parts (`portspec`, `ipam`,
`rules`, `hosts`, `resolvconf`, `shapes`, `dns.respond`) need no root and no kernel.
"""
