from dockyard.network.rules import BridgeRules, Chains, Forward, render_dns_redirect, render_filter, render_nat

CH = Chains("DY")
NETS = [BridgeRules("dy0", "172.18.0.0/16"), BridgeRules("dy-int", "10.9.0.0/24", internal=True)]


def test_filter_isolates_every_bridge_and_drops_internal_traffic():
    text = render_filter(CH, NETS)
    lines = text.splitlines()
    assert lines[0] == "*filter" and lines[-1] == "COMMIT"
    assert ":DY-FORWARD - [0:0]" in lines  # declaring the chain empties it in --noflush restore
    for br in ("dy0", "dy-int"):
        assert f"-A DY-ISOLATION-1 -i {br} ! -o {br} -j DY-ISOLATION-2" in lines
        assert f"-A DY-ISOLATION-2 -o {br} -j DROP" in lines
    assert "-A DY-FORWARD -i dy0 ! -o dy0 -j ACCEPT" in lines
    assert "-A DY-FORWARD -i dy-int ! -o dy-int -j DROP" in lines
    assert not any("dy-int" in line and "ACCEPT" in line and "! -o" in line for line in lines)


def test_nat_masquerades_outward_networks_and_dnats_ports():
    fwd = [Forward("udp", "0.0.0.0", 5353, "172.18.0.3", 53), Forward("tcp", "127.0.0.1", 8080, "172.18.0.2", 80)]
    lines = render_nat(CH, NETS, fwd).splitlines()
    assert "-A DY-POSTROUTING -s 172.18.0.0/16 ! -o dy0 -j MASQUERADE" in lines
    assert "-A DY-POSTROUTING -s 127.0.0.0/8 -o dy0 -j MASQUERADE" in lines
    assert not any("10.9.0.0/24" in line for line in lines)  # internal: no way out
    assert "-A DY -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80" in lines
    assert "-A DY -p udp -m udp --dport 5353 -j DNAT --to-destination 172.18.0.3:53" in lines


def test_empty_state_still_declares_chains():
    assert render_nat(CH, [], []) == "*nat\n:DY - [0:0]\n:DY-POSTROUTING - [0:0]\nCOMMIT\n"
    assert [t for t, _, _ in CH.jumps()] == ["filter", "nat", "nat", "nat"]


def test_dns_redirect():
    text = render_dns_redirect(40001, 40002)
    assert "--dport 53 -j DNAT --to-destination 127.0.0.11:40001" in text
    assert "-p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:40002" in text
