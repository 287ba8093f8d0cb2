"""The container record: what the engine knows and persists about one container."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, fields

from dockyard.timestamps import ZERO_TIME

_TRANSIENT = ("lock", "generation")


@dataclass
class State:
    status: str = "created"  # created running paused restarting removing exited dead
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    oom_killed: bool = False
    restart_count: int = 0
    manually_stopped: bool = False
    health: dict | None = None  # Docker's State.Health (engine/containers/health.py)

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")


@dataclass
class Container:
    """One container; mutate only under `lock`, then persist with ContainerStore.save()."""

    id: str
    name: str  # without the leading slash
    image: str  # as the user gave it (Config.Image)
    image_id: str
    created: str
    config: dict  # Docker's Config, merged with the image's defaults
    host_config: dict
    networking_config: dict = field(default_factory=dict)
    state: State = field(default_factory=State)
    network_settings: dict = field(default_factory=dict)
    mounts: list = field(default_factory=list)  # MountPoint records (engine/containers/mounts.py)
    # the chain ID its snapshot sits on ("" for none): the truth the snapshot is repaired from
    # after a power loss (decision 0121); None in records made before it was kept
    snapshot_parent: str | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    generation: int = field(default=0, repr=False, compare=False)  # counts runs; not persisted

    @property
    def path(self) -> str:
        command = (self.config.get("Entrypoint") or []) + (self.config.get("Cmd") or [])
        return command[0] if command else ""

    @property
    def args(self) -> list[str]:
        command = (self.config.get("Entrypoint") or []) + (self.config.get("Cmd") or [])
        return command[1:]

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _TRANSIENT}
        data["state"] = vars(self.state)  # its fields as they are: nothing in State needs asdict's deep copy
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Container:
        data = json.loads(text)
        data["state"] = State(**data["state"])
        return cls(**data)
