"""`run`/`create` flags, and the create request the docker CLI builds from them (pure).

`container_request(ns, environ, env_files)` returns (query, body) for POST /containers/create:
Config fields at the top level, plus HostConfig and NetworkingConfig, as the docker CLI sends.
"""

from __future__ import annotations

import json

from dockyard.cli.envflags import parse_env
from dockyard.cli.flags import REMAINDER, Namespace, Parser, UsageError, boolean, multi
from dockyard.cli.mountspec import parse_mount, parse_tmpfs, parse_volume
from dockyard.errors import InvalidArgument
from dockyard.portspec import parse_expose, parse_port_specs
from dockyard.units import parse_go_duration, ram_in_bytes

DEFAULT_NETWORKS = ("default", "bridge", "host", "none")
RESTART_NAMES = ("no", "always", "unless-stopped", "on-failure")


RUN_ONLY_FLAGS = (
    (("-d", "--detach"), "bool", "Run container in background and print container ID"),
    (("--sig-proxy",), "true", "Proxy received signals to the process"),
    (("--detach-keys",), "str", "Override the key sequence for detaching a container"),
)
# (names, kind, help); kind: bool | true (bool defaulting to true) | list | str | int | float
FLAGS = (
    (("--rm",), "bool", "Automatically remove the container and its associated anonymous volumes when it exits"),
    (("--name",), "str", "Assign a name to the container"),
    (("-i", "--interactive"), "bool", "Keep STDIN open even if not attached"),
    (("-t", "--tty"), "bool", "Allocate a pseudo-TTY"),
    (("-a", "--attach"), "list", "Attach to STDIN, STDOUT or STDERR"),
    (("-e", "--env"), "list", "Set environment variables"),
    (("--env-file",), "list", "Read in a file of environment variables"),
    (("-w", "--workdir"), "str", "Working directory inside the container"),
    (("-u", "--user"), "str", "Username or UID (format: <name|uid>[:<group|gid>])"),
    (("--entrypoint",), "str", "Overwrite the default ENTRYPOINT of the image"),
    (("-h", "--hostname"), "str", "Container host name"),
    (("--domainname",), "str", "Container NIS domain name"),
    (("-l", "--label"), "list", "Set meta data on a container"),
    (("-p", "--publish"), "list", "Publish a container's port(s) to the host"),
    (("--expose",), "list", "Expose a port or a range of ports"),
    (("-P", "--publish-all"), "bool", "Publish all exposed ports to random ports"),
    (("--network", "--net"), "str", "Connect a container to a network"),
    (("--network-alias", "--net-alias"), "list", "Add network-scoped alias for the container"),
    (("--ip",), "str", "IPv4 address (e.g., 172.30.100.104)"),
    (("--ip6",), "str", "IPv6 address (e.g., 2001:db8::33)"),
    (("--link-local-ip",), "list", "Container IPv4/IPv6 link-local addresses"),
    (("--link",), "list", "Add link to another container"),
    (("--dns",), "list", "Set custom DNS servers"),
    (("--dns-search",), "list", "Set custom DNS search domains"),
    (("--dns-option",), "list", "Set DNS options"),
    (("--add-host",), "list", "Add a custom host-to-IP mapping (host:ip)"),
    (("-v", "--volume"), "list", "Bind mount a volume"),
    (("--mount",), "list", "Attach a filesystem mount to the container"),
    (("--volumes-from",), "list", "Mount volumes from the specified container(s)"),
    (("--tmpfs",), "list", "Mount a tmpfs directory"),
    (("--restart",), "str", "Restart policy to apply when a container exits"),
    (("--log-opt",), "list", "Log driver options"),
    (("--log-driver",), "str", "Logging driver for the container"),
    (("-m", "--memory"), "str", "Memory limit"),
    (("--memory-swap",), "str", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
    (("--memory-reservation",), "str", "Memory soft limit"),
    (("--shm-size",), "str", "Size of /dev/shm"),
    (("--cpus",), "float", "Number of CPUs"),
    (("-c", "--cpu-shares"), "int", "CPU shares (relative weight)"),
    (("--cpuset-cpus",), "str", "CPUs in which to allow execution (0-3, 0,1)"),
    (("--pids-limit",), "int", "Tune container pids limit (set -1 for unlimited)"),
    (("--cpu-period",), "int", "Limit CPU CFS (Completely Fair Scheduler) period"),
    (("--cpu-quota",), "int", "Limit CPU CFS (Completely Fair Scheduler) quota"),
    (("--cpuset-mems",), "str", "MEMs in which to allow execution (0-3, 0,1)"),
    (("--memory-swappiness",), "int", "Tune container memory swappiness (0 to 100)"),
    (("--oom-kill-disable",), "bool", "Disable OOM Killer"),
    (("--oom-score-adj",), "int", "Tune host's OOM preferences (-1000 to 1000)"),
    (("--blkio-weight",), "int", "Block IO (relative weight), between 10 and 1000, or 0 to disable"),
    (("--cgroup-parent",), "str", "Optional parent cgroup for the container"),
    (("--cap-add",), "list", "Add Linux capabilities"),
    (("--cap-drop",), "list", "Drop Linux capabilities"),
    (("--privileged",), "bool", "Give extended privileges to this container"),
    (("--read-only",), "bool", "Mount the container's root filesystem as read only"),
    (("--security-opt",), "list", "Security Options"),
    (("--ulimit",), "list", "Ulimit options"),
    (("--group-add",), "list", "Add additional groups to join"),
    (("--device",), "list", "Add a host device to the container"),
    (("--device-cgroup-rule",), "list", "Add a rule to the cgroup allowed devices list"),
    (("--sysctl",), "list", "Sysctl options"),
    (("--pid",), "str", "PID namespace to use"),
    (("--ipc",), "str", "IPC mode to use"),
    (("--uts",), "str", "UTS namespace to use"),
    (("--userns",), "str", "User namespace to use"),
    (("--cgroupns",), "str", "Cgroup namespace to use (host|private)"),
    (("--runtime",), "str", "Runtime to use for this container"),
    (("--stop-signal",), "str", "Signal to stop the container"),
    (("--stop-timeout",), "int", "Timeout (in seconds) to stop a container"),
    (("--platform",), "str", "Set platform if server is multi-platform capable"),
    (("--pull",), "str", 'Pull image before running ("always", "missing", "never")'),
    (("--init",), "bool", "Run an init inside the container that forwards signals and reaps processes"),
    (("--cidfile",), "str", "Write the container ID to the file"),
    (("-q", "--quiet"), "bool", "Suppress the pull output"),
    (("--health-cmd",), "str", "Command to run to check health"),
    (("--health-interval",), "str", "Time between running the check (ms|s|m|h)"),
    (("--health-timeout",), "str", "Maximum time to allow one check to run (ms|s|m|h)"),
    (("--health-retries",), "int", "Consecutive failures needed to report unhealthy"),
    (("--health-start-period",), "str", "Start period for the container to initialize (ms|s|m|h)"),
    (("--health-start-interval",), "str", "Time between running the check during the start period (ms|s|m|h)"),
    (("--no-healthcheck",), "bool", "Disable any container-specified HEALTHCHECK"),
)
DEFAULTS = {"network": "default", "restart": "no", "log_driver": "", "pull": "missing"}
CHOICES = {"pull": ("always", "missing", "never")}
TYPES = {"int": int, "float": float}


def container_parser(prog: str, run: bool) -> Parser:
    """The flags `create` takes; `run` adds -d, --sig-proxy and --detach-keys."""
    parser = Parser(prog, "[OPTIONS] IMAGE [COMMAND] [ARG...]")
    for names, kind, text in (RUN_ONLY_FLAGS if run else ()) + FLAGS:
        if kind in ("bool", "true"):
            boolean(parser, *names, default=kind == "true", help=text)
            continue
        if kind == "list":
            multi(parser, *names, help=text)
            continue
        dest = next(name for name in names if name.startswith("--"))[2:].replace("-", "_")
        parser.add_argument(
            *names, help=text, type=TYPES.get(kind), default=DEFAULTS.get(dest), choices=CHOICES.get(dest)
        )
    parser.add_argument("image")
    parser.add_argument("command", nargs=REMAINDER)
    return parser


def parse_labels(values: list[str]) -> dict[str, str]:
    labels = {}
    for value in values:
        key, _, val = value.partition("=")
        labels[key] = val
    return labels


def parse_restart(value: str) -> dict:
    """'on-failure:3' -> {'Name': 'on-failure', 'MaximumRetryCount': 3}."""
    name, _, count = value.partition(":")
    if name not in RESTART_NAMES:
        raise InvalidArgument(
            f"invalid restart policy: unknown policy '{name}'; use one of {', '.join(repr(n) for n in RESTART_NAMES)}"
        )
    if count and name != "on-failure":
        raise InvalidArgument("invalid restart policy: maximum retry count can only be used with 'on-failure'")
    try:
        retries = int(count or 0)
    except ValueError:
        raise InvalidArgument("invalid restart policy format: maximum retry count must be an integer") from None
    return {"Name": name, "MaximumRetryCount": retries}


def capability(name: str) -> str:
    """Docker normalizes capabilities to upper case with a CAP_ prefix (except ALL)."""
    name = name.upper()
    return name if name == "ALL" or name.startswith("CAP_") else f"CAP_{name}"


def parse_extra_host(value: str) -> str:
    """'host:ip' or 'host=ip' -> 'host:ip' as HostConfig.ExtraHosts wants it."""
    sep = "=" if "=" in value else ":"
    host, _, ip = value.partition(sep)
    if not host or not ip:
        raise InvalidArgument(f'invalid argument "{value}" for "--add-host" flag: bad format for add-host: "{value}"')
    return f"{host}:{ip}"


def parse_ulimit(value: str) -> dict:
    """'nofile=1024:2048' -> {'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}."""
    name, _, limits = value.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        return {"Name": name, "Soft": int(soft), "Hard": int(hard or soft)}
    except ValueError:
        raise InvalidArgument(f"invalid ulimit argument: {value}") from None


def parse_device(value: str) -> dict:
    parts = value.split(":")
    host = parts[0]
    inner = parts[1] if len(parts) > 1 and parts[1].startswith("/") else host
    perms = parts[-1] if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
    return {"PathOnHost": host, "PathInContainer": inner, "CgroupPermissions": perms}


def security_opt(value: str) -> str:
    """`seccomp=<file>` carries the file's JSON (compacted), as the docker CLI sends it."""
    key, sep, path = value.partition("=")
    if key != "seccomp" or not sep or path in ("builtin", "unconfined"):
        return value
    try:
        text = open(path, "rb").read()
    except OSError as exc:
        raise UsageError(f"opening seccomp profile ({path}) failed: {exc.strerror.lower()}", exit_code=125) from None
    try:
        profile = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"compacting json for seccomp profile ({path}) failed: {exc}", exit_code=125) from None
    return "seccomp=" + json.dumps(profile, separators=(",", ":"))


def attach_flags(ns: Namespace, detached: bool) -> dict[str, bool]:
    """Which streams the container attaches: -a or stdout+stderr, plus stdin with -i; none when detached."""
    streams = {s.lower() for s in ns.attach}
    unknown = streams - {"stdin", "stdout", "stderr"}
    if unknown:
        raise UsageError(
            f'invalid argument "{sorted(unknown)[0]}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'
        )
    if detached:
        if streams:
            raise UsageError("conflicting options: cannot specify both --attach and --detach")
        return {"AttachStdin": False, "AttachStdout": False, "AttachStderr": False}
    if not streams:
        streams = {"stdout", "stderr"}
    if ns.interactive:
        streams.add("stdin")
    return {"AttachStdin": "stdin" in streams, "AttachStdout": "stdout" in streams, "AttachStderr": "stderr" in streams}


def container_request(
    ns: Namespace,
    environ: dict[str, str],
    env_files: list[str],
    detached: bool = False,
    console: tuple[int, int] | None = None,
) -> tuple[dict, dict]:
    """Flags -> (query, body) for POST /containers/create, as the docker CLI builds them."""
    if ns.rm and ns.restart not in ("no", ""):
        raise UsageError("conflicting options: cannot specify both --restart and --rm")
    attach = attach_flags(ns, detached)
    body: dict = {
        "Image": ns.image,
        **attach,
        "Tty": ns.tty,
        "OpenStdin": ns.interactive,
        "StdinOnce": ns.interactive and attach["AttachStdin"],
    }
    body["Cmd"] = ns.command or None
    if ns.entrypoint is not None:
        body["Entrypoint"] = [ns.entrypoint] if ns.entrypoint else [""]
    exposed, bindings = parse_port_specs(ns.publish)
    for spec in ns.expose:
        exposed.update({port: {} for port in parse_expose(spec)})
    binds, volumes = _volumes(ns.volume)
    _set(body, "Env", parse_env(ns.env, environ, env_files))
    _set(body, "Labels", parse_labels(ns.label))
    _set(body, "ExposedPorts", exposed)
    _set(body, "Volumes", volumes)
    for key, value in (
        ("WorkingDir", ns.workdir),
        ("User", ns.user),
        ("Hostname", ns.hostname),
        ("Domainname", ns.domainname),
        ("StopSignal", ns.stop_signal),
        ("StopTimeout", ns.stop_timeout),
        ("Healthcheck", _healthcheck(ns)),
    ):
        _set(body, key, value)
    body["HostConfig"] = _host_config(ns, bindings, binds, console)
    body["NetworkingConfig"] = _networking(ns)
    query = {"name": ns.name or None, "platform": ns.platform or None}
    return query, body


def _volumes(specs: list[str]) -> tuple[list[str], dict[str, dict]]:
    binds, volumes = [], {}
    for spec in specs:
        bind, anonymous = parse_volume(spec)
        if bind:
            binds.append(bind)
        else:
            volumes[anonymous] = {}
    return binds, volumes


def _set(target: dict, key: str, value: object) -> None:
    if value not in (None, "", [], {}):
        target[key] = value


def _host_config(ns: Namespace, bindings: dict, binds: list[str], console) -> dict:
    host: dict = {
        "NetworkMode": ns.network,
        "RestartPolicy": parse_restart(ns.restart),
        "AutoRemove": ns.rm,
        "Privileged": ns.privileged,
        "ReadonlyRootfs": ns.read_only,
        "PublishAllPorts": ns.publish_all,
        "LogConfig": {"Type": ns.log_driver, "Config": parse_labels(ns.log_opt)},
    }
    if ns.init:
        host["Init"] = True
    if ns.oom_kill_disable:
        host["OomKillDisable"] = True
    if ns.memory_swappiness is not None:
        host["MemorySwappiness"] = ns.memory_swappiness
    if console:
        host["ConsoleSize"] = list(console)
    _set(host, "PortBindings", bindings)
    _set(host, "Binds", binds)
    _set(host, "Mounts", [parse_mount(spec) for spec in ns.mount])
    _set(host, "VolumesFrom", ns.volumes_from)
    _set(host, "Tmpfs", dict(parse_tmpfs(spec) for spec in ns.tmpfs))
    _set(host, "Dns", ns.dns)
    _set(host, "DnsSearch", ns.dns_search)
    _set(host, "DnsOptions", ns.dns_option)
    _set(host, "ExtraHosts", [parse_extra_host(v) for v in ns.add_host])
    _set(host, "Links", ns.link)
    _set(host, "CapAdd", [capability(c) for c in ns.cap_add])
    _set(host, "CapDrop", [capability(c) for c in ns.cap_drop])
    _set(host, "SecurityOpt", [security_opt(v) for v in ns.security_opt if v != "systempaths=unconfined"])
    if "systempaths=unconfined" in ns.security_opt:  # as the docker CLI: empty lists, no option
        host["MaskedPaths"], host["ReadonlyPaths"] = [], []
    _set(host, "DeviceCgroupRules", ns.device_cgroup_rule)
    _set(host, "Sysctls", parse_labels(ns.sysctl))
    _set(host, "Ulimits", [parse_ulimit(v) for v in ns.ulimit])
    _set(host, "GroupAdd", ns.group_add)
    _set(host, "Devices", [parse_device(v) for v in ns.device])
    for key, value in (
        ("PidMode", ns.pid),
        ("IpcMode", ns.ipc),
        ("UTSMode", ns.uts),
        ("UsernsMode", ns.userns),
        ("CgroupnsMode", ns.cgroupns),
        ("Runtime", ns.runtime),
        ("CpuShares", ns.cpu_shares),
        ("CpusetCpus", ns.cpuset_cpus),
        ("PidsLimit", ns.pids_limit),
        ("CpuPeriod", ns.cpu_period),
        ("CpuQuota", ns.cpu_quota),
        ("CpusetMems", ns.cpuset_mems),
        ("OomScoreAdj", ns.oom_score_adj),
        ("BlkioWeight", ns.blkio_weight),
        ("CgroupParent", ns.cgroup_parent),
    ):
        _set(host, key, value)
    _resources(ns, host)
    return host


def _resources(ns: Namespace, host: dict) -> None:
    for key, value in (("Memory", ns.memory), ("MemoryReservation", ns.memory_reservation), ("ShmSize", ns.shm_size)):
        if value:
            host[key] = ram_in_bytes(value)
    if ns.memory_swap:
        host["MemorySwap"] = -1 if ns.memory_swap == "-1" else ram_in_bytes(ns.memory_swap)
    if ns.cpus:
        host["NanoCpus"] = round(ns.cpus * 1e9)


def _networking(ns: Namespace) -> dict:
    network = ns.network
    aliases = ns.network_alias
    if aliases and network in DEFAULT_NETWORKS:
        raise UsageError("network-scoped aliases are only supported for user-defined networks")
    if network in ("host", "none") or network.startswith("container:"):
        return {"EndpointsConfig": {}}
    endpoint: dict = {}
    _set(endpoint, "Aliases", aliases)
    if network not in DEFAULT_NETWORKS:  # on a user-defined network a link is the endpoint's (docker's CLI)
        _set(endpoint, "Links", ns.link)
    addresses: dict = {}
    _set(addresses, "IPv4Address", ns.ip)
    _set(addresses, "IPv6Address", ns.ip6)
    _set(addresses, "LinkLocalIPs", ns.link_local_ip)
    _set(endpoint, "IPAMConfig", addresses)
    return {"EndpointsConfig": {network: endpoint}}


def _healthcheck(ns: Namespace) -> dict | None:
    if ns.no_healthcheck:
        return {"Test": ["NONE"]}
    check: dict = {}
    if ns.health_cmd:
        check["Test"] = ["CMD-SHELL", ns.health_cmd]
    for key, flag, value in (
        ("Interval", "--health-interval", ns.health_interval),
        ("Timeout", "--health-timeout", ns.health_timeout),
        ("StartPeriod", "--health-start-period", ns.health_start_period),
        ("StartInterval", "--health-start-interval", ns.health_start_interval),
    ):
        if value:
            seconds = parse_go_duration(value)
            if seconds < 0:
                raise InvalidArgument(f"{flag} cannot be negative")
            check[key] = int(seconds * 1e9)
    if ns.health_retries:
        check["Retries"] = ns.health_retries
    return check or None
