"""Docker's volume verbs (create, ls, inspect, rm, prune) and what containers need of volumes:
create on first use, references (a referenced volume is "in use": rm is a 409), and mounts of
the driver's filesystem while a running container uses the volume.

References live in memory; the container service declares its containers' volumes again at
daemon start-up (`reference`), as moby's volume store rebuilds its reference counts.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from dockyard.diskusage import du
from dockyard.engine.events import EventBus
from dockyard.engine.volumes import rules
from dockyard.errors import Conflict, InvalidArgument, NotFound, NotSupported
from dockyard.timestamps import now_rfc3339_seconds
from dockyard.volumes.local import DRIVER, LocalDriver, check_name, check_options
from dockyard.volumes.store import ANONYMOUS, VolumeRecord, VolumeStore


class VolumeService:
    def __init__(self, store: VolumeStore, driver: LocalDriver, events: EventBus) -> None:
        self.store, self.driver, self.events = store, driver, events
        self._lock = threading.RLock()
        self._refs: dict[str, set[str]] = {}  # volume -> ids of the containers that reference it
        self._active: dict[str, set[str]] = {}  # volume -> ids of the running containers using it

    # -- docker volume ... ---------------------------------------------------------------

    def list(self, filters: dict[str, list[str]]) -> dict:
        rules.check_filters(filters, rules.LIST_FILTERS)
        volumes = [
            self._json(record) for record in self.store.all() if rules.listed(record, filters, self.in_use(record.name))
        ]
        return {"Volumes": volumes, "Warnings": []}

    def create(self, config: dict) -> dict:
        if config.get("ClusterVolumeSpec"):
            raise NotSupported("cluster volumes are not supported")
        """`docker volume create`; a refused name or option in moby's words ("create <name>: ...")."""
        name = config.get("Name") or ""
        try:
            record = self.ensure(
                name,
                config.get("Driver") or DRIVER,
                dict(config.get("DriverOpts") or {}),
                dict(config.get("Labels") or {}),
            )
        except InvalidArgument as exc:
            raise InvalidArgument(f"create {name}: {exc}" if name else str(exc)) from None
        return self._json(record)

    def inspect(self, name: str) -> dict:
        return self._json(self.store.get(name))

    def remove(self, name: str, force: bool) -> None:
        with self._lock:
            record = self.store.find(name)
            if record is None:
                if force:
                    return
                self.store.get(name)  # raises NoSuchVolume
            users = sorted(self._refs.get(name) or ())
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            self.store.delete(name)
        self.driver.remove(record)
        self.events.publish("volume", "destroy", name, {"driver": record.driver})

    def prune(self, filters: dict[str, list[str]]) -> dict:
        rules.check_filters(filters, rules.PRUNE_FILTERS)
        deleted, reclaimed = [], 0
        for record in self.store.all():
            if self.in_use(record.name) or not rules.prunable(record, filters):
                continue
            size = self.size(record.name)
            try:
                self.remove(record.name, force=False)
            except Conflict:
                continue  # taken by a container meanwhile
            deleted.append(record.name)
            reclaimed += size
        return {"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}

    # -- for containers -------------------------------------------------------------------

    def ensure(
        self, name: str, driver: str = DRIVER, options: dict | None = None, labels: dict | None = None
    ) -> VolumeRecord:
        """The volume `name`, created first if it does not exist (with a random name if empty,
        as an anonymous volume when its labels say so); a `create` event either way, as moby's
        get-or-create logs one. Raises InvalidArgument, NotFound, Conflict."""
        if driver != DRIVER:
            raise NotFound(f'error looking up volume plugin {driver}: plugin "{driver}" not found')
        options, labels = options or {}, labels or {}
        with self._lock:
            record = self.store.find(name) if name else None
            if record is None:
                name = name or secrets.token_hex(32)
                check_name(name)
                check_options(options)
                record = VolumeRecord(name, driver, labels, options, now_rfc3339_seconds())
                self.driver.create(name)
                self.store.insert(record)
        self.events.publish("volume", "create", record.name, {"driver": record.driver})
        return record

    def create_anonymous(self) -> VolumeRecord:
        return self.ensure("", labels={ANONYMOUS: ""})

    def reference(self, name: str, container_id: str) -> None:
        with self._lock:
            self._refs.setdefault(name, set()).add(container_id)

    def dereference(self, name: str, container_id: str) -> None:
        with self._lock:
            self._refs.get(name, set()).discard(container_id)
            if not self._refs.get(name):
                self._refs.pop(name, None)

    def in_use(self, name: str) -> bool:
        return bool(self._refs.get(name))

    def remove_if_anonymous(self, name: str) -> None:
        """`rm -v` and `--rm`: an anonymous volume nobody else references goes."""
        record = self.store.find(name)
        if record is not None and record.anonymous and not self.in_use(name):
            try:
                self.remove(name, force=True)
            except Conflict:
                pass  # referenced again meanwhile: it stays, as under Docker

    def mount(self, name: str, container_id: str) -> Path:
        """The volume's directory, its filesystem mounted for a container that starts."""
        with self._lock:
            path = self.driver.mount(self.store.get(name))
            self._active.setdefault(name, set()).add(container_id)
        self.events.publish("volume", "mount", name, {"driver": DRIVER, "container": container_id})
        return path

    def unmount(self, name: str, container_id: str) -> None:
        """A container that used the volume stopped; the last one out unmounts its filesystem."""
        with self._lock:
            users = self._active.get(name, set())
            users.discard(container_id)
            if users:
                return
            self._active.pop(name, None)
            record = self.store.find(name)
            if record is not None:
                self.driver.unmount(record)
        self.events.publish("volume", "unmount", name, {"driver": DRIVER, "container": container_id})

    def path(self, name: str) -> Path:
        return self.driver.path(name)

    def size(self, name: str) -> int:
        """Bytes under the volume's data directory, as `du -sb` counts them."""
        return du(self.driver.path(name))

    def usage(self) -> list[dict]:
        """Every volume with its UsageData (size, number of containers referencing it), for df."""
        with self._lock:
            refs = {name: len(users) for name, users in self._refs.items()}
        return [
            {**self._json(record), "UsageData": {"Size": self.size(record.name), "RefCount": refs.get(record.name, 0)}}
            for record in self.store.all()
        ]

    def _json(self, record: VolumeRecord) -> dict:
        return rules.volume_json(record, str(self.driver.path(record.name)))
