"""LayerUnpacker's publication on the overlay snapshotter, when a publication fails."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.images.unpack import LayerUnpacker, plan_layers
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.paths import DataRoot
from dockyard.snapshots import overlay
from dockyard.snapshots.overlay import OverlaySnapshotter
from tests.distribution.imagegen import layer_tar

pytestmark = pytest.mark.root


def test_a_failed_publication_is_not_tried_again_on_a_used_up_layer(tmp_path: Path, monkeypatch) -> None:
    root = DataRoot(tmp_path / "data")
    snapshots = OverlaySnapshotter(root)
    tars = [layer_tar({f"f{i}": b"x" * 100}) for i in range(3)]
    descriptors = tuple(Descriptor(mt.OCI_LAYER, Digest.of(tar), len(tar)) for tar in tars)
    layers = plan_layers(descriptors, tuple(Digest.of(tar) for tar in tars))
    durable, calls = overlay.make_durable, []

    def no_space_for_the_second(path: Path, size: int) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        durable(path, size)

    monkeypatch.setattr(overlay, "make_durable", no_space_for_the_second)
    unpacker = LayerUnpacker(snapshots, LocalContentStore(root), layers)
    # what each stream's thread runs once its layer is whole, here one after another
    unpacker._stage(layers[0], io.BytesIO(tars[0]))
    with pytest.raises(OSError, match="No space left on device"):
        unpacker._stage(layers[1], io.BytesIO(tars[1]))
    unpacker._stage(layers[2], io.BytesIO(tars[2]))  # publishes nothing more (it tried layer 1 again)
    with pytest.raises(OSError, match="No space left on device"):
        unpacker.finish()  # the first failure is the pull's error
    unpacker.stop()
    unpacker.remove_published()
    assert snapshots.list_layers() == [] and list(root.tmp.iterdir()) == []
