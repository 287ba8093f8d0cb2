"""IPv6 on user-defined bridge networks, and legacy links on them, as dockerd 20.10 does both
(checked side by side with the reference dockerd; the differential compares the API shapes).

The daemon runs in a network namespace of its own, so its bridges and forwarding sysctls
never touch the machine's.
"""

from __future__ import annotations

import json
import secrets

import docker
import pytest

from tests.e2e.daemon import Daemon
from tests.network.harness import Namespaces

pytestmark = pytest.mark.root

SLEEP = ["busybox", "sleep", "300"]
HTTPD = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]


@pytest.fixture(scope="module")
def daemon():
    spaces = Namespaces(secrets.token_hex(3))
    try:
        instance = Daemon(netns=spaces.add("host")).start()
        try:
            instance.import_busybox()
            yield instance
        finally:
            instance.cleanup()
    finally:
        spaces.delete_all()


@pytest.fixture(autouse=True)
def clean(daemon):
    """Each test leaves no container or user network behind."""
    yield
    daemon.remove_containers()
    daemon.docker("network", "prune", "-f", check=False)


def in_container(daemon: Daemon, name: str, *command: str) -> str:
    return daemon.docker("exec", name, *command).stdout


def test_ipv6_network_addresses_routes_names_and_traffic(daemon):
    daemon.docker("network", "create", "--ipv6", "--subnet", "10.96.0.0/24", "--subnet", "fd00:dd::/64", "v6")
    daemon.docker("run", "-d", "--name", "c1", "--network", "v6", *SLEEP)
    short2 = daemon.docker("run", "-d", "--name", "c2", "--network", "v6", "--ip6", "fd00:dd::99", *HTTPD).stdout[:12]
    endpoint = daemon.inspect("c1")["NetworkSettings"]["Networks"]["v6"]
    assert (endpoint["GlobalIPv6Address"], endpoint["GlobalIPv6PrefixLen"], endpoint["IPv6Gateway"]) == (
        "fd00:dd::2",
        64,
        "fd00:dd::1",
    )
    assert (endpoint["IPAddress"], endpoint["Gateway"]) == ("10.96.0.2", "10.96.0.1")
    network = json.loads(daemon.docker("network", "inspect", "v6").stdout)[0]
    assert network["EnableIPv6"] is True
    assert {c["Name"]: c["IPv6Address"] for c in network["Containers"].values()} == {
        "c1": "fd00:dd::2/64",
        "c2": "fd00:dd::99/64",
    }
    # inside: the address without duplicate detection (flags 02, as dockerd: IPAM made it unique), the route
    assert "inet6 fd00:dd::2/64 scope global flags 02" in in_container(daemon, "c1", "ip", "-6", "addr", "show", "eth0")
    assert "default via fd00:dd::1 dev eth0" in in_container(daemon, "c1", "ip", "-6", "route")
    short1 = daemon.inspect("c1")["Id"][:12]
    assert f"fd00:dd::2\t{short1}" in in_container(daemon, "c1", "cat", "/etc/hosts")
    # the embedded DNS answers AAAA with the IPv6 address and A with the IPv4 one
    aaaa = in_container(daemon, "c1", "nslookup", "-type=AAAA", "c2")
    assert "fd00:dd::99" in aaaa and "10.96.0.3" not in aaaa
    assert "10.96.0.3" in in_container(daemon, "c1", "nslookup", "-type=A", "c2")
    # traffic: the gateway (the bridge), and HTTP from one container to the other over IPv6
    assert daemon.docker("exec", "c1", "ping", "-c1", "-W3", "fd00:dd::1").returncode == 0
    get = "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 fd00:dd::99 80"
    assert short2 in in_container(daemon, "c1", "sh", "-c", get)


def test_a_disconnect_keeps_a_default_route_of_each_family(daemon):
    daemon.docker("network", "create", "--subnet", "10.99.1.0/24", "four")
    daemon.docker("network", "create", "--ipv6", "--subnet", "fd00:a::/64", "six-a")
    daemon.docker("network", "create", "--ipv6", "--subnet", "fd00:b::/64", "six-b")
    daemon.docker("run", "-d", "--name", "multi", "--network", "four", *SLEEP)
    for network in ("six-a", "six-b"):
        daemon.docker("network", "connect", network, "multi")
    assert "default via fd00:a::1" in in_container(daemon, "multi", "ip", "-6", "route")
    daemon.docker("network", "disconnect", "six-a", "multi")
    routes = in_container(daemon, "multi", "ip", "-6", "route")
    assert "default via fd00:b::1" in routes and "fd00:a::" not in routes
    assert "default via 10.99.1.1" in in_container(daemon, "multi", "ip", "-4", "route")


def test_ipv6_through_the_dockyard_cli_and_a_live_connect(daemon):
    daemon.cli("network", "create", "--ipv6", "--subnet", "fd00:ee::/64", "--gateway", "fd00:ee::fe", "v6b")
    network = json.loads(daemon.docker("network", "inspect", "v6b").stdout)[0]
    assert {"Subnet": "fd00:ee::/64", "Gateway": "fd00:ee::fe"} in network["IPAM"]["Config"]
    daemon.cli("run", "-d", "--name", "d1", "--network", "v6b", "--ip6", "fd00:ee::10", *SLEEP)
    assert daemon.inspect("d1")["NetworkSettings"]["Networks"]["v6b"]["GlobalIPv6Address"] == "fd00:ee::10"
    daemon.docker("run", "-d", "--name", "d2", *SLEEP)  # the default bridge: no IPv6 at all, as dockerd
    assert "inet6" not in in_container(daemon, "d2", "ip", "-6", "addr", "show", "eth0")
    daemon.cli("network", "connect", "--ip6", "fd00:ee::20", "v6b", "d2")
    assert "inet6 fd00:ee::20/64" in in_container(daemon, "d2", "ip", "-6", "addr", "show", "eth1")
    assert daemon.docker("exec", "d2", "ping", "-c1", "-W3", "fd00:ee::10").returncode == 0
    daemon.docker("network", "disconnect", "v6b", "d2")
    assert "fd00:ee::20" not in in_container(daemon, "d2", "ip", "-6", "addr")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["network", "create", "--ipv6", "nopool"], "could not find an available, non-overlapping IPv6 address pool"),
        (["network", "create", "--subnet", "fd00:77::/64", "noflag"], "needs EnableIPv6"),
        (["network", "create", "--ipv6", "--subnet", "fd00:dd:0:0:1::/80", "overlap"], "Pool overlaps"),
        (["run", "--rm", "--network", "v4", "--ip6", "fd00:dd::5", "busybox", "true"], "user configured subnets"),
        (["run", "--rm", "--network", "v6", "--ip6", "fd00:ee::5", "busybox", "true"], "no configured subnet"),
        (["run", "--rm", "--network", "v6", "--ip6", "fd00:dd::1", "busybox", "true"], "Address already in use"),
        (["run", "--rm", "--network", "v6", "--ip6", "10.96.0.5", "busybox", "true"], "invalid IPv6 address"),
        (["run", "--rm", "--network", "v6", "--ip6", "fd00:dd::1%eth0", "busybox", "true"], "invalid IPv6 address"),
        (["run", "--rm", "--ip6", "fd00:dd::5", "busybox", "true"], "supported on user defined networks only"),
        (
            ["run", "--rm", "--network", "host", "--link", "nosuch:x", "busybox", "true"],
            "could not get container for nosuch",
        ),
    ],
)
def test_bad_ipv6_requests_are_refused_and_leave_nothing(daemon, argv, message):
    daemon.docker("network", "create", "v4")
    daemon.docker("network", "create", "--ipv6", "--subnet", "10.96.0.0/24", "--subnet", "fd00:dd::/64", "v6")
    before = daemon.docker("network", "ls", "-q").stdout
    refused = daemon.docker(*argv, check=False)
    assert refused.returncode != 0 and message in refused.stderr
    assert daemon.docker("network", "ls", "-q").stdout == before
    assert daemon.docker("ps", "-aq").stdout == ""


def test_links_on_a_user_defined_network_are_names_only_the_linking_container_resolves(daemon):
    daemon.docker("network", "create", "--ipv6", "--subnet", "10.97.0.0/24", "--subnet", "fd00:97::/64", "ln")
    daemon.docker("network", "create", "elsewhere")
    daemon.docker("run", "-d", "--name", "db", "--network", "ln", *SLEEP)
    daemon.docker("run", "-d", "--name", "far", "--network", "elsewhere", *SLEEP)
    daemon.docker("run", "-d", "--name", "shadow", "--network", "ln", *SLEEP)  # 10.97.0.3
    for client in ("docker", "dockyard"):
        daemon.client(client, "run", "-d", "--name", f"app-{client}", "--network", "ln", "--link", "db:store",
                      "--link", "far:away", "--link", "nosuch:ghost", "--link", "db:shadow", *SLEEP)  # fmt: skip
        app = daemon.inspect(f"app-{client}")
        assert app["HostConfig"]["Links"] is None  # dockerd keeps them as the endpoint's
        assert app["NetworkSettings"]["Networks"]["ln"]["Links"] == [
            "db:store",
            "far:away",
            "nosuch:ghost",
            "db:shadow",
        ]
        shadowed = in_container(daemon, f"app-{client}", "nslookup", "-type=A", "shadow")
        assert "10.97.0.2" in shadowed and "10.97.0.3" not in shadowed  # the link's alias wins, as libnetwork
        for name in ("store", "store.ln"):
            answer = in_container(daemon, f"app-{client}", "nslookup", name)
            assert "10.97.0.2" in answer and "fd00:97::2" in answer, (client, name)
        for unresolved in ("away", "ghost"):  # a container elsewhere, one that does not exist
            assert daemon.docker("exec", f"app-{client}", "nslookup", unresolved, check=False).returncode != 0
        env = in_container(daemon, f"app-{client}", "env")
        assert "STORE_NAME" not in env  # no legacy environment on a user-defined network
    # the alias belongs to the linking container: another one on the network does not resolve it
    daemon.docker("run", "-d", "--name", "other", "--network", "ln", *SLEEP)
    assert daemon.docker("exec", "other", "nslookup", "store", check=False).returncode != 0
    api = daemon.sdk().api
    for bad, message in (([None], "empty string specified for links"), (["a:b:c"], "bad format for links: a:b:c")):
        for body in (
            {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "ln", "Links": bad}},
            {"Image": "busybox", "Cmd": ["true"], "NetworkingConfig": {"EndpointsConfig": {"ln": {"Links": bad}}}},
        ):
            refused = api._post_json(api._url("/containers/create"), data=body)
            assert (refused.status_code, refused.json()["message"]) == (400, message)
    # a live connect carries links too
    daemon.docker("network", "connect", "--link", "db:again", "ln", "far")
    assert "10.97.0.2" in in_container(daemon, "far", "nslookup", "again")


def test_ipv6_and_links_through_the_docker_sdk(daemon):
    client = daemon.sdk()
    pools = [docker.types.IPAMPool(subnet="10.98.0.0/24"), docker.types.IPAMPool(subnet="fd00:98::/64")]
    net = client.networks.create("sdk6", enable_ipv6=True, ipam=docker.types.IPAMConfig(pool_configs=pools))
    assert net.attrs["EnableIPv6"] is True
    db = client.containers.run("busybox", ["sleep", "300"], detach=True, name="sdkdb", network="sdk6")
    endpoint = client.api.create_endpoint_config(ipv6_address="fd00:98::77")
    app = client.containers.run(
        "busybox",
        ["sleep", "300"],
        detach=True,
        name="sdkapp",
        network="sdk6",
        networking_config={"sdk6": endpoint},
        links={"sdkdb": "base"},  # the SDK sends HostConfig.Links alone
    )
    app.reload()
    endpoint = app.attrs["NetworkSettings"]["Networks"]["sdk6"]
    assert endpoint["GlobalIPv6Address"] == "fd00:98::77" and endpoint["IPAMConfig"]["IPv6Address"] == "fd00:98::77"
    db.reload()
    db_v6 = db.attrs["NetworkSettings"]["Networks"]["sdk6"]["GlobalIPv6Address"]
    assert db_v6 == "fd00:98::2"
    answer = app.exec_run(["nslookup", "-type=AAAA", "base"]).output.decode()
    assert db_v6 in answer
    app.remove(force=True)
    db.remove(force=True)
    net.remove()
