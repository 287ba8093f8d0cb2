"""`docker build` as the engine serves it: context in, the classic builder's messages out.

build(body, options):
  1. the context tar is read once into a spool under tmp/ and indexed (build.context)
  2. the Dockerfile is read from it and parsed, .dockerignore applied  -> 400 on errors
  3. the steps run lazily as the caller consumes the message stream; the spool goes
     when the stream ends (finished, failed or abandoned by the client)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from dockyard.build.builder import Builder, BuildOptions
from dockyard.build.cache import BuildCache
from dockyard.build.context import BuildContext, Spool
from dockyard.build.dockerignore import excluded, parse
from dockyard.build.instructions import parse_dockerfile
from dockyard.engine.builds.worker import EngineWorker
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.events import EventBus
from dockyard.engine.images.distribution import DistributionService
from dockyard.errors import InvalidArgument, NotFound
from dockyard.images.service import ImageService
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot


class BuildService:
    """Builds images with the engine's containers and images; owns the build cache."""

    def __init__(
        self,
        root: DataRoot,
        cache: BuildCache,
        images: ImageService,
        containers: ContainerService,
        events: EventBus,
        distribution: DistributionService | None = None,
    ) -> None:
        self.root, self.cache, self.images, self.containers = root, cache, images, containers
        self.events, self.distribution = events, distribution

    def build(
        self,
        body: BinaryIO,
        dockerfile: str,
        tags: list[str],
        build_args: dict,
        labels: dict,
        no_cache: bool,
        pull: bool,
        quiet: bool,
        target: str,
        network_mode: str,
        platform: str,
        remove: bool,
        force_remove: bool,
        shm_size: int,
        extra_hosts: list[str],
        auths: dict,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[dict]:
        """Receive and check everything a build needs, then return its message stream;
        `cancelled()` turning true (the client left) stops the build and its RUN steps.

        Raises InvalidArgument (a bad tag, option, context or Dockerfile) before any message.
        """
        for tag in tags:
            parse_reference(tag)
        host_config: dict = {"ExtraHosts": extra_hosts} if extra_hosts else {}
        if shm_size:
            host_config["ShmSize"] = shm_size
        options = BuildOptions(
            dockerfile=dockerfile,
            tags=tuple(tags),
            build_args={str(k): None if v is None else str(v) for k, v in build_args.items()},
            labels={str(k): str(v) for k, v in labels.items()},
            no_cache=no_cache,
            pull=pull,
            quiet=quiet,
            target=target,
            network_mode=network_mode,
            platform=platform,
            remove=remove,
            force_remove=force_remove,
            source_date_epoch=source_date_epoch(build_args.get("SOURCE_DATE_EPOCH")),
            host_config=host_config,
            cancelled=cancelled or (lambda: False),
        )
        return self._build(body, options, auths)

    def _build(self, body: BinaryIO, options: BuildOptions, auths: dict) -> Iterator[dict]:
        spool = Spool(self.root.tmp)
        try:
            context = BuildContext.receive(body, spool)
            try:
                text = context.read_text(options.dockerfile)
            except NotFound:
                raise InvalidArgument(f"Cannot locate specified Dockerfile: {options.dockerfile}") from None
            if ".dockerignore" in context.entries:
                patterns = parse(context.read_text(".dockerignore"))
                context.exclude(lambda path: excluded(path, patterns))
            dockerfile = parse_dockerfile(text)
        except BaseException:
            spool.close()
            raise
        worker = EngineWorker(
            self.root, self.images, self.containers, self.distribution, self.events, options.source_date_epoch, auths
        )
        builder = Builder(worker, self.cache, context, dockerfile, options, self.root.tmp)
        return _closing(builder.build(), spool)

    def prune(self) -> dict:
        """POST /build/prune: forget every cached step (the images stay until pruned)."""
        self.cache.prune()
        return {"CachesDeleted": None, "SpaceReclaimed": 0}


def source_date_epoch(value: object) -> int | None:
    """The SOURCE_DATE_EPOCH build arg as seconds. Raises InvalidArgument."""
    if value is None or value == "":
        return None
    try:
        epoch = int(str(value))
    except ValueError:
        raise InvalidArgument(f"invalid SOURCE_DATE_EPOCH: {value!r} is not a number of seconds") from None
    if epoch < 0:
        raise InvalidArgument(f"invalid SOURCE_DATE_EPOCH: {value!r} is negative")
    return epoch


def _closing(messages: Iterator[dict], spool: Spool) -> Iterator[dict]:
    try:
        yield from messages
    finally:
        close = getattr(messages, "close", None)
        if close:
            close()
        spool.close()
