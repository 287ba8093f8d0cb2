import socket
import threading

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from dockyard.network.dns import forward, respond

NAMES = {"web": ["172.20.0.2"], "db": ["172.20.0.3", "172.20.0.4"]}


def ask(name: str, qtype: str = "A") -> bytes:
    return DNSRecord.question(name, qtype).pack()


def test_owned_names_are_answered():
    reply = DNSRecord.parse(respond(ask("db"), lambda n: NAMES.get(n, []), lambda ip: None))
    assert sorted(str(rr.rdata) for rr in reply.rr) == ["172.20.0.3", "172.20.0.4"]
    assert reply.header.rcode == RCODE.NOERROR


def test_aaaa_of_owned_name_is_empty_not_forwarded():
    reply = DNSRecord.parse(respond(ask("web.", "AAAA"), lambda n: NAMES.get(n, []), lambda ip: None))
    assert reply.rr == [] and reply.header.rcode == RCODE.NOERROR


def test_a_dual_stack_name_answers_a_with_ipv4_and_aaaa_with_ipv6():
    names = {"v6": ["172.20.0.5", "fd00:1::5"]}.get
    answers = {
        qtype: [
            (QTYPE[rr.rtype], str(rr.rdata))
            for rr in DNSRecord.parse(respond(ask("v6", qtype), lambda n: names(n, []), lambda ip: None)).rr
        ]
        for qtype in ("A", "AAAA", "ANY")
    }
    assert answers["A"] == [("A", "172.20.0.5")]
    assert answers["AAAA"] == [("AAAA", "fd00:1::5")]
    assert sorted(answers["ANY"]) == [("A", "172.20.0.5"), ("AAAA", "fd00:1::5")]


def test_ipv6_ptr_names_the_address():
    asked = []
    question = ".".join(reversed("fd000001000000000000000000000005")) + ".ip6.arpa"
    reply = respond(ask(question, "PTR"), lambda n: [], lambda ip: asked.append(ip) or "v6.net")
    assert asked == ["fd00:1::5"] and str(DNSRecord.parse(reply).rr[0].rdata) == "v6.net."
    assert respond(ask("1.2.ip6.arpa", "PTR"), lambda n: [], lambda ip: "x") is None  # not a whole address


def test_unknown_names_go_upstream_and_ptr_is_answered():
    assert respond(ask("example.org"), lambda n: NAMES.get(n, []), lambda ip: None) is None
    ptr = respond(
        ask("2.0.20.172.in-addr.arpa", "PTR"), lambda n: [], lambda ip: "web.net" if ip == "172.20.0.2" else None
    )
    assert str(DNSRecord.parse(ptr).rr[0].rdata) == "web.net."
    assert respond(b"garbage", lambda n: [], lambda ip: None) == b""


def test_forward_to_a_real_upstream_and_servfail_without_one():
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.bind(("127.0.0.1", 0))

    def serve() -> None:
        data, peer = upstream.recvfrom(512)
        reply = DNSRecord.parse(data).reply()
        reply.add_answer(RR("example.org", QTYPE.A, rdata=A("192.0.2.80")))
        upstream.sendto(reply.pack(), peer)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        data = forward(ask("example.org"), [("127.0.0.1", upstream.getsockname()[1])])
        assert str(DNSRecord.parse(data).rr[0].rdata) == "192.0.2.80"
    finally:
        thread.join()
        upstream.close()
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    failed = DNSRecord.parse(forward(ask("example.org"), [("127.0.0.1", port)], timeout=0.5))
    assert failed.header.rcode == RCODE.SERVFAIL
