"""The embedded DNS server containers on user-defined networks reach at 127.0.0.11.

The daemon opens a UDP and a TCP socket *inside* each such container's namespace
(127.0.0.11, random ports; iptables there sends port 53 to them), so one daemon thread
serves every container and knows which container asked. Names the container's networks
own (container names, aliases, short IDs) are answered here; the rest is forwarded, from
the daemon's namespace, to the host's resolvers (or `--dns`).

`respond` is the pure core; `Resolver` is the socket shell.
"""

from __future__ import annotations

import ipaddress
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from dnslib import AAAA, PTR, QTYPE, RCODE, RR, A, DNSRecord

from dockyard.network import netns
from dockyard.network.firewall import apply_dns_redirect

TTL = 600
Lookup = Callable[[str, str], list[str]]  # (container_id, name) -> IPv4 and IPv6 addresses
Reverse = Callable[[str, str], str | None]  # (container_id, ip) -> name
Upstreams = Callable[[str], list[tuple[str, int]]]  # container_id -> resolvers to forward to


def _reverse_ip(name: str) -> str | None:
    """The address a PTR question names (`4.3.2.1.in-addr.arpa`, or 32 nibbles of `ip6.arpa`)."""
    if name.endswith(".in-addr.arpa"):
        labels = name.removesuffix(".in-addr.arpa").split(".")
        if len(labels) == 4 and all(p.isdigit() for p in labels):
            return ".".join(reversed(labels))
    elif name.endswith(".ip6.arpa"):
        nibbles = name.removesuffix(".ip6.arpa").split(".")
        if len(nibbles) == 32 and all(len(n) == 1 and n in "0123456789abcdef" for n in nibbles):
            digits = "".join(reversed(nibbles))
            return str(ipaddress.IPv6Address(int(digits, 16)))
    return None


def respond(packet: bytes, names: Callable[[str], list[str]], reverse: Callable[[str], str | None]) -> bytes | None:
    """The reply to a query for a name we own, or None when it must be forwarded."""
    try:
        query = DNSRecord.parse(packet)
    except Exception:  # dnslib raises several kinds; a malformed packet gets no answer
        return b""
    if not query.questions:
        return b""
    question = query.q
    qname = str(question.qname).rstrip(".").lower()
    reply = query.reply()
    if question.qtype == QTYPE.PTR:
        target = reverse(ip) if (ip := _reverse_ip(qname)) else None
        if target is None:
            return None
        reply.add_answer(RR(question.qname, QTYPE.PTR, rdata=PTR(target + "."), ttl=TTL))
        return reply.pack()
    addresses = names(qname)
    if not addresses:
        return None
    for ip in addresses:
        if ":" not in ip and question.qtype in (QTYPE.A, QTYPE.ANY):
            reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(ip), ttl=TTL))
        elif ":" in ip and question.qtype in (QTYPE.AAAA, QTYPE.ANY):
            reply.add_answer(RR(question.qname, QTYPE.AAAA, rdata=AAAA(ip), ttl=TTL))
    return reply.pack()  # other types of an owned name: NOERROR, no data


def servfail(packet: bytes) -> bytes:
    try:
        reply = DNSRecord.parse(packet).reply()
    except Exception:
        return b""
    reply.header.rcode = RCODE.SERVFAIL
    return reply.pack()


def forward(packet: bytes, upstreams: list[tuple[str, int]], timeout: float = 2.0) -> bytes:
    """Ask each upstream resolver over UDP in turn; SERVFAIL if none answers."""
    for host, port in upstreams:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.sendto(packet, (host, port))
                data, _ = sock.recvfrom(65535)
                return data
            except OSError:
                continue
    return servfail(packet)


def _open_sockets() -> tuple[socket.socket, socket.socket]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.11", 0))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.11", 0))
    tcp.listen(64)
    return udp, tcp


class Resolver:
    """One thread multiplexing every container's DNS sockets; forwards on a small pool."""

    def __init__(self, lookup: Lookup, reverse: Reverse, upstreams: Upstreams, iptables: str = "iptables") -> None:
        self.lookup, self.reverse, self.upstreams, self.iptables = lookup, reverse, upstreams, iptables
        self._selector = selectors.DefaultSelector()
        self._sockets: dict[str, tuple[socket.socket, socket.socket]] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._loop, name="dockyard-dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every socket (the namespaces' redirect rules stay, inert)."""
        self._stopping = True
        self._wake_w.send(b"x")
        if self._thread:
            self._thread.join(5)
        for cid in list(self._sockets):
            self.detach(cid)
        self._pool.shutdown(wait=True)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def attach(self, container_id: str, netns_path: str) -> tuple[int, int]:
        """Serve this container (idempotent); returns the (udp, tcp) ports inside its namespace."""
        with self._lock:
            if container_id in self._sockets:
                udp, tcp = self._sockets[container_id]
                return udp.getsockname()[1], tcp.getsockname()[1]

            def setup() -> tuple[socket.socket, socket.socket]:
                udp, tcp = _open_sockets()
                try:
                    apply_dns_redirect(self.iptables, udp.getsockname()[1], tcp.getsockname()[1])
                except BaseException:
                    udp.close()
                    tcp.close()
                    raise
                return udp, tcp

            udp, tcp = netns.run_in(netns_path, setup)
            self._sockets[container_id] = (udp, tcp)
            self._selector.register(udp, selectors.EVENT_READ, ("udp", container_id))
            self._selector.register(tcp, selectors.EVENT_READ, ("tcp", container_id))
            self._wake_w.send(b"x")
            return udp.getsockname()[1], tcp.getsockname()[1]

    def detach(self, container_id: str) -> None:
        with self._lock:
            for sock in self._sockets.pop(container_id, ()):
                try:
                    self._selector.unregister(sock)
                except (KeyError, ValueError):
                    pass
                sock.close()

    def attached(self) -> set[str]:
        return set(self._sockets)

    def _loop(self) -> None:
        while not self._stopping:
            for key, _ in self._selector.select(timeout=1.0):
                if key.data is None:
                    self._wake_r.recv(64)
                    continue
                kind, cid = key.data
                try:
                    if kind == "udp":
                        data, peer = key.fileobj.recvfrom(65535)
                        self._pool.submit(self._serve_udp, key.fileobj, data, peer, cid)
                    else:
                        conn, _ = key.fileobj.accept()
                        self._pool.submit(self._serve_tcp, conn, cid)
                except OSError:
                    continue  # socket closed by detach meanwhile

    def answer(self, container_id: str, packet: bytes) -> bytes:
        """The reply for one query from this container: ours, or forwarded."""
        reply = respond(packet, lambda name: self.lookup(container_id, name), lambda ip: self.reverse(container_id, ip))
        if reply is None:
            reply = forward(packet, self.upstreams(container_id))
        return reply

    def _serve_udp(self, sock: socket.socket, data: bytes, peer: tuple[str, int], cid: str) -> None:
        reply = self.answer(cid, data)
        if reply:
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass

    def _serve_tcp(self, conn: socket.socket, cid: str) -> None:
        with conn:
            conn.settimeout(5)
            try:
                header = conn.recv(2, socket.MSG_WAITALL)
                (length,) = struct.unpack("!H", header)
                reply = self.answer(cid, conn.recv(length, socket.MSG_WAITALL))
                conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, struct.error):
                return
