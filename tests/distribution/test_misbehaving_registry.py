"""A proxy that corrupts, cuts and lies: each pull fails clearly, leaves the store clean, and a
later pull through a well-behaved path succeeds."""

import hashlib
import zlib

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution import progress as p
from dockyard.distribution.client import Registries
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import DockerConfigFile
from dockyard.distribution.pull import pull
from dockyard.distribution.pusher import Pusher
from dockyard.distribution.resolver import VerificationFailed
from dockyard.errors import NotSupported, Unavailable
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot

from .imagegen import make_image, noise
from .proxy import MisbehavingProxy


@pytest.fixture
def setup(registry, tmp_path):
    """An image of three layers pushed to the registry, a proxy in front of it, an empty store."""
    registries = Registries(RegistryConfig(max_concurrent_downloads=2), DockerConfigFile(tmp_path / "cfg.json"))
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    manifest = make_image(source, [{"a": noise(400_000, "a")}, {"b": noise(600_000, "b")}, {"c": b"small"}])
    Pusher(registries).push(parse_reference(f"{registry.address}/test/img:v1"), manifest, source)
    proxy = MisbehavingProxy(registry.address)
    yield registries, proxy, LocalContentStore(DataRoot(tmp_path / "target")), manifest
    proxy.stop()


def assert_clean(store):
    assert list(store.list()) == []
    assert list(store.root.ingest.iterdir()) == []


def pull_through(registries, proxy, store, **kw):
    return pull(registries, parse_reference(f"{proxy.address}/test/img:v1"), store, **kw)


def test_corrupted_blob_fails_verification_and_leaves_nothing(setup):
    registries, proxy, store, manifest = setup
    proxy.fault = "corrupt"
    with pytest.raises(VerificationFailed, match="config verification failed for digest sha256:"):
        pull_through(registries, proxy, store)
    assert_clean(store)
    proxy.min_blob = 100_000
    with pytest.raises(VerificationFailed, match="filesystem layer verification failed for digest sha256:"):
        pull_through(registries, proxy, store)
    assert_clean(store)
    proxy.fault = ""
    resolved = pull_through(registries, proxy, store)
    assert store.exists(resolved.manifest_descriptor.digest) and len(list(store.list())) == 5


def test_one_corrupted_layer_rolls_back_the_others(setup):
    registries, proxy, store, manifest = setup
    proxy.fault, proxy.times, proxy.min_blob = "corrupt", 1, 500_000
    with pytest.raises(VerificationFailed):
        pull_through(registries, proxy, store)
    assert_clean(store)


def test_cut_stream_resumes_with_range(setup):
    registries, proxy, store, manifest = setup
    proxy.fault, proxy.times, proxy.min_blob = "cut", 2, 100_000
    events = []
    resolved = pull_through(registries, proxy, store, progress=events.append)
    assert all(store.exists(d.digest) for d in resolved.layers)
    ranges = [r for _, _, r in proxy.log if r]
    assert len(ranges) == 2 and all(r.startswith("bytes=") and not r.startswith("bytes=0-") for r in ranges)
    assert sum(e.status == p.RETRYING for e in events) == 2


def test_cut_stream_resumes_even_when_range_is_ignored(setup):
    registries, proxy, store, manifest = setup
    proxy.fault, proxy.times, proxy.min_blob = "cut", 1, 100_000
    resolved = pull_through(registries, proxy, store)
    assert all(store.exists(d.digest) for d in resolved.layers)
    proxy.fault, proxy.times = "no-range", 1 << 30
    store2 = LocalContentStore(DataRoot(store.root.root.parent / "again"))
    pull_through(registries, proxy, store2)
    assert sorted(store2.list()) == sorted(store.list())


def test_stream_cut_every_time_gives_up_cleanly(setup, monkeypatch):
    from dockyard.distribution import fetcher

    monkeypatch.setattr(fetcher, "RETRY_DELAY", 0.01)
    registries, proxy, store, manifest = setup
    proxy.fault, proxy.min_blob = "cut", 1000  # every resumed range is cut again, the config is spared
    with pytest.raises(Unavailable, match="after 5 attempts: .*unexpected EOF"):
        pull_through(registries, proxy, store)
    assert_clean(store)
    proxy.fault = ""
    pull_through(registries, proxy, store)
    assert len(list(store.list())) == 5


def test_cut_config_is_retried(setup):
    registries, proxy, store, manifest = setup
    proxy.fault, proxy.times = "cut", 2
    resolved = pull_through(registries, proxy, store)
    assert store.exists(resolved.config_descriptor.digest)


def test_lying_manifest_digest_is_caught(setup):
    registries, proxy, store, manifest = setup
    proxy.fault = "lie-digest"
    with pytest.raises(VerificationFailed, match="manifest verification failed for digest sha256:0000"):
        pull_through(registries, proxy, store)
    assert_clean(store)


def test_schema1_is_refused(setup):
    registries, proxy, store, manifest = setup
    proxy.fault = "schema1"
    with pytest.raises(NotSupported, match="schema 1 is not supported"):
        pull_through(registries, proxy, store)
    assert_clean(store)


def test_unknown_manifest_type_is_refused(setup):
    registries, proxy, store, manifest = setup
    proxy.fault = "unknown-type"
    with pytest.raises(NotSupported, match="unsupported manifest media type: application/vnd.example.thing"):
        pull_through(registries, proxy, store)
    assert_clean(store)


def test_registry_gone_mid_way(setup, registry, monkeypatch):
    from dockyard.distribution import fetcher

    monkeypatch.setattr(fetcher, "RETRY_DELAY", 0.01)
    registries, proxy, store, manifest = setup
    ref = parse_reference(f"{registry.address}/test/img:v1")
    events = []

    def stop_after_first_blob(event):
        events.append(event)
        if event.status == p.DOWNLOAD_COMPLETE and len([e for e in events if e.status == p.DOWNLOAD_COMPLETE]) == 1:
            registry.stop()

    with pytest.raises(Unavailable):
        pull(registries, ref, store, progress=stop_after_first_blob)
    assert_clean(store)


class GunzipSink:
    """Unpacks a gzip layer while it downloads and hashes the tar: its diff_id, streamed."""

    def __init__(self, log):
        self.inflate = zlib.decompressobj(wbits=31)
        self.hash = hashlib.sha256()
        self.log = log

    def write(self, data):
        self.hash.update(self.inflate.decompress(data))

    def close(self):
        self.log.append(("close", "sha256:" + self.hash.hexdigest()))

    def abort(self):
        self.log.append(("abort", None))


def test_sinks_see_layers_stream_in_even_across_resumes(setup):
    registries, proxy, store, manifest = setup
    proxy.fault, proxy.times, proxy.min_blob = "cut", 2, 100_000
    log = []
    sinks = lambda d: GunzipSink(log) if d in manifest.layers else None
    resolved = pull_through(registries, proxy, store, sinks=sinks)
    assert sorted(digest for event, digest in log) == sorted(resolved.config.diff_ids)
    assert {event for event, _ in log} == {"close"}


def test_sinks_are_aborted_when_a_layer_fails(setup):
    registries, proxy, store, manifest = setup
    proxy.fault, proxy.min_blob = "corrupt", 100_000
    log = []
    with pytest.raises(VerificationFailed):
        pull_through(registries, proxy, store, sinks=lambda d: GunzipSink(log) if d in manifest.layers else None)
    assert ("abort", None) in log
    assert_clean(store)


def test_a_failing_sink_fails_the_pull_and_leaves_nothing(setup):
    registries, proxy, store, manifest = setup

    class Broken(GunzipSink):
        def write(self, data):
            raise RuntimeError("disk full while unpacking")

    log = []
    with pytest.raises(RuntimeError, match="disk full while unpacking"):
        pull_through(registries, proxy, store, sinks=lambda d: Broken(log) if d == manifest.layers[0] else None)
    assert log == [("abort", None)]
    assert_clean(store)
