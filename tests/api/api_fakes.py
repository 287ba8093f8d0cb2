"""An in-memory stand-in for the engine, implementing the backend Protocols of dockyard.api.

It exists because the real engine is being written at the same time as the API package:
it keeps just enough state for the routes the API tests exercise. Everything around it in
those tests is real: the unix socket, the HTTP server, the docker SDK and the docker CLI.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

from dockyard import API_VERSION, MIN_API_VERSION, __version__
from dockyard.errors import (
    Conflict,
    InvalidArgument,
    NoSuchContainer,
    NoSuchExec,
    NoSuchImage,
    NoSuchNetwork,
    NoSuchVolume,
    NotModified,
)
from dockyard.multiplex import encode_frame


def container_id(name: str) -> str:
    """A stable 64-hex ID per container name."""
    return hashlib.sha256(name.encode()).hexdigest()


class EchoStream:
    """An attach stream that echoes stdin back on stdout (framed unless tty) until stdin closes."""

    def __init__(self, tty: bool = False, greeting: bytes = b"") -> None:
        self.tty = tty
        self.closed = threading.Event()
        self.stdin_closed = threading.Event()
        self._out: queue.Queue[bytes | None] = queue.Queue()
        self._buffer = b""
        if greeting:
            self._put(greeting)

    def _put(self, data: bytes) -> None:
        self._out.put(data if self.tty else encode_frame(1, data))

    def recv(self, size: int) -> bytes:
        if not self._buffer:
            item = self._out.get()
            if item is None:
                return b""
            self._buffer = item
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def send(self, data: bytes) -> None:
        self._put(data)

    def close_stdin(self) -> None:
        self.stdin_closed.set()
        self._out.put(None)

    def close(self) -> None:
        self.closed.set()


def container_summary(name: str, state: str) -> dict:
    return {
        "Id": container_id(name),
        "Names": [f"/{name}"],
        "Image": "busybox",
        "ImageID": "sha256:" + "1" * 64,
        "Command": "sh",
        "Created": 1700000000,
        "Ports": [],
        "Labels": {},
        "State": state,
        "Status": "Up 1 second" if state == "running" else "Created",
        "HostConfig": {"NetworkMode": "bridge"},
        "NetworkSettings": {"Networks": {}},
        "Mounts": [],
    }


class FakeContainers:
    """Just enough of ContainerBackend and ExecBackend."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}  # name -> state
        self.calls: list[tuple] = []
        self.streams: list[EchoStream] = []
        self.follow_closed = threading.Event()

    def _find(self, ref: str) -> str:
        for name in self.states:
            if ref == name or (len(ref) >= 4 and container_id(name).startswith(ref)):
                return name
        raise NoSuchContainer(ref)

    def create(self, name, config, host_config, networking_config, api_version) -> dict:
        self.calls.append(("create", name, config, host_config, networking_config, api_version))
        if name in self.states:
            raise Conflict(f'Conflict. The container name "/{name}" is already in use')
        self.states[name or "auto"] = "created"
        return {"Id": container_id(name or "auto"), "Warnings": []}

    def inspect(self, ref: str, size: bool = False) -> dict:
        name = self._find(ref)
        return {
            "Id": container_id(name),
            "Name": f"/{name}",
            "State": {"Status": self.states[name]},
            "Config": {"Tty": False, "Image": "busybox"},
            "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {}}},
        }

    def list(self, all, limit, size, filters) -> list[dict]:
        self.calls.append(("list", all, limit, size, filters))
        return [container_summary(n, s) for n, s in self.states.items() if all or s == "running"]

    def start(self, ref: str) -> None:
        name = self._find(ref)
        if self.states[name] == "running":
            raise NotModified(f"container {ref} is already started")
        self.states[name] = "running"

    def stop(self, ref, timeout, signal) -> None:
        self.calls.append(("stop", ref, timeout, signal))
        self.states[self._find(ref)] = "exited"

    def wait(self, ref: str, condition: str, cancelled=None) -> dict:
        self._find(ref)
        return {"StatusCode": 3, "Error": None}

    def remove(self, ref, force, volumes) -> None:
        del self.states[self._find(ref)]

    def logs(self, ref, follow, stdout, stderr, since, until, timestamps, tail):
        self._find(ref)
        if follow:
            return False, self._follow()
        return False, iter([(1, b"out line\n"), (2, b"err line\n")])

    def _follow(self) -> Iterator[tuple[int, bytes]]:
        """An endless log, as `logs -f` of a busy container; records when the API lets go of it."""
        try:
            while True:
                yield 1, b"tick\n"
                time.sleep(0.01)
        finally:
            self.follow_closed.set()

    def attach(self, ref, stdin, stdout, stderr, logs, stream) -> EchoStream:
        self._find(ref)
        echo = EchoStream(greeting=b"attached\n")
        self.streams.append(echo)
        return echo

    def export(self, ref: str) -> Iterator[bytes]:
        self._find(ref)
        yield b"tar bytes"

    def exec_create(self, ref: str, config: dict) -> dict:
        self._find(ref)
        return {"Id": "e" * 64}

    def exec_start(self, exec_id: str, detach: bool, tty: bool) -> EchoStream | None:
        if exec_id != "e" * 64:
            raise NoSuchExec(exec_id)
        if detach:
            return None
        echo = EchoStream(tty=tty)
        self.streams.append(echo)
        return echo

    def exec_inspect(self, exec_id: str) -> dict:
        if exec_id != "e" * 64:
            raise NoSuchExec(exec_id)
        return {"ID": exec_id, "DetachKeys": "", "ProcessConfig": {"tty": False}}


class FakeImages:
    """Just enough of ImageBackend."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.loaded: list[bytes] = []

    def list(self, all: bool, filters: dict, digests: bool) -> list[dict]:
        self.calls.append(("list", all, filters, digests))
        return [{"Id": "sha256:" + "1" * 64, "RepoTags": ["busybox:latest"], "Size": 2048}]

    def inspect(self, ref: str) -> dict:
        if ref != "busybox":
            raise NoSuchImage(ref)
        return {"Id": "sha256:" + "1" * 64, "RepoTags": ["busybox:latest"], "Size": 2048}

    def history(self, ref: str) -> list[dict]:
        if ref != "localhost:5000/a/b:tag":
            raise NoSuchImage(ref)
        return [{"Id": "sha256:" + "1" * 64, "CreatedBy": "/bin/sh"}]

    def pull(self, from_image, tag, platform, auth) -> Iterator[dict]:
        self.calls.append(("pull", from_image, tag, platform, auth))
        if from_image == "missing":
            raise NoSuchImage(from_image)
        yield {"status": f"Pulling from {from_image}", "id": tag}
        if from_image == "breaks":
            raise InvalidArgument("layer digest mismatch")
        yield {"status": "Status: Downloaded newer image"}

    def load(self, source: BinaryIO, quiet: bool) -> Iterator[dict]:
        data = source.read()
        self.loaded.append(data)
        yield {"stream": f"Loaded {len(data)} bytes\n"}


class FakeSystem:
    """Just enough of SystemBackend."""

    def version(self) -> dict:
        return {
            "Platform": {"Name": "dockyard"},
            "Version": __version__,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "Os": "linux",
            "Arch": "amd64",
            "GitCommit": "test",
            "GoVersion": "python3.11",
            "KernelVersion": "6",
            "BuildTime": "2026-01-01T00:00:00Z",
            "Components": [{"Name": "Engine", "Version": __version__, "Details": {}}],
        }

    def info(self) -> dict:
        return {
            "ID": "dockyard-test",
            "Containers": 0,
            "Images": 0,
            "ServerVersion": __version__,
            "OSType": "linux",
            "Swarm": {"LocalNodeState": "inactive"},
        }

    def events(self, since, until, filters) -> Iterator[dict]:
        yield {"Type": "container", "Action": "start", "Actor": {"ID": container_id("web")}}


class FakeNetworks:
    """Just enough of NetworkBackend."""

    def __init__(self) -> None:
        self.networks: dict[str, dict] = {}
        self.connected: list[tuple] = []

    def list(self, filters) -> list[dict]:
        return list(self.networks.values())

    def inspect(self, ref: str, verbose: bool, scope: str | None) -> dict:
        for network in self.networks.values():
            if ref in (network["Name"], network["Id"]):
                return network
        raise NoSuchNetwork(ref)

    def create(self, config: dict) -> dict:
        network_id = hashlib.sha256(config["Name"].encode()).hexdigest()
        self.networks[config["Name"]] = {
            "Name": config["Name"],
            "Id": network_id,
            "Driver": config.get("Driver") or "bridge",
            "Scope": "local",
            "Created": "2026-01-01T00:00:00Z",
            "Labels": config.get("Labels") or {},
        }
        return {"Id": network_id, "Warning": ""}

    def connect(self, ref: str, container: str, endpoint_config: dict | None) -> None:
        self.connected.append((self.inspect(ref, False, None)["Name"], container, endpoint_config))


class FakeVolumes:
    """Just enough of VolumeBackend."""

    def __init__(self) -> None:
        self.volumes: dict[str, dict] = {}

    def list(self, filters) -> dict:
        return {"Volumes": list(self.volumes.values()), "Warnings": []}

    def create(self, config: dict) -> dict:
        name = config.get("Name") or "anon"
        self.volumes[name] = {
            "Name": name,
            "Driver": "local",
            "Mountpoint": f"/v/{name}/_data",
            "Scope": "local",
            "Labels": config.get("Labels") or {},
            "Options": {},
        }
        return self.volumes[name]

    def inspect(self, name: str) -> dict:
        if name not in self.volumes:
            raise NoSuchVolume(name)
        return self.volumes[name]

    def remove(self, name: str, force: bool) -> None:
        self.inspect(name)
        del self.volumes[name]


class FakeEngine:
    def __init__(self) -> None:
        self.containers = FakeContainers()
        self.images = FakeImages()
        self.system = FakeSystem()
        self.networks = FakeNetworks()
        self.volumes = FakeVolumes()
