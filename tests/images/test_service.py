"""The image service over a real content store, overlay snapshotter and SQLite (root)."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.errors import Conflict, InvalidArgument, NoSuchImage
from dockyard.images import load as loader
from dockyard.images import save as saver
from dockyard.images.gc import Collector
from dockyard.images.importer import import_rootfs
from dockyard.images.service import ImageService, ImageUser, LayerBlob
from dockyard.images.store import ImageStore
from dockyard.metadata.db import Database
from dockyard.paths import DataRoot
from dockyard.snapshots.overlay import OverlaySnapshotter

pytestmark = pytest.mark.root
ROOTFS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "busybox-rootfs.sh"


@pytest.fixture
def data_root(tmp_path) -> DataRoot:
    root = DataRoot(tmp_path / "data")
    root.create()
    return root


@pytest.fixture
def service(data_root):
    db = Database(data_root.database)
    yield ImageService(ImageStore(db), LocalContentStore(data_root), OverlaySnapshotter(data_root))
    db.close()


@pytest.fixture(scope="module")
def rootfs_tar() -> bytes:
    return subprocess.run([str(ROOTFS_SCRIPT)], check=True, capture_output=True).stdout


def _tar(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_import_records_one_layer_image_with_changes(service, data_root, rootfs_tar):
    image = import_rootfs(service, io.BytesIO(rootfs_tar), ['CMD ["sh"]', "ENV A=1"], "first", None)
    config = service.config(image)
    assert config["config"]["Cmd"] == ["sh"] and config["config"]["Env"] == ["A=1"]
    assert config["rootfs"]["diff_ids"] == [image.layers[0].diff_id]
    assert config["history"][0]["comment"] == "first"
    assert image.size > 1_000_000
    layer_dir = data_root.layers / image.top_layer.hex / "diff"
    assert (layer_dir / "bin" / "busybox").stat().st_size > 1_000_000


def test_lookup_by_tag_id_and_prefix(service, rootfs_tar):
    image = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    service.tag(image.id, "busybox")
    for ref in ("busybox", "busybox:latest", "docker.io/library/busybox:latest", image.id, image.id.hex[:12]):
        assert service.resolve(ref).id == image.id
    with pytest.raises(NoSuchImage, match="^No such image: nosuch:latest$"):  # named as moby names it
        service.resolve("nosuch")
    with pytest.raises(NoSuchImage, match="^No such image: abcdef123456$"):  # an ID prefix as given
        service.resolve("abcdef123456")
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        service.resolve("UPPER")


def test_rmi_untags_first_then_deletes_and_respects_containers(service, rootfs_tar):
    image = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    service.tag(image.id, "a:1")
    service.tag(image.id, "b:1")
    no_user = lambda image_id: None
    assert service.remove("a:1", False, no_user).untagged == ("docker.io/library/a:1",)
    with pytest.raises(Conflict, match="container c0ffeec0ffee is using"):
        service.remove("b:1", False, lambda image_id: ImageUser("c0ffee" * 10, running=False))
    removal = service.remove("b:1", False, no_user)
    assert removal.deleted == (image.id,)
    assert Collector(service).collect().reclaimed > 0
    assert service.snapshots.list_layers() == [] and list(service.content.list()) == []


def test_save_then_load_round_trip(service, rootfs_tar, tmp_path):
    image = import_rootfs(service, io.BytesIO(rootfs_tar), ['CMD ["sh"]'], None, None)
    service.tag(image.id, "busybox:latest")
    service.tag(image.id, "busybox:other")
    tagged = service.resolve("busybox")
    archive = b"".join(saver.save(service, [(tagged, list(tagged.tags))], tmp_path))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert sorted(manifest[0]["RepoTags"]) == ["busybox:latest", "busybox:other"]
        assert json.load(tar.extractfile("index.json"))["manifests"]
    service.remove(image.id, True, lambda _: None)
    loaded = list(loader.load(service, io.BytesIO(archive), tmp_path))
    assert loaded[0].image_id == image.id
    assert sorted(loaded[0].tags) == ["busybox:latest", "busybox:other"]
    assert service.resolve("busybox:other").id == image.id


@pytest.mark.parametrize(
    "archive, message",
    [
        (b"not a tar at all" * 100, "Error processing tar file"),
        (_tar({"manifest.json": b"{not json"}), "manifest.json"),
        (_tar({"manifest.json": json.dumps([{"Config": "../../etc/passwd", "Layers": []}]).encode()}), "missing"),
        (_tar({"oci-layout": b"{}"}), "neither manifest.json nor index.json"),
    ],
)
def test_bad_archives_are_refused_and_leave_no_image(service, tmp_path, archive, message):
    with pytest.raises(InvalidArgument, match=message):
        list(loader.load(service, io.BytesIO(archive), tmp_path))
    assert service.store.all() == []


def test_layer_not_matching_config_leaves_no_record(service, tmp_path):
    layer = _tar({"hello": b"world"})
    digest = service.put_blob(layer)
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    from dockyard.images.service import LayerBlob

    with pytest.raises(InvalidArgument, match="diff_id"):
        service.register(config, [LayerBlob(digest, "application/vnd.oci.image.layer.v1.tar", len(layer))])
    assert service.store.all() == [] and service.snapshots.list_layers() == []


def test_collect_layers_spares_layers_a_pull_holds(service, rootfs_tar):
    image = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    service.remove(image.id, True, lambda _: None)
    with service.pins.hold([image.top_layer]):
        assert Collector(service).collect().layers == []
        assert service.snapshots.list_layers() == [image.top_layer]
    assert Collector(service).collect().reclaimed > 0
    assert service.snapshots.list_layers() == []


def test_forced_rmi_never_deletes_an_image_a_running_container_uses(service, rootfs_tar):
    image = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    service.tag(image.id, "busybox")
    running = lambda image_id: ImageUser("c0ffee" * 10, running=True)
    with pytest.raises(Conflict, match=r"\(cannot be forced\) - image is being used by running container c0ffeec0ffee"):
        service.remove(image.id, True, running)
    assert service.remove("busybox", True, running).deleted == ()
    assert service.resolve(image.id).tags == ()


def test_removing_the_last_tag_of_a_pulled_image_deletes_it(service, rootfs_tar):
    image = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None)
    service.tag(image.id, "busybox:latest")
    service.store.add_repo_digest(f"docker.io/library/busybox@{image.manifest_digest}", image.id)
    service.tag(image.id, "other:1")
    removal = service.remove("busybox:latest", False, lambda _: None)
    assert removal.untagged == (
        "docker.io/library/busybox:latest",
        f"docker.io/library/busybox@{image.manifest_digest}",
    )
    assert removal.deleted == ()
    assert service.remove("other:1", False, lambda _: None).deleted == (image.id,)


def _child(service: ImageService, parent, step: str, name: str | None = None):
    """An image on `parent`, as a build step or a commit records it: the same layers, another
    config, the parent recorded beside it."""
    config = {**service.config(parent), "comment": step}
    layers = [LayerBlob(layer.digest, layer.media_type, layer.size) for layer in parent.layers]
    names = [f"docker.io/library/{name}"] if name else []
    return service.register(json.dumps(config).encode(), layers, names=names, parent=parent.id)


def _chain(service: ImageService, rootfs_tar: bytes):
    """base:1 <- step one <- step two <- built:1, as a classic build leaves them."""
    base = import_rootfs(service, io.BytesIO(rootfs_tar), [], None, None, names=["docker.io/library/base:1"])
    one = _child(service, base, "one")
    two = _child(service, one, "two")
    return base, one, two, _child(service, two, "top", "built:1")


def test_an_image_others_were_built_on_is_never_deleted_only_untagged(service, rootfs_tar):
    base, one, two, top = _chain(service, rootfs_tar)
    no_user = lambda image_id: None
    assert service.store.children(one.id) == [two.id] and service.parents() == {base.id, one.id, two.id}
    assert service.parent_of(two.id) == one.id and "parent" not in service.config(two)  # the ID stays the config's
    for forced in (False, True):  # moby: a hard conflict, by ID even forced
        with pytest.raises(
            Conflict, match=rf"unable to delete {one.id.short} \(cannot be forced\) - image has dependent child"
        ):
            service.remove(one.id, forced, no_user)
    removal = service.remove("base:1", False, no_user)  # the last name goes, the image stays
    assert removal.untagged == ("docker.io/library/base:1",) and removal.deleted == ()
    assert service.store.get(base.id).tags == ()


def test_rmi_deletes_the_parents_it_leaves_unused_unless_no_prune(service, rootfs_tar):
    base, one, two, top = _chain(service, rootfs_tar)
    service.tag(two.id, "kept:1")
    used = lambda image_id: ImageUser("c0ffee" * 10, running=False) if image_id == one.id else None
    assert service.remove("built:1", False, used).deleted == (top.id,)  # two is named: the pruning stops there
    service.remove("kept:1", False, used, prune=False)  # --no-prune: two goes, alone
    assert {image.id for image in service.all()} == {base.id, one.id}
    top = _child(service, _child(service, one, "again"), "top", "built:2")
    again = service.parent_of(top.id)
    assert service.remove("built:2", False, used).deleted == (top.id, again)  # one: a container uses it
    service.remove("base:1", False, lambda _: None)
    assert service.remove(one.id, False, lambda _: None).deleted == (one.id, base.id)  # nameless now: pruned
    assert service.all() == []
