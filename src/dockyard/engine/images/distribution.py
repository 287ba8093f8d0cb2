"""`docker pull`, `push` and `login` as the engine serves them: references, credentials,
docker's progress messages and events, over images.pull / images.push / distribution.login."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from dockyard.distribution import progress as p
from dockyard.distribution.client import Registries
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.login import LOGIN_SUCCEEDED, check_login
from dockyard.engine.events import EventBus
from dockyard.errors import InvalidArgument, NotFound
from dockyard.images.progress import Emit, message, status, stream_job
from dockyard.images.pull import Puller
from dockyard.images.push import ImagePusher
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform, parse_platform
from dockyard.oci.reference import Reference, parse_reference


def credentials_from(auth: dict | None) -> Credentials | None:
    """X-Registry-Auth / POST /auth's AuthConfig as Credentials; None when it carries none."""
    if not auth:
        return None
    username, password = str(auth.get("username") or ""), str(auth.get("password") or "")
    if not username and auth.get("auth"):
        try:
            username, _, password = base64.b64decode(str(auth["auth"]), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidArgument("invalid auth configuration: auth is not base64 user:password") from None
    token = str(auth.get("identitytoken") or "")
    return Credentials(username, password, token) if username or token else None


def pull_reference(from_image: str, tag: str | None) -> tuple[Reference, bool]:
    """The reference to pull, and whether every tag is wanted (no tag, as `pull -a` sends)."""
    named = parse_reference(from_image, default_tag=False)
    if tag:
        if tag.startswith("sha256:"):
            return named.with_digest(Digest(tag)), False
        return named.with_tag(tag), False
    if named.tag or named.digest:
        return named, False
    return named, True


def _skip(digest: Digest, emit: Emit) -> p.ProgressCallback:
    """Docker shows no line for the config blob: drop its events."""
    return lambda event: None if event.digest == digest else emit(message(event))


class DistributionService:
    """Pulls, pushes and logins against registries, with docker's messages and events."""

    def __init__(self, puller: Puller, pusher: ImagePusher, registries: Registries, events: EventBus) -> None:
        self.puller, self.pusher, self.registries, self.events = puller, pusher, registries, events

    def pull(self, from_image: str, tag: str | None, platform: str | None, auth: dict | None) -> Iterator[dict]:
        ref, all_tags = pull_reference(from_image, tag)
        target = parse_platform(platform) if platform else None
        credentials = credentials_from(auth)
        return stream_job(lambda emit: self._pull(ref, all_tags, target, credentials, emit))

    def _pull(
        self, ref: Reference, all_tags: bool, platform: Platform | None, credentials: Credentials | None, emit: Emit
    ) -> None:
        refs = [ref.with_tag(t) for t in self.puller.tags(ref, credentials)] if all_tags else [ref]
        fresh = False
        for one in refs:
            resolved = self.puller.resolve(one, platform, credentials)
            emit(status(f"Pulling from {one.path}", one.tag or str(one.digest)))
            pulled = self.puller.pull(resolved, credentials, _skip(resolved.config_descriptor.digest, emit))
            emit(status(f"Digest: {pulled.digest}"))
            fresh = fresh or pulled.fresh
            self.events.publish("image", "pull", one.familiar(), {"name": one.familiar()})
        name = ref.familiar_name() if all_tags else ref.familiar()
        emit(status(f"Status: {'Downloaded newer image' if fresh else 'Image is up to date'} for {name}"))

    def push(self, name: str, tag: str | None, auth: dict | None) -> Iterator[dict]:
        repository = parse_reference(name, default_tag=False)
        if tag:
            refs = [repository.with_tag(tag)]
        elif repository.tag or repository.digest:
            refs = [repository]
        else:
            refs = self.pusher.tags(repository)
        if not refs:
            raise NotFound(f"An image does not exist locally with the tag: {repository.familiar_name()}")
        for ref in refs:
            self.pusher.image(ref)  # NotFound before the stream starts: an HTTP 404
        credentials = credentials_from(auth)
        return stream_job(lambda emit: self._push(repository, refs, credentials, emit))

    def _push(self, repository: Reference, refs: list[Reference], credentials: Credentials | None, emit: Emit) -> None:
        emit(status(f"The push refers to repository [{repository.name}]"))
        for ref in refs:
            image = self.pusher.image(ref)
            pushed = self.pusher.push(ref, credentials, _skip(image.id, emit))
            label = ref.tag or str(ref.digest)
            emit(status(f"{label}: digest: {pushed.digest} size: {pushed.size}"))
            emit({"progressDetail": {}, "aux": {"Tag": label, "Digest": pushed.digest, "Size": pushed.size}})
            self.events.publish("image", "push", ref.familiar(), {"name": ref.familiar()})

    def login(self, config: dict) -> dict:
        """Check credentials against the registry, as `docker login` asks the daemon to.

        Raises:
            Unauthorized: the registry refused them.
        """
        credentials = credentials_from(config)
        if credentials is None:
            raise InvalidArgument("username and password are required to log in")
        check_login(self.registries, str(config.get("serveraddress") or ""), credentials)
        return {"Status": LOGIN_SUCCEEDED, "IdentityToken": ""}
