"""The corpus: Engine API requests sent in order to both daemons, as data.

Each row is one request. Paths are written without a version prefix and sent under
`/v1.41` (what the reference dockerd 20.10 speaks) unless `version` says otherwise, so both
daemons answer at the same API version; the rows with `version=""` are what current clients
send unprefixed. `{name}` in a path or body is an ID remembered by an earlier row's `save`
(`{name[:12]}` its short form); `{now}` is the time of sending. Requests run in sequence, so
later rows see what earlier ones created (create -> start -> exec -> kill -> inspect).

Unknown volume, network and IPAM drivers are left out: dockerd looks for a plugin of that
name for 15 seconds before it answers.

Row fields: method, path, body (dict/list as JSON, bytes raw, "@raw:<row>" the raw answer
of an earlier row on the same daemon), ctype, save, mode ("full" compares the JSON body
field by field, "keys" only key sets, "status" status and headers), sort (sort list answers
by this key), stdin/idle (hijacked streams), pause (seconds before sending).
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    body: object = None
    ctype: str | None = None
    save: str | None = None
    mode: str = "full"
    sort: str | None = None
    stdin: bytes | None = None
    idle: float | None = None
    pause: float = 0
    timeout: float = 15
    version: str = "/v1.41"
    headers: dict = field(default_factory=dict)


def _tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _q(value: object) -> str:
    from urllib.parse import quote

    return quote(json.dumps(value, separators=(",", ":")))


LAYER = _tar({"hello.txt": b"hello\n", "etc/motd": b"welcome\n"})
BB = "busybox"
ROWS: list[Row] = []


def row(name: str, method: str, path: str, body: object = None, **options) -> None:
    assert all(r.name != name for r in ROWS), name
    ROWS.append(Row(name, method, path, body, **options))


def create(name: str, body: dict, query: str | None = None, **options) -> None:
    """Create a container named `name` (and remember its ID as `name`)."""
    row(f"create {name}", "POST", f"/containers/create?name={query or name}", body, save=name, **options)


# -- system ---------------------------------------------------------------------------------
row("ping", "GET", "/_ping", version="")
row("ping head", "HEAD", "/_ping", version="")
row("ping v1.41", "GET", "/_ping")
row("ping v1.24", "GET", "/_ping", version="/v1.24")
row("version", "GET", "/version", mode="keys", version="")
row("version v1.41", "GET", "/version", mode="keys")
row("version too old", "GET", "/version", version="/v1.11")
row("version too new", "GET", "/version", version="/v1.99")
row("version malformed prefix", "GET", "/version", version="/vX")
row("info", "GET", "/info", mode="keys")
row("no such page", "GET", "/nothing")
row("no such page bare", "GET", "/nothing", version="")
row("wrong method", "DELETE", "/_ping")
row("wrong method version", "POST", "/version")
row("system df", "GET", "/system/df", mode="keys")
row("events bad filter", "GET", "/events?since=0&until={now}&filters=" + _q({"bogus": ["x"]}))
row("events malformed filters", "GET", "/events?filters=notjson")
row("events bad since", "GET", "/events?since=abc&until=1")
row("auth not json", "POST", "/auth", b"not json", ctype="application/json")

# -- images ---------------------------------------------------------------------------------
row("images list", "GET", "/images/json")
row("images list all", "GET", "/images/json?all=1")
row("images list digests", "GET", "/images/json?digests=1")
row("images filter reference", "GET", "/images/json?filters=" + _q({"reference": [BB]}))
row("images filter reference none", "GET", "/images/json?filters=" + _q({"reference": ["nothing*"]}))
row("images filter dangling", "GET", "/images/json?filters=" + _q({"dangling": ["true"]}))
row("images filter dangling bad", "GET", "/images/json?filters=" + _q({"dangling": ["maybe"]}))
row("images filter label", "GET", "/images/json?filters=" + _q({"label": ["a=b"]}))
row("images filter bogus", "GET", "/images/json?filters=" + _q({"bogus": ["x"]}))
row("images filter malformed", "GET", "/images/json?filters=%7Bnope")
row("images filter before missing", "GET", "/images/json?filters=" + _q({"before": ["nope"]}))
row("image inspect", "GET", f"/images/{BB}/json")
row("image inspect tag", "GET", f"/images/{BB}:latest/json")
row("image inspect missing", "GET", "/images/nope/json")
row("image inspect missing tag", "GET", f"/images/{BB}:nope/json")
row("image inspect bad ref", "GET", "/images/UPPER/json")
row("image inspect bad digest", "GET", "/images/sha256:abc/json")
row("image history", "GET", f"/images/{BB}/history")
row("image history missing", "GET", "/images/nope/history")
row("image tag", "POST", f"/images/{BB}/tag?repo=dfi&tag=one")
row("image tag default tag", "POST", f"/images/{BB}/tag?repo=dfi")
row("image tag registry", "POST", f"/images/{BB}/tag?repo=localhost:5000/dfi/sub&tag=x")
row("image tag missing", "POST", "/images/nope/tag?repo=dfi&tag=two")
row("image tag bad repo", "POST", f"/images/{BB}/tag?repo=UPPER&tag=x")
row("image tag bad tag", "POST", f"/images/{BB}/tag?repo=dfi&tag=bad:tag")
row("image tag no repo", "POST", f"/images/{BB}/tag")
row("image tag digest", "POST", f"/images/{BB}/tag?repo=dfi@sha256:{'a' * 64}")
row("image inspect tagged", "GET", "/images/dfi:one/json")
row("images filter reference tagged", "GET", "/images/json?filters=" + _q({"reference": ["dfi"]}), sort="Id")
row("image untag", "DELETE", "/images/dfi:one")
row("image untag again", "DELETE", "/images/dfi:one")
row("image untag latest", "DELETE", "/images/dfi")
row("image untag registry", "DELETE", "/images/localhost:5000/dfi/sub:x")
row("image delete missing", "DELETE", "/images/nope")
row("image delete bad ref", "DELETE", "/images/UPPER")
row("image import", "POST", "/images/create?fromSrc=-&repo=dfimport&tag=t", LAYER, ctype="application/x-tar")
row("image import inspect", "GET", "/images/dfimport:t/json")
row("image import history", "GET", "/images/dfimport:t/history")
row(
    "image import changes",
    "POST",
    "/images/create?fromSrc=-&repo=dfimport&tag=c&changes=ENV%20A%3Db&changes=CMD%20%5B%22sh%22%5D",
    LAYER,
    ctype="application/x-tar",
)
row("image import changes inspect", "GET", "/images/dfimport:c/json")
row("image import bad change", "POST", "/images/create?fromSrc=-&repo=dfimport&tag=d&changes=BOGUS%20x", LAYER)
row("image import not tar", "POST", "/images/create?fromSrc=-&repo=dfimport&tag=e", b"not a tar at all")
row("image create nothing", "POST", "/images/create")
row("image create bad ref", "POST", "/images/create?fromImage=UPPER")
row("image save", "GET", f"/images/get?names={BB}")
row("image save one", "GET", f"/images/{BB}/get")
row("image save missing", "GET", "/images/get?names=nope")
row("image load malformed", "POST", "/images/load", b"this is not a tar", ctype="application/x-tar")
row("image load empty tar", "POST", "/images/load", _tar({}), ctype="application/x-tar")
row("image load no manifest", "POST", "/images/load", LAYER, ctype="application/x-tar")
row("image load empty body", "POST", "/images/load", b"", ctype="application/x-tar")
row("image load saved quiet", "POST", "/images/load?quiet=1", "@raw:image save", ctype="application/x-tar")
row("image load saved", "POST", "/images/load", "@raw:image save one", ctype="application/x-tar")
row("images prune dangling", "POST", "/images/prune")
row("images prune bad filter", "POST", "/images/prune?filters=" + _q({"bogus": ["1"]}))
row("build no context", "POST", "/build", b"", ctype="application/x-tar", mode="status")
row("build no dockerfile", "POST", "/build", LAYER, ctype="application/x-tar", mode="status")

# -- containers: create, valid and invalid ---------------------------------------------------
create("dfc-basic", {"Image": BB, "Cmd": ["true"]})
row("create duplicate name", "POST", "/containers/create?name=dfc-basic", {"Image": BB})
row("create bad name", "POST", "/containers/create?name=bad%20name!", {"Image": BB})
row("create missing image", "POST", "/containers/create", {"Image": "nope"})
row("create missing image tag", "POST", "/containers/create", {"Image": f"{BB}:nope"})
row("create no image", "POST", "/containers/create", {"Cmd": ["true"]})
row("create empty object", "POST", "/containers/create", {})
row("create no body", "POST", "/containers/create", ctype="application/json")
row("create not json", "POST", "/containers/create", b"{nope", ctype="application/json")
row("create wrong content type", "POST", "/containers/create", b'{"Image":"busybox"}', ctype="text/plain")
row("create bad image ref", "POST", "/containers/create", {"Image": "UPPER"})
BAD_HOST_CONFIGS = {
    "restart bogus": {"RestartPolicy": {"Name": "bogus"}},
    "restart negative retries": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": -1}},
    "restart retries with always": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": 3}},
    "restart with autoremove": {"RestartPolicy": {"Name": "always"}, "AutoRemove": True},
    "log opt bogus": {"LogConfig": {"Type": "json-file", "Config": {"bogus": "1"}}},
    "log max-size bad": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "lots"}}},
    "port bad": {"PortBindings": {"abc/tcp": [{"HostPort": "1"}]}},
    "port host bad": {"PortBindings": {"80/tcp": [{"HostPort": "notaport"}]}},
    "bind relative": {"Binds": ["relative:/x"]},
    "bind bad mode": {"Binds": ["/tmp:/x:bogus"]},
    "bind no target": {"Binds": ["/tmp"]},
    "bind target relative": {"Binds": ["/tmp:x"]},
    "mount bad type": {"Mounts": [{"Type": "bogus", "Target": "/x"}]},
    "mount no target": {"Mounts": [{"Type": "volume", "Source": "v"}]},
    "mount bind missing source": {"Mounts": [{"Type": "bind", "Source": "/nonexistent-df", "Target": "/x"}]},
    "mount duplicate target": {"Binds": ["/tmp:/x"], "Mounts": [{"Type": "tmpfs", "Target": "/x"}]},
    "network missing": {"NetworkMode": "nonexistent"},
    "network container missing": {"NetworkMode": "container:nope"},
    "ipc bogus": {"IpcMode": "bogus"},
    "pid bogus": {"PidMode": "bogus"},
    "uts bogus": {"UTSMode": "bogus"},
    "cgroupns bogus": {"CgroupnsMode": "bogus"},
    "memory too low": {"Memory": 1024},
    "swap without memory": {"MemorySwap": 100000000},
    "cpu shares negative": {"CpuShares": -1},
    "cpus and quota": {"NanoCpus": 1000000000, "CpuQuota": 50000},
    "oom score out of range": {"OomScoreAdj": 5000},
    "shm negative": {"ShmSize": -1},
    "extra host bad": {"ExtraHosts": ["nocolon"]},
    "dns bad": {"Dns": ["not-an-ip"]},
    "volumes from missing": {"VolumesFrom": ["nope"]},
    "links missing": {"Links": ["nope:alias"]},
    "cap bogus": {"CapAdd": ["BOGUS"]},
    "device bad": {"Devices": [{"PathOnHost": "relative", "PathInContainer": "/dev/x"}]},
    "runtime bogus": {"Runtime": "bogus"},
    "isolation bogus": {"Isolation": "bogus"},
    "sysctl bogus": {"Sysctls": {"kernel.bogus_df": "1"}},
    "ulimit bad": {"Ulimits": [{"Name": "bogus", "Soft": 1, "Hard": 1}]},
    "blkio weight bad": {"BlkioWeight": 5},
    "pids limit": {"PidsLimit": 100},
    "tmpfs relative": {"Tmpfs": {"relative": ""}},
}
row(  # dockerd looks for a logging plugin for 15 s before it answers
    "create log driver bogus",
    "POST",
    "/containers/create",
    {"Image": BB, "Cmd": ["true"], "HostConfig": {"LogConfig": {"Type": "bogus"}}},
    timeout=25,
)
for label, host_config in BAD_HOST_CONFIGS.items():
    row(f"create {label}", "POST", "/containers/create", {"Image": BB, "Cmd": ["true"], "HostConfig": host_config})
BAD_CONFIGS = {
    "healthcheck interval": {"Healthcheck": {"Test": ["CMD", "true"], "Interval": 10}},
    "healthcheck retries": {"Healthcheck": {"Test": ["CMD", "true"], "Retries": -1}},
    "exposed port bad": {"ExposedPorts": {"nope/tcp": {}}},
    "stop timeout": {"StopTimeout": 3},
    "cmd string": {"Cmd": "echo hi"},
    "env no value": {"Env": ["JUSTNAME"]},
    "volumes relative": {"Volumes": {"relative": {}}},
    "user and workdir": {"User": "nobody", "WorkingDir": "relative/dir"},
}
for label, config in BAD_CONFIGS.items():
    row(f"create {label}", "POST", "/containers/create", {"Image": BB, "Cmd": ["true"], **config})

# containers whose inspect is compared field by field
SHAPES = {
    "dfc-plain": {"Image": BB},
    "dfc-full": {
        "Image": BB,
        "Cmd": ["sleep", "1000"],
        "Hostname": "hosty",
        "Domainname": "example.org",
        "User": "1:1",
        "Env": ["A=1", "B=two"],
        "Labels": {"l": "v"},
        "WorkingDir": "/tmp",
        "StopSignal": "SIGUSR1",
        "StopTimeout": 7,
        "Entrypoint": ["/bin/sh", "-c"],
        "Tty": True,
        "OpenStdin": True,
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
        "Volumes": {"/data": {}},
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 1000000000, "Retries": 2},
        "HostConfig": {
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}},
            "Binds": ["/tmp:/hosttmp:ro"],
            "Tmpfs": {"/run": "size=1m"},
            "Dns": ["1.1.1.1"],
            "DnsSearch": ["example.org"],
            "DnsOptions": ["ndots:2"],
            "ExtraHosts": ["a.example:10.0.0.1"],
            "CapAdd": ["NET_ADMIN"],
            "CapDrop": ["MKNOD"],
            "GroupAdd": ["10"],
            "ReadonlyRootfs": True,
            "Init": True,
            "ShmSize": 128 * 1024 * 1024,
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
            "SecurityOpt": ["no-new-privileges"],
            "OomScoreAdj": 100,
            "NetworkMode": "none",
        },
    },
    "dfc-netnone": {"Image": BB, "HostConfig": {"NetworkMode": "none"}},
    "dfc-nethost": {"Image": BB, "HostConfig": {"NetworkMode": "host"}},
    "dfc-autoremove": {"Image": BB, "HostConfig": {"AutoRemove": True}},
    "dfc-privileged": {"Image": BB, "HostConfig": {"Privileged": True}},
    "dfc-mounts": {
        "Image": BB,
        "HostConfig": {
            "Mounts": [
                {"Type": "volume", "Source": "dfv-mounted", "Target": "/vol"},
                {"Type": "tmpfs", "Target": "/tmpfs", "TmpfsOptions": {"SizeBytes": 1048576}},
                {"Type": "bind", "Source": "/tmp", "Target": "/bound", "ReadOnly": True},
            ]
        },
    },
    "dfc-ipc": {"Image": BB, "HostConfig": {"IpcMode": "private", "PidMode": "host", "UTSMode": "host"}},
    "dfc-resources": {
        "Image": BB,
        "HostConfig": {"Memory": 64 * 1024 * 1024, "CpuShares": 512, "PidsLimit": 50, "NanoCpus": 500000000},
    },
    "dfc-string-cmd": {"Image": BB, "Cmd": "echo hi", "Entrypoint": ""},
    "dfc-labels": {"Image": BB, "Labels": {"com.example.a": "1", "b": ""}},
}
row("create no command", "POST", "/containers/create", {"Image": BB})
for name, body in SHAPES.items():
    create(name, {"Cmd": ["true"], **body})
    row(f"inspect {name}", "GET", f"/containers/{name}/json")
row("inspect by id", "GET", "/containers/{dfc-plain}/json")
row("inspect by short id", "GET", "/containers/{dfc-plain[:12]}/json")
row("inspect size", "GET", "/containers/dfc-plain/json?size=1")
row("inspect unversioned", "GET", "/containers/dfc-plain/json", version="")

# -- every container endpoint on a container that does not exist -----------------------------
MISSING = [
    ("GET", "json"),
    ("GET", "top"),
    ("GET", "logs?stdout=1"),
    ("GET", "changes"),
    ("GET", "export"),
    ("GET", "stats?stream=0"),
    ("POST", "resize?h=1&w=1"),
    ("POST", "start"),
    ("POST", "stop"),
    ("POST", "restart"),
    ("POST", "kill"),
    ("POST", "rename?name=x"),
    ("POST", "pause"),
    ("POST", "unpause"),
    ("POST", "attach?stream=0&stdout=1"),
    ("POST", "wait"),
    ("POST", "update"),
    ("POST", "exec"),
    ("HEAD", "archive?path=/"),
    ("GET", "archive?path=/"),
]
for method, tail in MISSING:
    body = {} if tail in ("update",) else ({"Cmd": ["true"]} if tail == "exec" else None)
    row(f"missing container {method} {tail.split('?')[0]}", method, f"/containers/nope/{tail}", body)
row("missing container delete", "DELETE", "/containers/nope")
row("missing container delete force", "DELETE", "/containers/nope?force=1")

# -- endpoints on a created, never started container ------------------------------------------
C = "/containers/dfc-basic"
row("created top", "GET", f"{C}/top")
row("created logs", "GET", f"{C}/logs?stdout=1&stderr=1")
row("created logs no stream", "GET", f"{C}/logs")
row("created changes", "GET", f"{C}/changes", sort="Path")
row("created export", "GET", f"{C}/export")
row("created stats", "GET", f"{C}/stats?stream=0", mode="keys")
row("created resize", "POST", f"{C}/resize?h=10&w=10")
row("created stop", "POST", f"{C}/stop")
row("created kill", "POST", f"{C}/kill")
row("created pause", "POST", f"{C}/pause")
row("created unpause", "POST", f"{C}/unpause")
row("created exec", "POST", f"{C}/exec", {"Cmd": ["true"]})
row("created attach logs", "POST", f"{C}/attach?logs=1&stream=0&stdout=1")
row("created commit", "POST", "/commit?container=dfc-basic&repo=dfcommit&tag=created")
row("created commit inspect", "GET", "/images/dfcommit:created/json")
row("created archive stat", "HEAD", f"{C}/archive?path=/etc/passwd")
row("created archive get", "GET", f"{C}/archive?path=/etc/passwd")
row("created archive missing path", "HEAD", f"{C}/archive?path=/nonexistent")
row("created archive no path", "GET", f"{C}/archive")
row("created archive put", "PUT", f"{C}/archive?path=/tmp", LAYER, ctype="application/x-tar")
row("created archive put bad dir", "PUT", f"{C}/archive?path=/nonexistent", LAYER, ctype="application/x-tar")
row("created archive after put", "GET", f"{C}/archive?path=/tmp/hello.txt")
row("created changes after put", "GET", f"{C}/changes", sort="Path")
row("created rename", "POST", f"{C}/rename?name=dfc-renamed")
row("renamed inspect name", "GET", "/containers/dfc-renamed/json")
row("rename back", "POST", "/containers/dfc-renamed/rename?name=dfc-basic")
row("rename to existing", "POST", f"{C}/rename?name=dfc-plain")
row("rename to same", "POST", f"{C}/rename?name=dfc-basic")
row("rename no name", "POST", f"{C}/rename")
row("rename bad name", "POST", f"{C}/rename?name=bad%20name")
row("created update restart", "POST", f"{C}/update", {"RestartPolicy": {"Name": "unless-stopped"}})
row("created update inspect", "GET", f"{C}/json")
row("created update bad restart", "POST", f"{C}/update", {"RestartPolicy": {"Name": "bogus"}})
row("created update not json", "POST", f"{C}/update", b"nope", ctype="application/json")

# -- one container's life: start, logs, attach, exec, pause, kill, inspect ---------------------
create("dfc-life", {"Image": BB, "Cmd": ["sh", "-c", "echo out; sleep 0.2; echo err >&2; exec sleep 1000"]})
row("life start", "POST", "/containers/dfc-life/start", pause=0)
row("life start again", "POST", "/containers/dfc-life/start", pause=0.5)
row("life inspect running", "GET", "/containers/dfc-life/json")
row("life top", "GET", "/containers/dfc-life/top", mode="keys")
row("life top args", "GET", "/containers/dfc-life/top?ps_args=-o%20pid,comm", mode="keys")
row("life logs stdout", "GET", "/containers/dfc-life/logs?stdout=1")
row("life logs stderr", "GET", "/containers/dfc-life/logs?stderr=1")
row("life logs both", "GET", "/containers/dfc-life/logs?stdout=1&stderr=1")
row("life logs tail 1", "GET", "/containers/dfc-life/logs?stdout=1&stderr=1&tail=1")
row("life logs tail 0", "GET", "/containers/dfc-life/logs?stdout=1&stderr=1&tail=0")
row("life logs tail bad", "GET", "/containers/dfc-life/logs?stdout=1&tail=abc")
row("life logs until past", "GET", "/containers/dfc-life/logs?stdout=1&until=1")
row("life logs since bad", "GET", "/containers/dfc-life/logs?stdout=1&since=xyz")
row("life attach replay", "POST", "/containers/dfc-life/attach?logs=1&stream=0&stdout=1&stderr=1")
row("life attach replay stdout", "POST", "/containers/dfc-life/attach?logs=1&stream=0&stdout=1")
row("life attach nothing", "POST", "/containers/dfc-life/attach?stream=0")
row(
    "life attach upgrade replay",
    "POST",
    "/containers/dfc-life/attach?logs=1&stream=0&stdout=1&stderr=1",
    headers={"Upgrade": "tcp", "Connection": "Upgrade"},
)
row("life changes", "GET", "/containers/dfc-life/changes", sort="Path")
row("life stats", "GET", "/containers/dfc-life/stats?stream=0", mode="keys")
row("life stats one-shot", "GET", "/containers/dfc-life/stats?stream=0&one-shot=1", mode="keys")
row("life resize", "POST", "/containers/dfc-life/resize?h=10&w=20")
row("life resize bad", "POST", "/containers/dfc-life/resize?h=abc&w=20")
row(
    "life exec",
    "POST",
    "/containers/dfc-life/exec",
    {"Cmd": ["sh", "-c", "echo exec-out; echo exec-err >&2; exit 3"], "AttachStdout": True, "AttachStderr": True},
    save="e-out",
)
row("life exec inspect created", "GET", "/exec/{e-out}/json")
row("life exec start", "POST", "/exec/{e-out}/start", {"Detach": False, "Tty": False})
row("life exec inspect exited", "GET", "/exec/{e-out}/json", pause=0.3)
row("life exec start again", "POST", "/exec/{e-out}/start", {"Detach": False})
row("life exec resize", "POST", "/exec/{e-out}/resize?h=5&w=5")
row(
    "life exec tty",
    "POST",
    "/containers/dfc-life/exec",
    {"Cmd": ["echo", "tty-out"], "Tty": True, "AttachStdout": True},
    save="e-tty",
)
row("life exec tty start", "POST", "/exec/{e-tty}/start", {"Detach": False, "Tty": True})
row("life exec tty inspect", "GET", "/exec/{e-tty}/json", pause=0.3)
row(
    "life exec upgrade",
    "POST",
    "/containers/dfc-life/exec",
    {"Cmd": ["cat"], "AttachStdin": True, "AttachStdout": True},
    save="e-cat",
)
row(
    "life exec upgrade start",
    "POST",
    "/exec/{e-cat}/start",
    {"Detach": False},
    headers={"Upgrade": "tcp", "Connection": "Upgrade"},
    stdin=b"fed-in\n",
    idle=1.0,
)
row(
    "life exec missing cmd",
    "POST",
    "/containers/dfc-life/exec",
    {"Cmd": ["/no/such/cmd"], "AttachStdout": True, "AttachStderr": True},
    save="e-missing",
)
row("life exec missing cmd start", "POST", "/exec/{e-missing}/start", {"Detach": False}, mode="status")
row("life exec missing cmd inspect", "GET", "/exec/{e-missing}/json", pause=0.3)
row("life exec detach", "POST", "/containers/dfc-life/exec", {"Cmd": ["touch", "/tmp/by-exec"]}, save="e-detach")
row("life exec detach start", "POST", "/exec/{e-detach}/start", {"Detach": True})
row(
    "life exec env",
    "POST",
    "/containers/dfc-life/exec",
    {
        "Cmd": ["sh", "-c", "echo $X $PWD; id -u"],
        "Env": ["X=y"],
        "WorkingDir": "/tmp",
        "User": "1",
        "AttachStdout": True,
    },
    save="e-env",
)
row("life exec env start", "POST", "/exec/{e-env}/start", {})
row("life exec env inspect", "GET", "/exec/{e-env}/json", pause=0.3)
row("life exec no cmd", "POST", "/containers/dfc-life/exec", {"AttachStdout": True})
row("life exec empty cmd", "POST", "/containers/dfc-life/exec", {"Cmd": []})
row("life exec not json", "POST", "/containers/dfc-life/exec", b"nope", ctype="application/json")
row("life exec bad user", "POST", "/containers/dfc-life/exec", {"Cmd": ["true"], "User": "nosuchuser"}, save="e-user")
row("life exec bad user start", "POST", "/exec/{e-user}/start", {"Detach": False}, mode="status")
row("exec missing inspect", "GET", "/exec/nope/json")
row("exec missing start", "POST", "/exec/nope/start", {"Detach": True})
row("exec missing resize", "POST", "/exec/nope/resize?h=1&w=1")
row("life changes after exec", "GET", "/containers/dfc-life/changes", pause=0.3, sort="Path")
row("life pause", "POST", "/containers/dfc-life/pause")
row("life pause again", "POST", "/containers/dfc-life/pause")
row("life inspect paused", "GET", "/containers/dfc-life/json")
row("life exec paused", "POST", "/containers/dfc-life/exec", {"Cmd": ["true"]})
row("life unpause", "POST", "/containers/dfc-life/unpause")
row("life unpause again", "POST", "/containers/dfc-life/unpause")
row("life delete running", "DELETE", "/containers/dfc-life")
row("life update running", "POST", "/containers/dfc-life/update", {"RestartPolicy": {"Name": "always"}})
row("life kill bad signal", "POST", "/containers/dfc-life/kill?signal=BOGUS")
row("life kill bad number", "POST", "/containers/dfc-life/kill?signal=999")
row("life kill zero", "POST", "/containers/dfc-life/kill?signal=0")
row("life kill", "POST", "/containers/dfc-life/kill?signal=SIGKILL")
row("life inspect killed", "GET", "/containers/dfc-life/json")
row("life wait", "POST", "/containers/dfc-life/wait")
row("life wait bad condition", "POST", "/containers/dfc-life/wait?condition=bogus")
row("life kill stopped", "POST", "/containers/dfc-life/kill")
row("life stop stopped", "POST", "/containers/dfc-life/stop")
row("life exec stopped", "POST", "/containers/dfc-life/exec", {"Cmd": ["true"]})
row("life exec inspect after death", "GET", "/exec/{e-detach}/json")
row("life logs after death", "GET", "/containers/dfc-life/logs?stdout=1&stderr=1")
row("life commit", "POST", "/commit?container=dfc-life&repo=dfcommit&tag=life&comment=c&author=me", save="img-life")
row("life commit inspect", "GET", "/images/dfcommit:life/json")
row("life commit history", "GET", "/images/dfcommit:life/history")
row("life commit changes", "POST", "/commit?container=dfc-life&repo=dfcommit&tag=chg&changes=ENV%20Z%3D1", mode="keys")
row("life commit changes inspect", "GET", "/images/dfcommit:chg/json")
row("life commit bad repo", "POST", "/commit?container=dfc-life&repo=UPPER")
row("commit missing container", "POST", "/commit?container=nope&repo=x")
row("commit no container", "POST", "/commit?repo=x")
row("life export", "GET", "/containers/dfc-life/export")
row("life restart", "POST", "/containers/dfc-life/restart?t=0")
row("life inspect restarted", "GET", "/containers/dfc-life/json", pause=0.3)
row("life stop", "POST", "/containers/dfc-life/stop?t=1")
row("life inspect stopped", "GET", "/containers/dfc-life/json")
row("image delete in use", "DELETE", "/images/dfcommit:life")
row("life delete", "DELETE", "/containers/dfc-life?v=1")
row("image delete after container", "DELETE", "/images/dfcommit:life")

# -- a short-lived container: output, exit code, wait, changes, diff excludes /etc -----------
create("dfc-short", {"Image": BB, "Cmd": ["sh", "-c", "echo made > /made.txt; rm /bin/true; exit 5"]})
row("short start", "POST", "/containers/dfc-short/start")
row("short wait", "POST", "/containers/dfc-short/wait")
row("short wait next-exit", "POST", "/containers/dfc-short/wait?condition=not-running")
row("short inspect", "GET", "/containers/dfc-short/json")
row("short changes", "GET", "/containers/dfc-short/changes", sort="Path")
row("short export", "GET", "/containers/dfc-short/export")
row("short top", "GET", "/containers/dfc-short/top")
row("short attach replay", "POST", "/containers/dfc-short/attach?logs=1&stream=0&stdout=1")
row("short commit", "POST", "/commit?container=dfc-short&repo=dfcommit&tag=short", mode="keys")
row("short commit history", "GET", "/images/dfcommit:short/history")

# -- a TTY container: raw stream logs -------------------------------------------------------
create("dfc-tty", {"Image": BB, "Tty": True, "Cmd": ["sh", "-c", "echo tty-line; echo tty-err >&2"]})
row("tty start", "POST", "/containers/dfc-tty/start")
row("tty wait", "POST", "/containers/dfc-tty/wait")
row("tty logs", "GET", "/containers/dfc-tty/logs?stdout=1&stderr=1")
row("tty attach replay", "POST", "/containers/dfc-tty/attach?logs=1&stream=0&stdout=1")

# -- restart policy and update on a running container ----------------------------------------
create("dfc-upd", {"Image": BB, "Cmd": ["sleep", "1000"]})
row("upd start", "POST", "/containers/dfc-upd/start")
row(
    "upd update restart",
    "POST",
    "/containers/dfc-upd/update",
    {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}},
)
row("upd inspect restart", "GET", "/containers/dfc-upd/json")
row("upd update memory", "POST", "/containers/dfc-upd/update", {"Memory": 128 * 1024 * 1024})
row("upd update autoremove conflict", "POST", "/containers/dfc-upd/update", {"RestartPolicy": {"Name": "no"}})
row("upd stop t0", "POST", "/containers/dfc-upd/stop?t=0")
row("upd inspect stopped", "GET", "/containers/dfc-upd/json")

# -- wait conditions and autoremove --------------------------------------------------------
create("dfc-auto", {"Image": BB, "Cmd": ["true"], "HostConfig": {"AutoRemove": True}})
row("auto start", "POST", "/containers/dfc-auto/start")
row("auto wait removed", "POST", "/containers/dfc-auto/wait?condition=removed", mode="status")
row("auto gone", "GET", "/containers/dfc-auto/json", pause=0.5)

# -- volumes ---------------------------------------------------------------------------------
row("volumes list", "GET", "/volumes", sort="Name")
row("volume create", "POST", "/volumes/create", {"Name": "dfv-a"})
row("volume create again", "POST", "/volumes/create", {"Name": "dfv-a"})
row("volume create labels", "POST", "/volumes/create", {"Name": "dfv-b", "Labels": {"k": "v"}, "Driver": "local"})
row(
    "volume create opts",
    "POST",
    "/volumes/create",
    {"Name": "dfv-t", "DriverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}},
)
row("volume create bad name", "POST", "/volumes/create", {"Name": "a/b"})
row("volume create bad opt", "POST", "/volumes/create", {"Name": "dfv-y", "DriverOpts": {"bogus": "1"}})
row("volume create not json", "POST", "/volumes/create", b"nope", ctype="application/json")
row("volume create anonymous", "POST", "/volumes/create", {}, mode="keys")
row("volume inspect", "GET", "/volumes/dfv-a")
row("volume inspect labels", "GET", "/volumes/dfv-b")
row("volume inspect opts", "GET", "/volumes/dfv-t")
row("volume inspect missing", "GET", "/volumes/nope")
row("volumes filter name", "GET", "/volumes?filters=" + _q({"name": ["dfv-a"]}))
row("volumes filter label", "GET", "/volumes?filters=" + _q({"label": ["k=v"]}))
row("volumes filter dangling", "GET", "/volumes?filters=" + _q({"dangling": ["false"]}), sort="Name")
# the name filter keeps out the anonymous volume, whose random name would sort anywhere
row(
    "volumes filter driver",
    "GET",
    "/volumes?filters=" + _q({"driver": ["local"], "name": ["dfv-"]}),
    mode="keys",
    sort="Name",
)
row("volumes filter bogus", "GET", "/volumes?filters=" + _q({"bogus": ["x"]}))
create("dfc-vol", {"Image": BB, "Cmd": ["true"], "HostConfig": {"Binds": ["dfv-a:/data"]}})
row("vol container inspect", "GET", "/containers/dfc-vol/json")
row("volume delete in use", "DELETE", "/volumes/dfv-a")
row("volume delete missing", "DELETE", "/volumes/nope")
row("volume delete missing force", "DELETE", "/volumes/nope?force=1")
row("volume delete", "DELETE", "/volumes/dfv-b")
row("volume delete again", "DELETE", "/volumes/dfv-b")
row("vol container delete", "DELETE", "/containers/dfc-vol")
row("volume delete freed", "DELETE", "/volumes/dfv-a")
row("volume delete tmpfs", "DELETE", "/volumes/dfv-t")

# -- networks --------------------------------------------------------------------------------
row("networks list", "GET", "/networks", sort="Name")
row("networks list slash", "GET", "/networks/", sort="Name")
row("network inspect host", "GET", "/networks/host")
row("network inspect none", "GET", "/networks/none")
row("network inspect missing", "GET", "/networks/nope")
row("network create", "POST", "/networks/create", {"Name": "dfn-a", "Labels": {"x": "y"}}, save="dfn-a")
# CheckDuplicate: 20.10 creates a second network of that name without it (a warning);
# from 1.44 the daemon always refuses, which CheckDuplicate asks 20.10 for
row("network create duplicate", "POST", "/networks/create", {"Name": "dfn-a", "CheckDuplicate": True})
row("network create no name", "POST", "/networks/create", {})
row("network create not json", "POST", "/networks/create", b"nope", ctype="application/json")
row("network create host driver", "POST", "/networks/create", {"Name": "dfn-x", "Driver": "host"})
row(
    "network create bad subnet",
    "POST",
    "/networks/create",
    {"Name": "dfn-x", "IPAM": {"Config": [{"Subnet": "300.1.1.1/24"}]}},
)
row(
    "network create gateway outside",
    "POST",
    "/networks/create",
    {"Name": "dfn-x", "IPAM": {"Config": [{"Subnet": "10.98.0.0/24", "Gateway": "10.97.0.1"}]}},
)
row(
    "network create range outside",
    "POST",
    "/networks/create",
    {"Name": "dfn-x", "IPAM": {"Config": [{"Subnet": "10.98.0.0/24", "IPRange": "10.97.0.0/25"}]}},
)
row(
    "network create ipam",
    "POST",
    "/networks/create",
    {
        "Name": "dfn-ipam",
        "IPAM": {"Config": [{"Subnet": "10.99.0.0/24", "Gateway": "10.99.0.254"}]},
        "Options": {"com.docker.network.bridge.name": "dfbr-ipam"},
        "Internal": True,
        "Attachable": True,
    },
    save="dfn-ipam",
)
row(
    "network create range and aux",
    "POST",
    "/networks/create",
    {
        "Name": "dfn-range",
        "IPAM": {
            "Config": [
                {
                    "Subnet": "10.95.0.0/24",
                    "IPRange": "10.95.0.128/25",
                    "AuxiliaryAddresses": {"reserved": "10.95.0.129"},
                }
            ]
        },
    },
    mode="status",
)
row("network delete range and aux", "DELETE", "/networks/dfn-range", mode="status")
for family, pool in (
    ("v4", {"Subnet": "10.95.0.0/24", "IPRange": "10.95.0.128/25", "AuxiliaryAddresses": {"r": "10.95.0.128"}}),
    ("v6", {"Subnet": "fd00:95::/64", "AuxiliaryAddresses": {"r": "fd00:95::1"}}),
):
    row(
        f"network create aux on gateway {family}",
        "POST",
        "/networks/create",
        {"Name": "dfn-x", "EnableIPv6": family == "v6", "IPAM": {"Config": [pool]}},
    )
row(
    "network create range without an address",
    "POST",
    "/networks/create",
    {"Name": "dfn-x", "IPAM": {"Config": [{"Subnet": "10.94.0.0/24", "IPRange": "10.94.0.255/32"}]}},
)
row(
    "network create overlap",
    "POST",
    "/networks/create",
    {"Name": "dfn-x", "IPAM": {"Config": [{"Subnet": "10.99.0.0/25"}]}},
)
row(
    "network create ipv6 no subnet",
    "POST",
    "/networks/create",
    {"Name": "dfn-v6auto", "EnableIPv6": True},
    mode="status",
)
row("network delete ipv6 auto", "DELETE", "/networks/dfn-v6auto", mode="status")
row(
    "network create ipv6",
    "POST",
    "/networks/create",
    {
        "Name": "dfn-v6",
        "EnableIPv6": True,
        "IPAM": {"Config": [{"Subnet": "10.96.0.0/24"}, {"Subnet": "fd00:dd::/64"}]},
    },
)
row("network inspect", "GET", "/networks/dfn-a")
row("network inspect by id", "GET", "/networks/{dfn-a}")
row("network inspect by short id", "GET", "/networks/{dfn-a[:12]}")
row("network inspect verbose", "GET", "/networks/dfn-a?verbose=1")
row("network inspect scope", "GET", "/networks/dfn-a?scope=local")
row("network inspect bad scope", "GET", "/networks/dfn-a?scope=swarm")
row("network inspect ipam", "GET", "/networks/dfn-ipam")
row("network inspect ipv6", "GET", "/networks/dfn-v6")
row("networks filter name", "GET", "/networks?filters=" + _q({"name": ["dfn-a"]}))
row("networks filter driver", "GET", "/networks?filters=" + _q({"driver": ["bridge"]}), sort="Name")
row("networks filter type custom", "GET", "/networks?filters=" + _q({"type": ["custom"]}), sort="Name")
row("networks filter type builtin", "GET", "/networks?filters=" + _q({"type": ["builtin"]}), sort="Name")
row("networks filter type bad", "GET", "/networks?filters=" + _q({"type": ["bogus"]}))
row("networks filter label", "GET", "/networks?filters=" + _q({"label": ["x=y"]}))
row("networks filter bogus", "GET", "/networks?filters=" + _q({"bogus": ["x"]}))
create("dfc-n1", {"Image": BB, "Cmd": ["sleep", "1000"], "HostConfig": {"NetworkMode": "dfn-a"}})
create(
    "dfc-n2",
    {
        "Image": BB,
        "Cmd": ["sleep", "1000"],
        "HostConfig": {"NetworkMode": "dfn-ipam"},
        "NetworkingConfig": {
            "EndpointsConfig": {"dfn-ipam": {"IPAMConfig": {"IPv4Address": "10.99.0.10"}, "Aliases": ["two"]}}
        },
    },
)
create(
    "dfc-n3", {"Image": BB, "Cmd": ["sleep", "1000"], "HostConfig": {"NetworkMode": "dfn-a", "Links": ["dfc-n1:one"]}}
)
row("n1 inspect created", "GET", "/containers/dfc-n1/json")
row("n2 inspect created", "GET", "/containers/dfc-n2/json")
row("n3 inspect created", "GET", "/containers/dfc-n3/json")
row("n1 start", "POST", "/containers/dfc-n1/start")
row("n2 start", "POST", "/containers/dfc-n2/start")
row("n3 start", "POST", "/containers/dfc-n3/start")
row("n1 inspect running", "GET", "/containers/dfc-n1/json")
row("n2 inspect running", "GET", "/containers/dfc-n2/json")
row("n3 inspect running", "GET", "/containers/dfc-n3/json")
row(
    "n3 exec hosts",
    "POST",
    "/containers/dfc-n3/exec",
    {"Cmd": ["sh", "-c", "grep -c one /etc/hosts; cat /etc/hostname | wc -c"], "AttachStdout": True},
    save="e-hosts",
)
row("n3 exec hosts start", "POST", "/exec/{e-hosts}/start", {})
row("network inspect with containers", "GET", "/networks/dfn-a")
row(
    "network connect static",
    "POST",
    "/networks/dfn-ipam/connect",
    {
        "Container": "dfc-n1",
        "EndpointConfig": {"IPAMConfig": {"IPv4Address": "10.99.0.20"}, "Aliases": ["uno"], "Links": ["dfc-n2:deux"]},
    },
)
row("n1 inspect connected", "GET", "/containers/dfc-n1/json")
row("network connect again", "POST", "/networks/dfn-ipam/connect", {"Container": "dfc-n1"})
row(
    "network connect ip taken",
    "POST",
    "/networks/dfn-ipam/connect",
    {"Container": "dfc-n3", "EndpointConfig": {"IPAMConfig": {"IPv4Address": "10.99.0.20"}}},
)
row(
    "network connect ip outside",
    "POST",
    "/networks/dfn-ipam/connect",
    {"Container": "dfc-n3", "EndpointConfig": {"IPAMConfig": {"IPv4Address": "10.1.1.1"}}},
)
row(
    "network connect link-local",
    "POST",
    "/networks/dfn-ipam/connect",
    {"Container": "dfc-n3", "EndpointConfig": {"IPAMConfig": {"LinkLocalIPs": ["169.254.10.10"]}}},
)
row("n3 inspect link-local", "GET", "/containers/dfc-n3/json")
row("network connect missing container", "POST", "/networks/dfn-a/connect", {"Container": "nope"})
row("network connect missing network", "POST", "/networks/nope/connect", {"Container": "dfc-n1"})
row("network connect host", "POST", "/networks/host/connect", {"Container": "dfc-n1"})
row("network connect no body", "POST", "/networks/dfn-a/connect", b"", ctype="application/json")
create("dfc-n4", {"Image": BB, "Cmd": ["sleep", "1000"], "HostConfig": {"NetworkMode": "dfn-a"}})
row(
    "network connect mac",
    "POST",
    "/networks/dfn-ipam/connect",
    {"Container": "dfc-n4", "EndpointConfig": {"MacAddress": "02:42:ac:11:00:99"}},
)
row("n4 inspect mac", "GET", "/containers/dfc-n4/json")
row(
    "network connect bad mac",
    "POST",
    "/networks/dfn-a/connect",
    {"Container": "dfc-basic", "EndpointConfig": {"MacAddress": "nope"}},
)
row("network disconnect", "POST", "/networks/dfn-ipam/disconnect", {"Container": "dfc-n1"})
row("network disconnect again", "POST", "/networks/dfn-ipam/disconnect", {"Container": "dfc-n1"})
row("network disconnect force", "POST", "/networks/dfn-ipam/disconnect", {"Container": "dfc-n4", "Force": True})
row("network disconnect missing container", "POST", "/networks/dfn-a/disconnect", {"Container": "nope"})
row("n1 inspect disconnected", "GET", "/containers/dfc-n1/json")
row("network delete in use", "DELETE", "/networks/dfn-a")
row("network delete predefined", "DELETE", "/networks/host")
row("network delete none", "DELETE", "/networks/none")
row("network delete missing", "DELETE", "/networks/nope")
row("link delete", "DELETE", "/containers/dfc-n3/one?link=1")
row("link delete missing", "DELETE", "/containers/dfc-n3/nope?link=1")
row("n3 inspect unlinked", "GET", "/containers/dfc-n3/json")
row("containers list", "GET", "/containers/json")
row("containers list all", "GET", "/containers/json?all=1")
row("containers list limit", "GET", "/containers/json?all=1&limit=2")
row("containers list size", "GET", "/containers/json?size=1")
row("containers filter name", "GET", "/containers/json?all=1&filters=" + _q({"name": ["dfc-n"]}))
row("containers filter status exited", "GET", "/containers/json?all=1&filters=" + _q({"status": ["exited"]}))
row("containers filter status created", "GET", "/containers/json?all=1&filters=" + _q({"status": ["created"]}))
row("containers filter status bad", "GET", "/containers/json?all=1&filters=" + _q({"status": ["bogus"]}))
row("containers filter label", "GET", "/containers/json?all=1&filters=" + _q({"label": ["l=v"]}))
row("containers filter label key", "GET", "/containers/json?all=1&filters=" + _q({"label": ["com.example.a"]}))
row("containers filter network", "GET", "/containers/json?filters=" + _q({"network": ["dfn-a"]}))
row("containers filter ancestor", "GET", "/containers/json?all=1&filters=" + _q({"ancestor": ["dfimport:t"]}))
row("containers filter exited code", "GET", "/containers/json?all=1&filters=" + _q({"exited": ["5"]}))
row("containers filter exited bad", "GET", "/containers/json?all=1&filters=" + _q({"exited": ["x"]}))
row("containers filter volume", "GET", "/containers/json?all=1&filters=" + _q({"volume": ["dfv-mounted"]}))
row("containers filter id", "GET", "/containers/json?all=1&filters=" + _q({"id": ["{dfc-plain}"]}))
row("containers filter before", "GET", "/containers/json?all=1&filters=" + _q({"before": ["dfc-full"]}))
row("containers filter since", "GET", "/containers/json?all=1&filters=" + _q({"since": ["dfc-n3"]}))
row("containers filter health", "GET", "/containers/json?all=1&filters=" + _q({"health": ["none"]}))
row("containers filter isolation", "GET", "/containers/json?all=1&filters=" + _q({"isolation": ["default"]}))
row("containers filter is-task", "GET", "/containers/json?all=1&filters=" + _q({"is-task": ["false"]}))
row("containers filter bogus", "GET", "/containers/json?filters=" + _q({"bogus": ["x"]}))
row("containers filter malformed", "GET", "/containers/json?filters=nope")
# IPv6: a container on the dual-stack network, one with an IPv6 address asked for, and refusals
create(
    "dfc-v6",
    {
        "Image": BB,
        "Cmd": ["sleep", "1000"],
        "HostConfig": {"NetworkMode": "dfn-v6"},
        "NetworkingConfig": {"EndpointsConfig": {"dfn-v6": {"IPAMConfig": {"IPv6Address": "fd00:dd::99"}}}},
    },
)
create("dfc-v6b", {"Image": BB, "Cmd": ["sleep", "1000"], "HostConfig": {"NetworkMode": "dfn-v6"}})
row("v6 start", "POST", "/containers/dfc-v6/start")
row("v6b start", "POST", "/containers/dfc-v6b/start")
row("v6 inspect", "GET", "/containers/dfc-v6/json")
row("v6b inspect", "GET", "/containers/dfc-v6b/json")
row("network inspect ipv6 with containers", "GET", "/networks/dfn-v6")
row(
    "v6 exec addresses",
    "POST",
    "/containers/dfc-v6b/exec",
    {"Cmd": ["sh", "-c", "ip -6 addr show eth0 | grep global; ip -6 route | grep default"], "AttachStdout": True},
    save="e-v6",
)
row("v6 exec addresses start", "POST", "/exec/{e-v6}/start", {})
row(
    "network connect ipv6 taken",
    "POST",
    "/networks/dfn-v6/connect",
    {"Container": "dfc-n3", "EndpointConfig": {"IPAMConfig": {"IPv6Address": "fd00:dd::99"}}},
)
row(
    "network connect ipv6 without ipv6",
    "POST",
    "/networks/dfn-a/connect",
    {"Container": "dfc-n2", "EndpointConfig": {"IPAMConfig": {"IPv6Address": "fd00:dd::5"}}},
)
row("v6 delete", "DELETE", "/containers/dfc-v6?force=1")
row("v6b delete", "DELETE", "/containers/dfc-v6b?force=1")
row("n stop all", "POST", "/containers/dfc-n1/kill")
row("n2 kill", "POST", "/containers/dfc-n2/kill")
row("n3 kill", "POST", "/containers/dfc-n3/kill")
row("n1 delete force", "DELETE", "/containers/dfc-n1?force=1")
row("n2 delete", "DELETE", "/containers/dfc-n2", pause=0.3)
row("n3 delete", "DELETE", "/containers/dfc-n3?force=1")
row("n4 delete", "DELETE", "/containers/dfc-n4?force=1")
row("network delete", "DELETE", "/networks/dfn-a")
row("network delete ipam", "DELETE", "/networks/dfn-ipam")
row("networks prune", "POST", "/networks/prune")
row("networks prune bad filter", "POST", "/networks/prune?filters=" + _q({"bogus": ["x"]}))

# -- the sequence the issue names: create -> start -> exec -> kill -> inspect ----------------
for n in range(3):
    cid = f"dfc-seq{n}"
    create(cid, {"Image": BB, "Cmd": ["sleep", "1000"], "Labels": {"seq": str(n)}})
    row(f"seq{n} start", "POST", f"/containers/{cid}/start")
    row(
        f"seq{n} exec",
        "POST",
        f"/containers/{cid}/exec",
        {"Cmd": ["sh", "-c", f"echo {n}"], "AttachStdout": True},
        save=f"e-seq{n}",
    )
    row(f"seq{n} exec start", "POST", f"/exec/{{e-seq{n}}}/start", {})
    row(f"seq{n} kill", "POST", f"/containers/{cid}/kill?signal={['SIGKILL', 'KILL', '9'][n]}")
    row(f"seq{n} inspect", "GET", f"/containers/{cid}/json")
    row(f"seq{n} exec inspect", "GET", f"/exec/{{e-seq{n}}}/json")
    row(f"seq{n} delete", "DELETE", f"/containers/{cid}")

# -- unversioned requests: what current clients send -----------------------------------------
for path in (
    "/containers/dfc-plain/json",
    "/images/busybox/json",
    "/networks/none",
    "/volumes",
    "/containers/json?all=1",
):
    row(f"current {path}", "GET", path, version="")
row("current create", "POST", "/containers/create?name=dfc-current", {"Image": BB}, version="", save="dfc-current")
row("current inspect", "GET", "/containers/dfc-current/json", version="")
row("current v1.44 inspect", "GET", "/containers/dfc-current/json", version="/v1.44")
row("current v1.24 inspect", "GET", "/containers/dfc-current/json", version="/v1.24")
row("current v1.30 list", "GET", "/containers/json?all=1", version="/v1.30")

# -- prune and events at the end ---------------------------------------------------------------
# `until` is whole seconds: the pause puts every earlier event before it on both daemons
row(
    "events containers",
    "GET",
    "/events?since=0&until={now}&filters=" + _q({"type": ["container"], "event": ["create"]}),
    pause=1.1,
)
row("events images", "GET", "/events?since=0&until={now}&filters=" + _q({"type": ["image"], "event": ["tag", "untag"]}))
row(
    "events networks",
    "GET",
    "/events?since=0&until={now}&filters=" + _q({"type": ["network"], "event": ["create", "destroy"]}),
)
row("events volumes", "GET", "/events?since=0&until={now}&filters=" + _q({"type": ["volume"], "event": ["create"]}))
# the last address of an IPv6 pool is an address like any other (IPv4 keeps its broadcast); after
# the events rows: dockerd keeps its last 256 events only, and these would push early ones out
row(
    "network create ipv6 small",
    "POST",
    "/networks/create",
    {
        "Name": "dfn-v6s",
        "EnableIPv6": True,
        "IPAM": {"Config": [{"Subnet": "10.97.0.0/24"}, {"Subnet": "fd00:97::/126"}]},
    },
    save="dfn-v6s",
)
for name, asked in (("dfc-v6last", {"IPv6Address": "fd00:97::3"}), ("dfc-v6free", None)):
    endpoint = {"IPAMConfig": asked} if asked else {}
    create(
        name,
        {
            "Image": BB,
            "Cmd": ["sleep", "1000"],
            "HostConfig": {"NetworkMode": "dfn-v6s"},
            "NetworkingConfig": {"EndpointsConfig": {"dfn-v6s": endpoint}},
        },
    )
    row(f"{name} start", "POST", f"/containers/{name}/start")
row("network inspect ipv6 small", "GET", "/networks/dfn-v6s")
create("dfc-v6full", {"Image": BB, "Cmd": ["sleep", "1000"], "HostConfig": {"NetworkMode": "dfn-v6s"}})
row("dfc-v6full start", "POST", "/containers/dfc-v6full/start")
for name in ("dfc-v6last", "dfc-v6free", "dfc-v6full"):
    row(f"{name} delete", "DELETE", f"/containers/{name}?force=1")
row("network delete ipv6 small", "DELETE", "/networks/dfn-v6s", mode="status")
row("containers prune bad filter", "POST", "/containers/prune?filters=" + _q({"bogus": ["x"]}))
row("containers prune label", "POST", "/containers/prune?filters=" + _q({"label": ["seq"]}))
row("containers prune", "POST", "/containers/prune")
row("containers list after prune", "GET", "/containers/json?all=1")
row("volumes prune", "POST", "/volumes/prune")
row("volumes prune all", "POST", "/volumes/prune?filters=" + _q({"all": ["true"]}))
row("volumes list after prune", "GET", "/volumes")
row("images prune all", "POST", "/images/prune?filters=" + _q({"dangling": ["false"]}))
row("images list after prune", "GET", "/images/json")
