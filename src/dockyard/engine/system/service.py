"""`docker version`, `info`, `events`, `system df`, `login`: the daemon describing itself."""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Iterator

import dockyard
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.events import EventBus
from dockyard.engine.images.distribution import DistributionService
from dockyard.errors import NotSupported
from dockyard.images.service import ImageService
from dockyard.paths import DataRoot


class SystemService:
    def __init__(
        self,
        root: DataRoot,
        containers: ContainerService,
        images: ImageService,
        events: EventBus,
        distribution: DistributionService | None = None,
    ) -> None:
        self.root, self.containers, self.images, self.bus = root, containers, images, events
        self.distribution = distribution  # for login

    def version(self) -> dict:
        uname = os.uname()
        component = {
            "Version": dockyard.__version__,
            "ApiVersion": dockyard.API_VERSION,
            "MinAPIVersion": dockyard.MIN_API_VERSION,
        }
        return {
            "Platform": {"Name": "dockyard"},
            "Components": [{"Name": "Engine", "Version": dockyard.__version__, "Details": component}],
            "Version": dockyard.__version__,
            "ApiVersion": dockyard.API_VERSION,
            "MinAPIVersion": dockyard.MIN_API_VERSION,
            "GitCommit": "",
            "GoVersion": f"python{platform.python_version()}",
            "Os": "linux",
            "Arch": _arch(uname.machine),
            "KernelVersion": uname.release,
            "BuildTime": "",
        }

    def info(self) -> dict:
        containers = self.containers.all()
        count = lambda status: sum(1 for c in containers if c.state.status == status)
        uname = os.uname()
        return {
            "ID": _daemon_id(self.root),
            "Containers": len(containers),
            "ContainersRunning": count("running"),
            "ContainersPaused": count("paused"),
            "ContainersStopped": count("exited") + count("created"),
            "Images": len(self.images.all()),
            "Driver": "overlay2",
            "DriverStatus": [],
            "DockerRootDir": str(self.root.root),
            "SystemStatus": None,
            "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Log": ["json-file"]},
            "MemoryLimit": True,
            "SwapLimit": False,
            "CpuCfsPeriod": True,
            "CpuCfsQuota": True,
            "CPUShares": True,
            "CPUSet": True,
            "PidsLimit": True,
            "OomKillDisable": False,
            "IPv4Forwarding": True,
            "Debug": False,
            "NFd": len(os.listdir("/proc/self/fd")),
            "NGoroutines": 0,
            "SystemTime": _now(),
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": "1" if os.path.isdir("/sys/fs/cgroup/memory") else "2",
            "NEventsListener": 0,
            "KernelVersion": uname.release,
            "OperatingSystem": _os_name(),
            "OSVersion": "",
            "OSType": "linux",
            "Architecture": uname.machine,
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": []},
            "NCPU": os.cpu_count() or 1,
            "MemTotal": _mem_total(),
            "Name": socket.gethostname(),
            "Labels": [],
            "ExperimentalBuild": False,
            "ServerVersion": dockyard.__version__,
            "Runtimes": {"dockyard": {"path": "dockyard-shim"}},
            "DefaultRuntime": "dockyard",
            "Swarm": {"LocalNodeState": "inactive"},
            "LiveRestoreEnabled": True,
            "Isolation": "",
            "InitBinary": "",
            "SecurityOptions": ["name=seccomp,profile=builtin"],
            "Warnings": [],
        }

    def events(self, since: float | None, until: float | None, filters: dict[str, list[str]]) -> Iterator[dict]:
        return self.bus.subscribe(since, until, filters)

    def df(self) -> dict:
        users = [c.image_id for c in self.containers.all()]
        images = [
            {"Id": i.id, "Size": i.size, "SharedSize": 0, "Containers": users.count(i.id), "RepoTags": list(i.tags)}
            for i in self.images.all()
        ]
        containers = self.containers.list(all=True, limit=None, size=True, filters={})
        return {
            "LayersSize": sum(i["Size"] for i in images),
            "Images": images,
            "Containers": containers,
            "Volumes": [],
            "BuildCache": [],
        }

    def auth(self, config: dict) -> dict:
        if self.distribution is None:
            raise NotSupported("login is not supported without registry access")
        return self.distribution.login(config)


def _arch(machine: str) -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _now() -> str:
    from dockyard.engine.containers.model import now_rfc3339

    return now_rfc3339()


def _daemon_id(root: DataRoot) -> str:
    path = root.root / "engine-id"
    if not path.exists():
        path.write_text(os.urandom(16).hex())
    return path.read_text().strip()


def _os_name() -> str:
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
