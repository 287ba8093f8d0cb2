"""Container networking end to end: a real daemon, the real docker CLI and the dockyard CLI.

The daemon runs inside a network namespace made here (its "host"), so its bridges, veths,
iptables rules and published ports never touch the machine's own network. The host's
address is 10.250.0.2 on its `uplink`; an "outside" namespace at 10.250.0.1 plays the rest
of the world. Containers serve with busybox `httpd -h /etc`, so GET /hostname names them.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import signal
import sys
import time

import docker
import pytest

from tests.e2e.daemon import Daemon
from tests.network.harness import HOST_IP, OUTSIDE_IP, UDP_ECHO, Namespaces, Servers, sh

pytestmark = pytest.mark.root

HTTPD = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]
# a UDP echo in a container: the host's python through a read-only view of the host's root
UDP_SERVER = ["-v", "/:/host:ro", "busybox", "chroot", "/host", sys.executable, "-c", UDP_ECHO, "9000"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Namespaces "host" (the daemon's) and "out", joined by a veth."""
    spaces = Namespaces(secrets.token_hex(3))
    servers = Servers(tmp_path_factory.mktemp("servers"))
    try:
        host, outside = spaces.add("host"), spaces.add("out")
        sh("ip", "link", "add", "uplink", "netns", host, "type", "veth", "peer", "name", "wan", "netns", outside)
        sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", "uplink", ns=host)
        sh("ip", "link", "set", "uplink", "up", ns=host)
        sh("ip", "route", "add", "default", "via", OUTSIDE_IP, ns=host)
        sh("ip", "addr", "add", f"{OUTSIDE_IP}/24", "dev", "wan", ns=outside)
        sh("ip", "link", "set", "wan", "up", ns=outside)
        yield {"host": host, "out": outside, "servers": servers}
    finally:
        servers.stop()
        spaces.delete_all()


@pytest.fixture(scope="module")
def daemon(world):
    instance = Daemon(netns=world["host"]).start()
    try:
        instance.import_busybox()
        yield instance
    finally:
        instance.cleanup()


@pytest.fixture(autouse=True)
def clean(daemon):
    """Each test leaves no container or user network behind."""
    yield
    daemon.remove_containers()
    daemon.docker("network", "prune", "-f", check=False)


def fetch(ns: str, address: str, port: int | str, path: str = "/hostname") -> str:
    """The body of an HTTP GET, made with busybox nc from namespace `ns` ("" on error)."""
    request = f"printf 'GET {path} HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 {address} {port}"
    out = sh("sh", "-c", request, ns=ns, check=False, timeout=20).stdout
    return out.split("\n\n", 1)[1].strip() if "\n\n" in out else ""


def fetch_inside(daemon: Daemon, network: str, target: str, port: int = 80) -> str:
    """The same GET from a throwaway container on `network`."""
    script = f"printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {target} {port}"
    out = daemon.docker("run", "--rm", "--network", network, "busybox", "sh", "-c", script, check=False).stdout
    return out.split("\n\n", 1)[1].strip() if "\n\n" in out else ""


def udp_ask(ns: str, address: str, port: int | str) -> str:
    code = (
        "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3);"
        "s.sendto(b'ping',(sys.argv[1],int(sys.argv[2]))); print(s.recvfrom(200)[0].decode())"
    )
    return sh(sys.executable, "-c", code, address, str(port), ns=ns, check=False, timeout=20).stdout.strip()


def run_web(daemon: Daemon, name: str, *options: str, client: str = "docker") -> str:
    out = daemon.client(client, "run", "-d", "--name", name, *options, *HTTPD).stdout.strip()
    wait_serving(daemon, name)
    return out[:12]


def wait_serving(daemon: Daemon, name: str) -> None:
    for _ in range(50):
        if daemon.docker("exec", name, "sh", "-c", "netstat -ltn | grep -q ':80 '", check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never listened on port 80")


def host_port(daemon: Daemon, name: str, port: str) -> str:
    return daemon.docker("port", name, port).stdout.split()[0].rsplit(":", 1)[1]


def leftovers(ns: str) -> tuple[list[str], list[str]]:
    """Container veths and DNAT rules in the host namespace."""
    links = [line.split(":")[1].strip().split("@")[0] for line in sh("ip", "-o", "link", ns=ns).stdout.splitlines()]
    rules = [line for line in sh("iptables-save", "-t", "nat", ns=ns).stdout.splitlines() if "-j DNAT" in line]
    return [name for name in links if name.startswith("dyv")], rules


# -- publishing ------------------------------------------------------------------------


def test_published_port_from_every_host_address_and_outside(daemon, world):
    short = run_web(daemon, "web", "-p", "8080:80")
    host = world["host"]
    for address in ("127.0.0.1", "0.0.0.0", HOST_IP):
        assert fetch(host, address, 8080) == short, address
    assert fetch(world["out"], HOST_IP, 8080) == short
    assert daemon.docker("port", "web").stdout == "80/tcp -> 0.0.0.0:8080\n"
    assert "0.0.0.0:8080->80/tcp" in daemon.docker("ps").stdout
    assert daemon.cli("port", "web", "80").stdout.strip() == "0.0.0.0:8080"
    settings = daemon.inspect("web")["NetworkSettings"]
    assert settings["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    assert settings["IPAddress"] == settings["Networks"]["bridge"]["IPAddress"] != ""
    # another container reaches the published port through the host's address
    assert fetch_inside(daemon, "bridge", HOST_IP, 8080) == short


def test_host_ip_binding_random_port_and_ranges(daemon, world):
    short = run_web(daemon, "local", "-p", "127.0.0.1::80", "-p", "8100-8101:8100-8101", client="dockyard")
    port = host_port(daemon, "local", "80")
    assert int(port) > 1024
    assert fetch(world["host"], "127.0.0.1", port) == short
    assert fetch(world["host"], HOST_IP, port) == ""  # bound to 127.0.0.1 only
    lines = daemon.docker("port", "local").stdout.splitlines()
    assert f"80/tcp -> 127.0.0.1:{port}" in lines
    assert {"8100/tcp -> 0.0.0.0:8100", "8101/tcp -> 0.0.0.0:8101"} <= set(lines)


def test_publish_all_exposed_ports(daemon, world):
    short = run_web(daemon, "every", "--expose", "80", "-P")
    port = host_port(daemon, "every", "80/tcp")
    assert fetch(world["host"], "127.0.0.1", port) == short
    assert f"0.0.0.0:{port}->80/tcp" in daemon.cli("ps").stdout


def test_udp_published_port(daemon, world):
    daemon.docker("run", "-d", "--name", "echo", "-p", "9000/udp", *UDP_SERVER)
    port = host_port(daemon, "echo", "9000/udp")
    for _ in range(50):
        answer = udp_ask(world["host"], "127.0.0.1", port)
        if answer:
            break
        time.sleep(0.1)
    assert answer.startswith("echo:ping from ")
    assert udp_ask(world["out"], HOST_IP, port).startswith("echo:ping from ")


# -- user networks, names, isolation, NAT ----------------------------------------------


def test_names_aliases_and_ids_resolve_on_a_user_network(daemon):
    daemon.docker("network", "create", "appnet")
    short = run_web(daemon, "db", "--network", "appnet", "--network-alias", "database")
    for target in ("db", "database", short, "db.appnet"):
        assert fetch_inside(daemon, "appnet", target) == short, target
    resolv = daemon.docker("run", "--rm", "--network", "appnet", "busybox", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 127.0.0.11" in resolv
    network = json.loads(daemon.docker("network", "inspect", "appnet").stdout)[0]
    assert [c["Name"] for c in network["Containers"].values()] == ["db"]
    aliases = daemon.inspect("db")["NetworkSettings"]["Networks"]["appnet"]
    assert "database" in aliases["Aliases"] and "db" in aliases["DNSNames"]


def test_networks_are_isolated(daemon):
    daemon.docker("network", "create", "--subnet", "10.91.0.0/24", "left")
    daemon.cli("network", "create", "--subnet", "10.92.0.0/24", "right")
    short = run_web(daemon, "leftweb", "--network", "left")
    address = daemon.inspect("leftweb")["NetworkSettings"]["Networks"]["left"]["IPAddress"]
    assert address.startswith("10.91.0.")
    assert fetch_inside(daemon, "left", address) == short
    assert fetch_inside(daemon, "right", address) == ""
    assert fetch_inside(daemon, "right", "leftweb") == ""
    assert fetch_inside(daemon, "bridge", address) == ""


def test_containers_reach_outside_through_nat_and_the_host(daemon, world):
    world["servers"].udp_echo(world["out"], 5353)
    world["servers"].http(world["host"], 8090, "on the host")
    script = f"printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {HOST_IP} 8090"
    assert daemon.docker("run", "--rm", "busybox", "sh", "-c", script).stdout.endswith("on the host")
    # masqueraded: the outside world sees the host's address, not the container's
    echo = daemon.docker(
        "run",
        "--rm",
        "-v",
        "/:/host:ro",
        "busybox",
        "chroot",
        "/host",
        sys.executable,
        "-c",
        f"import socket; s=socket.socket(2,2); s.settimeout(3); s.sendto(b'hi',('{OUTSIDE_IP}',5353));"
        "print(s.recvfrom(100)[0].decode())",
    ).stdout
    assert echo.strip() == f"echo:hi from {HOST_IP}"


def test_internal_network_has_no_way_out(daemon, world):
    daemon.docker("network", "create", "--internal", "sealed")
    script = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {OUTSIDE_IP} 80; echo done"
    assert daemon.docker("run", "--rm", "--network", "sealed", "busybox", "sh", "-c", script).stdout.strip() == "done"
    assert json.loads(daemon.docker("network", "inspect", "sealed").stdout)[0]["Internal"] is True


def test_connect_and_disconnect_live(daemon):
    daemon.docker("network", "create", "backend")
    short = run_web(daemon, "api", "--network", "backend")
    daemon.docker("run", "-d", "--name", "client", "busybox", "sleep", "300")
    get = "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 api 80"
    assert short not in daemon.docker("exec", "client", "sh", "-c", get, check=False).stdout
    daemon.docker("network", "connect", "--alias", "frontdoor", "backend", "client")
    assert short in daemon.docker("exec", "client", "sh", "-c", get).stdout
    networks = daemon.inspect("client")["NetworkSettings"]["Networks"]
    assert set(networks) == {"bridge", "backend"}
    assert networks["backend"]["IPAddress"] in daemon.docker("exec", "client", "cat", "/etc/hosts").stdout
    assert daemon.docker("exec", "client", "ip", "-o", "addr", "show", "eth1").returncode == 0
    daemon.cli("network", "disconnect", "backend", "client")
    assert short not in daemon.docker("exec", "client", "sh", "-c", get, check=False).stdout
    assert set(daemon.inspect("client")["NetworkSettings"]["Networks"]) == {"bridge"}
    assert daemon.docker("exec", "client", "ip", "link", "show", "eth1", check=False).returncode != 0


def test_link_local_ips_at_run_and_at_connect(daemon):
    daemon.docker("network", "create", "--subnet", "10.87.0.0/24", "lln")
    daemon.docker(
        "run", "-d", "--name", "ll", "--network", "lln", "--link-local-ip", "169.254.9.9", "busybox", "sleep", "300"
    )
    assert "inet 169.254.9.9/16" in daemon.docker("exec", "ll", "ip", "-4", "addr", "show", "eth0").stdout
    endpoint = daemon.inspect("ll")["NetworkSettings"]["Networks"]["lln"]
    assert endpoint["IPAMConfig"] == {"LinkLocalIPs": ["169.254.9.9"]} and endpoint["IPAddress"] == "10.87.0.2"
    daemon.cli("network", "create", "lln2")
    daemon.docker("network", "connect", "--link-local-ip", "169.254.7.7", "lln2", "ll")
    assert "inet 169.254.7.7/16" in daemon.docker("exec", "ll", "ip", "-4", "addr", "show", "eth1").stdout
    for bad, message in (
        ("10.0.0.1", "invalid link local IP address: 10.0.0.1"),
        ("x", "Invalid link-local IP address: [x]"),
    ):
        refused = daemon.docker("create", "--network", "lln", "--link-local-ip", bad, "busybox", "true", check=False)
        assert refused.returncode != 0 and message in refused.stderr


def test_connect_a_stopped_container_applies_at_start(daemon):
    daemon.docker("network", "create", "later")
    daemon.docker("create", "--name", "sleeper", "busybox", "sleep", "300")
    daemon.docker("network", "connect", "later", "sleeper")
    assert set(daemon.inspect("sleeper")["NetworkSettings"]["Networks"]) == {"bridge", "later"}
    daemon.docker("start", "sleeper")
    assert daemon.inspect("sleeper")["NetworkSettings"]["Networks"]["later"]["IPAddress"]


# -- network modes and files -----------------------------------------------------------


def test_host_none_and_container_modes(daemon, world):
    links = daemon.docker("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link").stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
    host_addrs = daemon.docker("run", "--rm", "--network", "host", "busybox", "ip", "-o", "addr").stdout
    assert HOST_IP in host_addrs
    assert (
        "host"
        in daemon.docker(
            "inspect",
            "-f",
            "{{json .NetworkSettings.Networks}}",
            daemon.docker("create", "--network", "host", "busybox", "true").stdout.strip(),
        ).stdout
    )
    run_web(daemon, "owner")
    owner = daemon.inspect("owner")
    address = owner["NetworkSettings"]["IPAddress"]
    joined = daemon.docker(
        "run",
        "--rm",
        "--network",
        "container:owner",
        "busybox",
        "sh",
        "-c",
        "ip -o addr show eth0; hostname; cat /etc/hosts",
    ).stdout
    assert address in joined and owner["Config"]["Hostname"] in joined


def test_dns_hosts_hostname_and_mac(daemon):
    pool = json.loads(daemon.docker("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0]
    assert "Gateway" not in pool  # as dockerd's default bridge shows it without daemon.json's bip
    gateway = str(next(ipaddress.ip_network(pool["Subnet"]).hosts()))  # its first host
    out = daemon.docker(
        "run",
        "--rm",
        "--dns",
        "10.1.2.3",
        "--dns-search",
        "example.org",
        "--add-host",
        "gw:host-gateway",
        "--add-host",
        "db.local:10.9.9.9",
        "--hostname",
        "myhost",
        "--mac-address",
        "02:42:de:ad:be:ef",
        "busybox",
        "sh",
        "-c",
        "cat /etc/resolv.conf /etc/hosts; hostname; cat /sys/class/net/eth0/address",
    ).stdout
    assert "nameserver 10.1.2.3" in out and "search example.org" in out
    assert f"{gateway}\tgw" in out and "10.9.9.9\tdb.local" in out
    assert "\tmyhost\n" in out and out.splitlines()[-2:] == ["myhost", "02:42:de:ad:be:ef"]


# -- nothing left behind -----------------------------------------------------------------


def test_rm_force_leaves_no_rule_or_interface(daemon, world):
    before = leftovers(world["host"])
    daemon.docker("network", "create", "extra")
    run_web(daemon, "temp", "-p", "8200:80")
    daemon.docker("network", "connect", "extra", "temp")
    veths, rules = leftovers(world["host"])
    assert len(veths) == len(before[0]) + 2 and any("--dport 8200" in r for r in rules)
    daemon.docker("rm", "-f", "temp")
    assert leftovers(world["host"]) == before
    assert daemon.docker("network", "rm", "extra").returncode == 0


def test_daemon_restart_and_sigkill_leave_nothing_behind(daemon, world):
    before = leftovers(world["host"])
    daemon.docker("network", "create", "keep")
    survivor = run_web(daemon, "survivor", "-p", "8301:80", "--network", "keep")
    run_web(daemon, "victim", "-p", "8302:80")
    victim_pid = daemon.inspect("victim")["State"]["Pid"]
    daemon.kill(signal.SIGTERM)
    daemon.start()
    assert fetch(world["host"], "127.0.0.1", 8301) == survivor
    assert fetch_inside(daemon, "keep", "survivor") == survivor
    daemon.kill(signal.SIGKILL)
    sh("kill", "-9", str(victim_pid))
    time.sleep(0.5)
    daemon.start()
    assert daemon.inspect("victim")["State"]["Status"] == "exited"
    assert fetch(world["host"], "127.0.0.1", 8301) == survivor
    assert fetch_inside(daemon, "keep", "survivor") == survivor
    address = daemon.inspect("survivor")["NetworkSettings"]["Networks"]["keep"]["IPAddress"]
    assert address in daemon.docker("exec", "survivor", "nslookup", "survivor").stdout  # its own DNS again
    veths, rules = leftovers(world["host"])
    assert not any("--dport 8302" in r for r in rules) and len(veths) == len(before[0]) + 1
    daemon.docker("rm", "-f", "survivor", "victim")
    assert leftovers(world["host"]) == before
    assert fetch(world["host"], "127.0.0.1", 8301) == ""


def test_restart_policy_republishes_the_port(daemon, world):
    run_web(daemon, "phoenix", "--restart", "always", "-p", "8600:80")
    first = daemon.inspect("phoenix")["State"]["Pid"]
    sh("kill", "-9", str(first))
    for _ in range(100):
        state = daemon.inspect("phoenix")["State"]
        if state["Running"] and state["Pid"] not in (0, first):
            break
        time.sleep(0.1)
    wait_serving(daemon, "phoenix")
    assert fetch(world["host"], "127.0.0.1", 8600) == daemon.inspect("phoenix")["Config"]["Hostname"]
    assert sum("--dport 8600" in rule for rule in leftovers(world["host"])[1]) == 1


# -- bad input ------------------------------------------------------------------------


def test_port_already_taken_fails_start_cleanly(daemon, world):
    before = leftovers(world["host"])
    run_web(daemon, "first", "-p", "8400:80")
    failed = daemon.docker("run", "-d", "--name", "second", "-p", "8400:80", *HTTPD, check=False)
    assert failed.returncode != 0 and "Bind for 0.0.0.0:8400 failed: port is already allocated" in failed.stderr
    assert daemon.inspect("second")["State"]["Status"] == "created"
    veths, rules = leftovers(world["host"])
    assert len(veths) == len(before[0]) + 1 and sum("--dport 8400" in r for r in rules) == 1
    # a port held by a program on the host is refused the same way
    world["servers"].http(world["host"], 8401, "squatter")
    failed = daemon.cli("run", "-d", "--name", "third", "-p", "8401:80", *HTTPD, check=False)
    assert failed.returncode != 0 and "8401" in failed.stderr and "already allocated" in failed.stderr
    assert leftovers(world["host"])[1] == rules


def test_ip_range_and_auxiliary_addresses_through_both_clis(daemon):
    daemon.docker("network", "create", "--subnet", "10.86.0.0/24", "--ip-range", "10.86.0.128/25",
                  "--aux-address", "router=10.86.0.129", "ranged")  # fmt: skip
    daemon.cli("network", "create", "--subnet", "10.87.0.0/24", "--ip-range", "10.87.0.64/26",
               "--aux-address", "nas=10.87.0.65", "ranged2")  # fmt: skip
    pools = [
        json.loads(daemon.docker("network", "inspect", n).stdout)[0]["IPAM"]["Config"] for n in ("ranged", "ranged2")
    ]
    assert pools == [  # as given (dockerd shows a gateway only when one was given or the pool allocated)
        [{"Subnet": "10.86.0.0/24", "IPRange": "10.86.0.128/25", "AuxiliaryAddresses": {"router": "10.86.0.129"}}],
        [{"Subnet": "10.87.0.0/24", "IPRange": "10.87.0.64/26", "AuxiliaryAddresses": {"nas": "10.87.0.65"}}],
    ]
    daemon.docker("run", "-d", "--name", "ranged-a", "--network", "ranged", "busybox", "sleep", "60")
    daemon.docker(
        "run", "-d", "--name", "ranged-b", "--network", "ranged", "--ip", "10.86.0.10", "busybox", "sleep", "60"
    )
    daemon.docker("run", "-d", "--name", "ranged-c", "--network", "ranged2", "busybox", "sleep", "60")
    address = {n: daemon.inspect(n)["NetworkSettings"]["Networks"] for n in ("ranged-a", "ranged-b", "ranged-c")}
    assert (
        address["ranged-a"]["ranged"]["IPAddress"] == "10.86.0.130"
    )  # the range, past its gateway and auxiliary address (as dockerd)
    assert address["ranged-a"]["ranged"]["Gateway"] == "10.86.0.128"  # the range's first address, as libnetwork
    assert address["ranged-b"]["ranged"]["IPAddress"] == "10.86.0.10"  # --ip: anywhere in the subnet
    assert address["ranged-c"]["ranged2"]["IPAddress"] == "10.87.0.66"
    taken = daemon.docker("run", "--rm", "--network", "ranged", "--ip", "10.86.0.129", "busybox", "true", check=False)
    assert taken.returncode != 0 and "Address already in use" in taken.stderr
    outside = daemon.cli(  # the docker CLI refuses it itself ("no matching subnet for range")
        "network", "create", "--subnet", "10.85.0.0/24", "--ip-range", "10.84.0.0/25", "bad", check=False
    )
    assert (
        outside.returncode != 0
        and "invalid network config:\ninvalid ip-range 10.84.0.0/25: parent subnet 10.85.0.0/24 doesn't contain ip-range"
        in outside.stderr
    )
    daemon.docker("rm", "-f", "ranged-a", "ranged-b", "ranged-c")
    daemon.docker("network", "rm", "ranged", "ranged2")


def test_overlapping_subnets_are_refused(daemon):
    daemon.docker("network", "create", "--subnet", "10.93.0.0/16", "wide")
    clash = daemon.docker("network", "create", "--subnet", "10.93.4.0/24", "narrow", check=False)
    assert clash.returncode != 0 and "Pool overlaps with other one on this address space" in clash.stderr
    uplink = daemon.cli("network", "create", "--subnet", "10.250.0.0/16", "onhost", check=False)
    assert uplink.returncode != 0 and "overlaps" in uplink.stderr
    names = daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert "narrow" not in names and "onhost" not in names


def test_invalid_port_specs_are_refused(daemon):
    bad = daemon.docker("run", "-d", "-p", "80:abc", "busybox", "true", check=False)
    assert bad.returncode != 0 and "invalid" in bad.stderr.lower()
    api = docker.APIClient(base_url=daemon.host)
    for bindings in ({"abc/tcp": [{"HostPort": "80"}]}, {"80/tcp": [{"HostPort": "99999"}]}, {"80/xyz": None}):
        with pytest.raises(docker.errors.APIError) as caught:
            api.create_container("busybox", "true", host_config={"PortBindings": bindings})
        assert caught.value.status_code == 400 and "invalid" in str(caught.value.explanation)
    assert daemon.docker("ps", "-aq").stdout == ""


def test_removing_a_network_in_use_is_refused(daemon):
    daemon.docker("network", "create", "busy")
    run_web(daemon, "user", "--network", "busy")
    refused = daemon.docker("network", "rm", "busy", check=False)
    assert refused.returncode != 0 and "has active endpoints" in refused.stderr
    assert "busy" in daemon.docker("network", "ls").stdout
    predefined = daemon.cli("network", "rm", "bridge", check=False)
    assert predefined.returncode != 0 and "pre-defined network and cannot be removed" in predefined.stderr


def test_unknown_network_or_container_fails_at_start(daemon):
    unknown = daemon.docker("run", "--name", "lost", "--network", "nosuchnet", "busybox", "true", check=False)
    assert unknown.returncode != 0 and "network nosuchnet not found" in unknown.stderr
    assert "Unable to find image" not in unknown.stderr  # a 404 at create would make the CLI pull
    assert daemon.inspect("lost")["State"]["Status"] == "created"
    orphan = daemon.cli("run", "--network", "container:nosuch", "busybox", "true", check=False)
    assert orphan.returncode != 0 and "No such container: nosuch" in orphan.stderr
    conflict = daemon.docker("run", "--network", "container:lost", "-p", "80:80", "busybox", "true", check=False)
    assert conflict.returncode != 0 and "conflicting options" in conflict.stderr


def test_docker_sdk_network_calls(daemon):
    client = daemon.sdk()
    pool = docker.types.IPAMPool(subnet="10.94.0.0/24", gateway="10.94.0.254")
    net = client.networks.create(
        "sdknet", driver="bridge", ipam=docker.types.IPAMConfig(pool_configs=[pool]), labels={"team": "net"}
    )
    assert [n.name for n in client.networks.list(filters={"label": "team=net"})] == ["sdknet"]
    box = client.containers.run("busybox", ["sleep", "300"], detach=True, name="sdkbox", network="sdknet")
    box.reload()
    address = box.attrs["NetworkSettings"]["Networks"]["sdknet"]["IPAddress"]
    assert (
        address.startswith("10.94.0.")
        and box.attrs["NetworkSettings"]["Networks"]["sdknet"]["Gateway"] == "10.94.0.254"
    )
    net.reload()
    assert [c.name for c in net.containers] == ["sdkbox"]
    net.disconnect(box)
    net.reload()
    assert net.containers == []
    net.connect(box, aliases=["again"])
    box.reload()
    endpoint = box.attrs["NetworkSettings"]["Networks"]["sdknet"]
    assert "again" in endpoint["Aliases"]
    assert endpoint["IPAddress"] in box.exec_run(["ip", "-o", "addr"]).output.decode()
    box.remove(force=True)
    net.remove()
    assert client.networks.list(names=["sdknet"]) == []


@pytest.fixture(scope="module")
def configured(world):
    """A second daemon, in a namespace of its own, with daemon.json `bip` and `mtu`."""
    spaces = Namespaces(secrets.token_hex(3))
    other = Daemon(netns=spaces.add("cfg"), config={"bip": "10.77.0.1/24", "mtu": 1400})
    try:
        other.start()
        other.import_busybox()
        yield other
    finally:
        other.cleanup()
        spaces.delete_all()


def test_daemon_json_bip_sets_the_default_bridge(configured):
    out = configured.docker("run", "--rm", "busybox", "ip", "-o", "addr", "show", "eth0").stdout
    assert "inet 10.77.0.2/24" in out
    bridge = json.loads(configured.docker("network", "inspect", "bridge").stdout)[0]
    assert bridge["IPAM"]["Config"] == [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.1"}]
    assert bridge["Options"]["com.docker.network.driver.mtu"] == "1400"


def test_daemon_json_mtu_reaches_the_container(configured):
    assert configured.docker("run", "--rm", "busybox", "cat", "/sys/class/net/eth0/mtu").stdout.strip() == "1400"
