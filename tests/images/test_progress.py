"""Docker's progress messages, the job streamer, keyed locks and layer planning (pure, no root)."""

from __future__ import annotations

import threading
import time

import pytest

from dockyard.distribution import progress as p
from dockyard.errors import InvalidArgument, NotFound
from dockyard.images.pins import KeyedLocks
from dockyard.images.progress import message, progress_text, status, stream_job
from dockyard.images.unpack import plan_layers
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest, chain_id
from dockyard.units import human_size

DIGEST = Digest.of(b"layer")


@pytest.mark.parametrize(
    "size, text",
    [(0, "0B"), (999, "999B"), (1000, "1kB"), (1_048_576, "1.049MB"), (2_811_478, "2.811MB"), (5_000_000_000, "5GB")],
)
def test_human_size_is_go_units(size, text):
    assert human_size(size) == text


def test_progress_text_matches_moby():
    assert progress_text(0, 0) == ""
    assert progress_text(1_048_576, 2_811_478) == "[" + "=" * 18 + ">" + " " * 32 + "]  1.049MB/2.811MB"
    assert progress_text(10, 10).startswith("[" + "=" * 50 + ">]")
    assert progress_text(2000, 0) == "     2kB"
    assert progress_text(20, 10, width=80) == "     20B"  # narrow: no bar; wonky totals: no total


def test_message_shapes():
    assert message(p.Progress(DIGEST, p.PULLING)) == {
        "status": "Pulling fs layer",
        "progressDetail": {},
        "id": DIGEST.short,
    }
    downloading = message(p.Progress(DIGEST, p.DOWNLOADING, 512, 1024))
    assert downloading["progressDetail"] == {"current": 512, "total": 1024}
    assert downloading["progress"].endswith("512B/1.024kB")
    assert message(p.Progress(DIGEST, p.MOUNTED, detail="library/busybox"))["status"] == "Mounted from library/busybox"
    assert status("Digest: x") == {"status": "Digest: x"} and status("Pulling from a", "latest")["id"] == "latest"


def test_stream_job_yields_then_raises():
    def job(emit):
        emit({"status": "one"})
        emit({"status": "two"})
        raise NotFound("gone")

    stream = stream_job(job)
    assert next(stream) == {"status": "one"} and next(stream) == {"status": "two"}
    with pytest.raises(NotFound, match="gone"):
        next(stream)


def test_stream_job_error_before_any_message():
    def job(emit):
        raise InvalidArgument("bad")

    with pytest.raises(InvalidArgument):
        list(stream_job(job))


def test_keyed_locks_serialise_shared_keys_only():
    locks, order = KeyedLocks(), []

    def hold(keys, tag, pause):
        with locks.hold(keys):
            order.append(f"{tag}+")
            time.sleep(pause)
            order.append(f"{tag}-")

    first = threading.Thread(target=hold, args=(["b", "a"], "1", 0.2))
    first.start()
    time.sleep(0.05)
    hold(["c"], "free", 0)  # no shared key: does not wait
    second = threading.Thread(target=hold, args=(["a", "z"], "2", 0))
    second.start()
    first.join()
    second.join()
    assert order.index("free-") < order.index("1-")
    assert order.index("1-") < order.index("2+")
    assert locks._locks == {}  # nothing left behind


def test_plan_layers_chains_and_checks_counts():
    diff_ids = (Digest.of(b"1"), Digest.of(b"2"))
    layers = tuple(Descriptor(mt.OCI_LAYER_GZIP, Digest.of(bytes([i])), 10) for i in range(2))
    planned = plan_layers(layers, diff_ids)
    assert [layer.chain_id for layer in planned] == [diff_ids[0], chain_id(list(diff_ids))]
    assert planned[0].parent is None and planned[1].parent == planned[0].chain_id
    with pytest.raises(InvalidArgument, match="lists 2 layers but the manifest has 1"):
        plan_layers(layers[:1], diff_ids)
