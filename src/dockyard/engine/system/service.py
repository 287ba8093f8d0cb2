"""`docker version`, `info`, `events`, `system df`, `login`: the daemon describing itself."""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Iterator

import dockyard
from dockyard.diskusage import du
from dockyard.engine import eventfilters
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.events import EventBus
from dockyard.engine.images.distribution import DistributionService
from dockyard.engine.images.service import ImageBackend
from dockyard.engine.system.usage import image_usage
from dockyard.engine.volumes.service import VolumeService
from dockyard.errors import NotSupported
from dockyard.images.store import ImageRecord
from dockyard.paths import DataRoot
from dockyard.runtime.cgroups.sysinfo import HostLimits
from dockyard.runtime.runtimes import OciRuntimes
from dockyard.timestamps import now_rfc3339


class SystemService:
    def __init__(
        self,
        root: DataRoot,
        containers: ContainerService,
        images: ImageBackend,
        volumes: VolumeService,
        events: EventBus,
        distribution: DistributionService | None = None,
    ) -> None:
        self.root, self.containers, self.images, self.volumes, self.bus = root, containers, images, volumes, events
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
            "Images": len(self.images.service.all()),
            "Driver": "overlay2",
            "DriverStatus": [],
            "DockerRootDir": str(self.root.root),
            "SystemStatus": None,
            "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Log": ["json-file"]},
            **limit_support(self.containers.host_limits),
            "IPv4Forwarding": True,
            "Debug": False,
            "NFd": len(os.listdir("/proc/self/fd")),
            "NGoroutines": 0,
            "SystemTime": now_rfc3339(),
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": str(self.containers.host_limits.cgroup_version),
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
            "Runtimes": _runtimes(self.containers.runtimes),
            "DefaultRuntime": self.containers.runtimes.default,
            "Swarm": {"LocalNodeState": "inactive"},
            "LiveRestoreEnabled": True,
            "Isolation": "",
            "InitBinary": "dockyard-init",
            "SecurityOptions": ["name=seccomp,profile=builtin"],
            "Warnings": limit_warnings(self.containers.host_limits),
        }

    def events(self, since: float | None, until: float | None, filters: dict[str, list[str]]) -> Iterator[dict]:
        eventfilters.check_filters(filters)  # a 400 before the stream starts
        return self.bus.subscribe(since, until, filters)

    def df(self) -> dict:
        """Disk usage by images, containers and volumes (see engine/system/usage.py)."""
        parts = {record.id: self._footprint(record) for record in self.images.service.all()}
        summaries = self.images.list(all=True, filters={}, digests=False)
        return {
            "LayersSize": du(self.root.layers) + du(self.root.blobs),
            "Images": image_usage(summaries, parts, [c.image_id for c in self.containers.all()]),
            "Containers": self.containers.list(all=True, limit=None, size=True, filters={}),
            "Volumes": self.volumes.usage(),
            "BuildCache": [],
        }

    def _footprint(self, record: ImageRecord) -> dict[str, int]:
        """The bytes of each layer directory and blob the image holds on the data root."""
        content = self.images.service.content
        parts = {f"layer:{chain}": du(self.root.layers / chain.hex) for chain in record.chain_ids}
        for digest in {record.id, record.manifest_digest, *(layer.digest for layer in record.layers)}:
            if content.exists(digest):
                parts[f"blob:{digest}"] = content.size(digest)
        return parts

    def auth(self, config: dict) -> dict:
        if self.distribution is None:
            raise NotSupported("login is not supported without registry access")
        return self.distribution.login(config)


def limit_support(limits: HostLimits) -> dict:
    """docker info's cgroup flags, as this host's cgroups really offer them."""
    return {
        "MemoryLimit": limits.memory,
        "SwapLimit": limits.swap,
        "KernelMemory": limits.kernel_memory,
        "KernelMemoryTCP": limits.kernel_memory_tcp,
        "CpuCfsPeriod": limits.cpu_cfs,
        "CpuCfsQuota": limits.cpu_cfs,
        "CPUShares": limits.cpu_shares,
        "CPUSet": limits.cpuset,
        "PidsLimit": limits.pids,
        "OomKillDisable": limits.oom_kill_disable,
    }


def limit_warnings(limits: HostLimits) -> list[str]:
    """dockerd's info warnings for the limits this host lacks."""
    missing = (
        (limits.memory, "No memory limit support"),
        (limits.swap, "No swap limit support"),
        (limits.oom_kill_disable or limits.cgroup_version == 2, "No oom kill disable support"),
        (limits.cpu_cfs, "No cpu cfs quota support"),
        (limits.cpu_cfs, "No cpu cfs period support"),
        (limits.cpu_shares, "No cpu shares support"),
        (limits.cpuset, "No cpuset support"),
        (limits.pids, "No pids limit support"),
        (limits.blkio_weight, "No blkio weight support"),
        (limits.blkio_weight_device, "No blkio weight_device support"),
        (limits.blkio_read_bps, "No blkio throttle.read_bps_device support"),
        (limits.blkio_write_bps, "No blkio throttle.write_bps_device support"),
        (limits.blkio_read_iops, "No blkio throttle.read_iops_device support"),
        (limits.blkio_write_iops, "No blkio throttle.write_iops_device support"),
    )
    return [f"WARNING: {text}" for present, text in missing if not present]


def _arch(machine: str) -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


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


def _runtimes(runtimes: OciRuntimes) -> dict:
    """info's Runtimes: each name with its path (and runtimeArgs), as dockerd lists them."""
    shown: dict[str, dict] = {}
    for name in runtimes.names():
        command = runtimes.command(name)
        if command is None:
            shown[name] = {"path": "dockyard"}  # its own: the shim's init, no separate program
        else:
            shown[name] = {"path": command[0], **({"runtimeArgs": command[1:]} if command[1:] else {})}
    return shown
