"""Docker's image verbs: the images package plus what only the engine knows (containers, events)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from dockyard import faults
from dockyard.engine import prune
from dockyard.engine.containers import commit as committer
from dockyard.engine.containers import inspectshape
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.containers.views import parse_time
from dockyard.engine.events import EventBus
from dockyard.engine.filtering import boolean
from dockyard.engine.images import filters as image_filters
from dockyard.engine.images.distribution import DistributionService
from dockyard.errors import Conflict, InvalidArgument, NoSuchImage, NotSupported
from dockyard.images import importer
from dockyard.images import load as loader
from dockyard.images import save as saver
from dockyard.images.gc import Collector
from dockyard.images.service import ImageService, tag_reference
from dockyard.images.store import ImageRecord
from dockyard.oci.reference import Reference, is_tag, parse_reference


class ImageBackend:
    def __init__(
        self,
        service: ImageService,
        containers: ContainerService,
        events: EventBus,
        tmp_dir: Path,
        distribution: DistributionService | None = None,
        collector: Collector | None = None,
    ) -> None:
        self.service, self.events, self.tmp_dir = service, events, tmp_dir
        self._containers = containers  # asked which images are in use, and for commit
        self._distribution = distribution  # for pull and push
        self._collector = collector or Collector(service)  # after rmi and prune

    # -- views ------------------------------------------------------------------------

    def _familiar(self, names: tuple[str, ...]) -> list[str]:
        return [parse_reference(n).familiar() for n in names]

    def _summary(self, image: ImageRecord) -> dict:
        config = self.service.config(image)
        return {
            "Id": image.id,
            "ParentId": self.service.parent_of(image.id) or "",
            "RepoTags": self._familiar(image.tags),
            "RepoDigests": self._familiar(image.repo_digests),
            "Created": int(parse_time(image.created)),
            "Size": image.size,
            "SharedSize": -1,
            "Labels": _image_labels(config),
            "Containers": -1,
        }

    def list(self, all: bool, filters: dict[str, list[str]], digests: bool) -> list[dict]:
        """`docker images`: filters as dockerd's (engine/images/filters.py); a reference
        filter lists only the tags and digests it matched; a nameless image others were built on
        (a build's intermediate step) only with `all`."""
        chosen = image_filters.compile_filters(filters, self._created_of)
        parents = self.service.parents()
        summaries = []
        for image in self.service.all():
            if image.id in parents and (chosen.dangling or (not all and not image.tags and not image.repo_digests)):
                continue  # moby: dangling=true lists heads only; without -a no nameless parent
            config = self.service.config(image)
            if not chosen.keeps(_created(config), _image_labels(config)):
                continue
            tags = chosen.refs(self._familiar(image.tags))
            repo_digests = chosen.refs(self._familiar(image.repo_digests))
            if chosen.shown(tags, repo_digests):
                summaries.append(self._summary(image) | {"RepoTags": tags, "RepoDigests": repo_digests})
        return summaries

    def _created_of(self, ref: str) -> float:
        try:
            image = self.service.resolve(ref)
        except NoSuchImage:
            raise NoSuchImage(_normalized(ref)) from None  # dockerd names `nosuch:latest`
        return _created(self.service.config(image))

    def inspect(self, ref: str) -> dict:
        image = self.service.resolve(ref)
        config = self.service.config(image)
        image_config = config.get("config") or {}
        shown = {
            "Id": image.id,
            "RepoTags": self._familiar(image.tags),
            "RepoDigests": self._familiar(image.repo_digests),
            "Parent": self.service.parent_of(image.id) or "",
            "Comment": (config.get("history") or [{}])[-1].get("comment", ""),
            "Created": config.get("created") or image.created,
            "Container": config.get("container", ""),  # deprecated in 1.44, still shown
            "ContainerConfig": inspectshape.config(
                config.get("container_config") or {}, (config.get("container_config") or {}).get("Image") or "", None
            ),
            "DockerVersion": config.get("docker_version", ""),
            "Author": config.get("author", ""),
            "Config": inspectshape.config(image_config, image_config.get("Image") or "", None),
            "Architecture": config.get("architecture", ""),
            "Os": config.get("os", ""),
            "Size": image.size,
            "GraphDriver": {"Name": "overlay2", "Data": None},
            "RootFS": {"Type": "layers", "Layers": [layer.diff_id for layer in image.layers]},
            "Metadata": {"LastTagTime": image.last_tag_time or "0001-01-01T00:00:00Z"},
        }
        if config.get("variant"):  # omitempty, as moby's
            shown["Variant"] = config["variant"]
        return shown

    def history(self, ref: str) -> list[dict]:
        image = self.service.resolve(ref)
        config = self.service.config(image)
        layers = iter(zip(image.chain_ids, image.layers, strict=False))
        rows = []
        for entry in config.get("history") or [{} for _ in image.layers]:
            size = 0
            if not entry.get("empty_layer"):
                chain, _ = next(layers, (None, None))
                size = self.service.snapshots.layer(chain).size if chain else 0
            rows.append(
                {
                    "Id": "<missing>",
                    "Created": int(parse_time(entry.get("created", ""))),
                    "CreatedBy": entry.get("created_by", ""),
                    "Tags": None,
                    "Size": size,
                    "Comment": entry.get("comment", ""),
                }
            )
        rows.reverse()
        shown: ImageRecord | None = image
        for row in rows:  # as moby: the top row is the image, each next one its parent's, while known
            if shown is None:
                break
            row.update(Id=shown.id, Tags=self._familiar(shown.tags) or None)
            shown = self._parent(shown)
        return rows

    def _parent(self, image: ImageRecord) -> ImageRecord | None:
        """The image `image` was committed (or built) from, while it is still here."""
        parent = self.service.parent_of(image.id)
        try:
            return self.service.resolve(parent) if parent else None
        except NoSuchImage:
            return None

    # -- changes ----------------------------------------------------------------------

    def tag(self, ref: str, repo: str, tag: str | None) -> None:
        reference = self.service.tag(ref, str(_target(repo, tag)))
        self._tagged(self.service.resolve(str(reference)).id, reference)

    def _tagged(self, image_id: str, reference: Reference) -> None:
        self.events.publish("image", "tag", image_id, {"name": reference.familiar()})

    def remove(self, ref: str, force: bool, noprune: bool) -> list[dict]:
        """`docker rmi`; --no-prune keeps the parents it leaves untagged (their content too)."""
        result = self._remove(ref, force, parents=not noprune)
        if any("Deleted" in item for item in result):
            faults.point("rmi.after-record")
            self._collect()
        return result

    def _remove(self, ref: str, force: bool, parents: bool) -> list[dict]:
        """Untag or delete, with the parents left unused when `parents`; no collection."""
        removal = self.service.remove(ref, force, self._containers.image_user, prune=parents)
        result = [{"Untagged": parse_reference(name).familiar()} for name in removal.untagged]
        for _ in removal.untagged:  # moby names the image by its ID in an untag event
            self.events.publish("image", "untag", removal.image_id, {"name": removal.image_id})
        for image_id in removal.deleted:
            result.append({"Deleted": image_id})
            self.events.publish("image", "delete", image_id, {"name": image_id})
        return result

    def _collect(self) -> int:
        """Content garbage collection; the bytes it reclaimed."""
        return self._collector.collect(keep=self._container_layers()).reclaimed

    @contextmanager
    def _collecting_on_failure(self) -> Iterator[None]:
        """A load, import or commit that fails leaves blobs and layers no image records (on a full
        disk, the very bytes that filled it): collect them at once, not at the next start."""
        try:
            yield
        except Exception:
            self._collect()
            raise

    def _container_layers(self) -> set:
        keep = set()
        for image in self.service.all():
            if self._containers.image_user(image.id):
                keep.update(image.chain_ids)
        return keep

    def prune(self, filters: dict[str, list[str]]) -> dict:
        everything = "dangling" in filters and not boolean("dangling", filters["dangling"])
        now = time.time()
        prune.cutoff(filters, now)  # a malformed `until` is a 400 before anything is removed
        deleted: list[dict] = []
        gone: set[str] = set()
        parents = self.service.parents()
        for image in self.service.all():  # as moby: the top images, each removed as rmi does
            if image.id in gone or (image.tags and not everything):
                continue  # one a container uses is tried too: its names but the last go (moby)
            names = [*image.tags, *image.repo_digests]
            if image.id in parents and (not everything or not names):
                continue  # what later images were built on stays while they do (moby's Heads())
            config = self.service.config(image)
            if not prune.prune_match(_image_labels(config), _created(config), filters, now):
                continue
            for ref in names or [image.id]:
                try:
                    answer = self._remove(ref, force=False, parents=True)
                except (Conflict, NoSuchImage):
                    continue  # as moby: a name it cannot remove (or one gone with another) is left
                deleted += answer
                gone.update(item["Deleted"] for item in answer if "Deleted" in item)
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": self._collect()}

    def import_(
        self,
        source: BinaryIO,
        repo: str | None,
        tag: str | None,
        changes: list[str],
        message: str | None,
        platform: str | None,
    ) -> Iterator[dict]:
        if repo and "@" in repo:
            parse_reference(repo)
            raise InvalidArgument("cannot import digest reference")
        target = _target(repo, tag) if repo else None  # refused before anything is stored
        names = [str(target)] if target else []
        with self._collecting_on_failure():
            image = importer.import_rootfs(self.service, source, changes, message, platform, names)
        if target:
            self._tagged(image.id, target)
        self.events.publish("image", "import", image.id, {"name": image.id})
        yield {"status": image.id}

    def load(self, source: BinaryIO, quiet: bool) -> Iterator[dict]:
        """Progress messages; an unreadable archive is an error message in the stream, after
        the 200, as dockerd answers it."""
        try:
            with self._collecting_on_failure():
                for loaded in loader.load(self.service, source, self.tmp_dir):
                    names = loaded.tags or (loaded.image_id,)
                    for name in names:
                        label = "Loaded image" if loaded.tags else "Loaded image ID"
                        self.events.publish("image", "load", loaded.image_id, {"name": name})
                        yield {"stream": f"{label}: {name}\n"}
        except loader.InvalidArchive as exc:
            yield {"errorDetail": {"message": str(exc)}, "error": str(exc)}

    def save(self, names: list[str]) -> Iterator[bytes]:
        if not names:
            raise InvalidArgument("no images specified")
        chosen: dict[str, tuple[ImageRecord, list[str]]] = {}
        for name in names:
            try:
                image = self.service.resolve(name)
            except NoSuchImage:
                raise NoSuchImage(name) from None  # dockerd's save names it as asked
            record, tags = chosen.setdefault(image.id, (image, []))
            tags.extend(self._tags_named(name, image))
        return saver.save(self.service, list(chosen.values()), self.tmp_dir)

    def _tags_named(self, name: str, image: ImageRecord) -> list[str]:
        """The tags to record for `name`: itself when a tag, else every tag of the image."""
        try:
            reference = parse_reference(name)
        except InvalidArgument:
            return list(image.tags)
        return [str(reference)] if str(reference) in image.tags else list(image.tags)

    def pull(self, from_image: str, tag: str | None, platform: str | None, auth: dict | None) -> Iterator[dict]:
        if self._distribution is None:
            raise NotSupported("pull is not supported without registry access")
        return self._distribution.pull(from_image, tag, platform, auth)

    def push(self, name: str, tag: str | None, auth: dict | None) -> Iterator[dict]:
        if self._distribution is None:
            raise NotSupported("push is not supported without registry access")
        return self._distribution.push(name, tag, auth)

    def commit(
        self,
        container: str,
        repo: str | None,
        tag: str | None,
        comment: str | None,
        author: str | None,
        pause: bool,
        changes: list[str],
        config: dict | None,
    ) -> dict:
        target = _target(repo, tag) if repo else None  # refused before anything is committed
        names = [str(target)] if target else []
        with self._collecting_on_failure():
            image = committer.commit(
                self._containers, self.service, container, comment, author, pause, changes, config, names
            )
        if target:
            self._tagged(image.id, target)
        self.events.publish(
            "container",
            "commit",
            self._containers.get(container).id,
            {"comment": comment or "", "imageID": image.id, "imageRef": repo or ""},
        )
        return {"Id": image.id}


def _normalized(ref: str) -> str:
    try:
        return parse_reference(ref).familiar()
    except InvalidArgument:
        return ref


def _created(config: dict) -> float:
    """The image config's `created` time in seconds (0 when absent or unreadable, as Go's zero time)."""
    try:
        return parse_time(str(config.get("created") or ""))
    except ValueError:
        return 0.0


def _image_labels(config: dict) -> dict:
    return (config.get("config") or {}).get("Labels") or {}


def _target(repo: str, tag: str | None) -> Reference:
    """The tag `repo` and `tag` name. Raises InvalidArgument as moby's reference parsing does."""
    if tag and not is_tag(tag):  # moby's reference.WithTag, after the repository parsed
        parse_reference(repo)
        raise InvalidArgument("invalid tag format")
    return tag_reference(f"{repo}:{tag}" if tag else repo)
