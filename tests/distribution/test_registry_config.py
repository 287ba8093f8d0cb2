"""daemon.json registry settings and the endpoints they give (pure)."""

import pytest

from dockyard.distribution.config import Endpoint, RegistryConfig
from dockyard.distribution.transport import Tls
from dockyard.errors import InvalidArgument


def test_defaults_match_dockerd():
    config = RegistryConfig.load(__import__("pathlib").Path("/nonexistent/daemon.json"))
    assert (config.max_concurrent_downloads, config.max_concurrent_uploads) == (3, 5)
    assert config.endpoints("docker.io") == [Endpoint("https://registry-1.docker.io", "docker.io")]
    assert config.endpoints("quay.io") == [Endpoint("https://quay.io", "quay.io")]


def test_loopback_and_localhost_are_insecure():
    config = RegistryConfig()
    for host in ("127.0.0.1:5000", "127.5.5.5", "localhost:5000", "[::1]:5000"):
        assert config.is_insecure(host), host
        assert config.endpoints(host) == [
            Endpoint(f"https://{host}", host, tls=Tls(verify=False)),
            Endpoint(f"http://{host}", host),
        ]
    assert not config.is_insecure("10.1.2.3:5000")


def test_insecure_hosts_and_cidrs():
    config = RegistryConfig.from_daemon_json({"insecure-registries": ["myreg:5000", "10.0.0.0/8"]})
    assert config.is_insecure("myreg:5000") and not config.is_insecure("myreg:6000")
    assert config.is_insecure("10.9.9.9:443")
    assert config.is_insecure("named:5000", resolve=lambda name: ["10.1.1.1"])
    assert not config.is_insecure("other:5000", resolve=lambda name: ["192.168.1.1"])


def test_mirrors_come_first_for_pulls_only():
    config = RegistryConfig.from_daemon_json(
        {
            "registry-mirrors": ["https://mirror.example/", "http://127.0.0.1:5001"],
            "registry-mirrors-map": {"quay.io": ["https://quay-mirror.example"]},
            "max-concurrent-downloads": 7,
            "max-concurrent-uploads": 2,
        }
    )
    hub = config.endpoints("docker.io")
    assert [e.url for e in hub] == ["https://mirror.example", "http://127.0.0.1:5001", "https://registry-1.docker.io"]
    assert [e.mirror for e in hub] == [True, True, False]
    assert hub[1].tls.verify is False and hub[0].tls.verify is True
    assert [e.url for e in config.endpoints("docker.io", push=True)] == ["https://registry-1.docker.io"]
    assert [e.url for e in config.endpoints("quay.io")] == ["https://quay-mirror.example", "https://quay.io"]
    assert (config.max_concurrent_downloads, config.max_concurrent_uploads) == (7, 2)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"registry-mirrors": ["ftp://x"]}, 'invalid mirror: "ftp://x" is not a valid URI'),
        ({"registry-mirrors": ["https://x/path"]}, "is not a valid URI"),
        ({"insecure-registries": ["http://x"]}, "should not contain '://'"),
        ({"insecure-registries": ["10.0.0.0/99"]}, "not a valid CIDR"),
        ({"max-concurrent-downloads": 0}, "invalid max-concurrent-downloads value: 0"),
        ({"max-concurrent-uploads": "5"}, "invalid max-concurrent-uploads value"),
    ],
)
def test_bad_settings_are_refused(data, message):
    with pytest.raises(InvalidArgument, match=message):
        RegistryConfig.from_daemon_json(data)


def test_load_reads_a_file_and_refuses_bad_json(tmp_path):
    good = tmp_path / "daemon.json"
    good.write_text('{"max-concurrent-downloads": 4}')
    assert RegistryConfig.load(good).max_concurrent_downloads == 4
    good.write_text("{nope")
    with pytest.raises(InvalidArgument, match="unable to configure the Docker daemon with file"):
        RegistryConfig.load(good)


def test_certs_d_gives_cas_and_client_certificate(tmp_path):
    host_dir = tmp_path / "certs.d" / "reg.example:5000"
    host_dir.mkdir(parents=True)
    for name in ("ca.crt", "extra.crt", "client.cert", "client.key", "orphan.cert", "README"):
        (host_dir / name).write_text("x")
    config = RegistryConfig(certs_dir=tmp_path / "certs.d")
    [endpoint] = config.endpoints("reg.example:5000")
    assert endpoint.tls == Tls(
        True,
        (str(host_dir / "ca.crt"), str(host_dir / "extra.crt")),
        (str(host_dir / "client.cert"), str(host_dir / "client.key")),
    )
    assert config.endpoints("other.example")[0].tls == Tls()
