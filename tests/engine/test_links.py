"""Legacy links: the environment and hosts names moby's daemon/links gives (pure)."""

import pytest

from dockyard.engine.containers import links
from dockyard.engine.containers.model import Container
from dockyard.errors import InvalidArgument, NoSuchContainer


def _container(name, env=(), ports=(), hostname="abc123", mode="bridge", link_specs=None):
    return Container(
        id=name * 8,
        name=name,
        image="busybox",
        image_id="sha256:x",
        created="",
        config={"Env": list(env), "ExposedPorts": {p: {} for p in ports}, "Hostname": hostname},
        host_config={"NetworkMode": mode, "Links": link_specs},
    )


def test_environment_of_a_link_as_moby_writes_it():
    db = _container("db", env=["PASSWORD=x", "PATH=/bin", "HOME=/root"], ports=["5432/tcp", "53/udp"])
    env = links.environment("web", links.parse("db:my-db"), db, "172.17.0.2")
    assert env == [
        "MY_DB_NAME=/web/my-db",
        "MY_DB_PORT=udp://172.17.0.2:53",
        "MY_DB_PORT_53_UDP=udp://172.17.0.2:53",
        "MY_DB_PORT_53_UDP_ADDR=172.17.0.2",
        "MY_DB_PORT_53_UDP_PORT=53",
        "MY_DB_PORT_53_UDP_PROTO=udp",
        "MY_DB_PORT_5432_TCP=tcp://172.17.0.2:5432",
        "MY_DB_PORT_5432_TCP_ADDR=172.17.0.2",
        "MY_DB_PORT_5432_TCP_PORT=5432",
        "MY_DB_PORT_5432_TCP_PROTO=tcp",
        "MY_DB_ENV_PASSWORD=x",
    ]


def test_parse_and_host_names():
    assert links.parse("/db") == links.Link("db", "db")
    assert links.host_names(links.parse("db:alias"), _container("db")) == ("alias", "abc123", "db")
    assert links.host_names(links.parse("db"), _container("db")) == ("db", "abc123")


def test_only_the_default_bridge_has_legacy_links():
    assert links.legacy(_container("web", mode="default")) and not links.legacy(_container("web", mode="mynet"))


def test_a_link_to_a_missing_or_stopped_container_is_refused():
    def find(name):
        if name == "db":
            return _container("db")
        raise NoSuchContainer(name)

    with pytest.raises(InvalidArgument, match="could not get container for nope: No such container: nope"):
        links.check({"Links": ["nope:x"]}, find)
    web = _container("web", link_specs=["db:alias"])
    with pytest.raises(InvalidArgument, match="Cannot link to a non running container: /db AS /web/alias"):
        links.resolve(web, find)


def test_a_started_container_gets_its_links_environment(engine):
    """Through the engine: the link's variables reach the task's environment, before its own."""
    engine.containers.create(
        "db",
        {"Image": "busybox", "Cmd": ["sleep", "100"], "Env": ["SECRET=s"], "ExposedPorts": {"5432/tcp": {}}},
        {},
        None,
    )
    engine.containers.start("db")
    engine.containers.create(
        "web", {"Image": "busybox", "Cmd": ["sleep", "100"], "Env": ["OWN=1"]}, {"Links": ["db:store"]}, None
    )
    engine.containers.start("web")
    env = engine.runtime.spec(engine.state_dir("web"))["process"]["env"]
    assert "STORE_NAME=/web/store" in env and "STORE_ENV_SECRET=s" in env
    assert any(e.startswith("STORE_PORT_5432_TCP_PORT=5432") for e in env)
    assert env.index("STORE_NAME=/web/store") < env.index("OWN=1")
