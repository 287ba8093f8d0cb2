"""Differences from the reference dockerd that are accepted, each with its reason.

An entry covers the differences whose row name and location (`status`, `header:<name>`,
`body.<path>`) match its two globs. The reference is Debian's dockerd 20.10 (API 1.41);
dockyard serves API 1.44 and follows the 1.44 spec and moby's current behaviour where they
differ from 20.10 ("1.44:" reasons). "design:" reasons are dockyard's own layout or
machinery showing through (paths, process ids, build metadata). "gap:" reasons are known
dockyard shortcomings still to fix, listed so that the suite catches anything new, not
because they are right; the report of issue 10 names them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accepted:
    rows: str
    where: str
    reason: str


_ATTACHES = "*attach*"
_MISSING_MIDDLEWARE = "dockerd writes hijacked streams, unknown paths and version errors outside its middleware, without Api-Version and Docker-Experimental; dockyard sends both on every answer"
_UNPARSABLE = "1.44: moby answers bodies and parameters it cannot parse with 400 (errdefs.InvalidParameter, since v23) where 20.10 answered 500; dockyard names the parameter instead of quoting Go's json/strconv errors"
_IMAGELESS = "design: a create without an Image is a 400 ('create no image'); dockerd 20.10 makes an image-less container that can never start, so its lists hold one more"
_INSPECT_ROWS = ("inspect *", "* inspect*", "current /containers/dfc-plain/json")

ACCEPTED: list[Accepted] = [
    # -- headers ---------------------------------------------------------------------------------
    *(
        Accepted(rows, f"header:{name}", _MISSING_MIDDLEWARE)
        for rows in (_ATTACHES, "no such page*", "wrong method*", "version *")
        for name in ("api-version", "docker-experimental")
    ),
    Accepted(
        "*logs*",
        "header:content-type",
        "1.44: moby sends application/vnd.docker.raw-stream on logs below API 1.42 (multiplexed-stream from 1.42); 20.10 sent no Content-Type",
    ),
    Accepted(
        "*export",
        "header:content-type",
        "1.44: moby's export is application/x-tar; 20.10 said application/octet-stream",
    ),
    Accepted(
        "version too old",
        "*",
        "1.44: the oldest API version current moby serves is 1.24 (20.10: 1.12), and 20.10 wrote this one error as text/plain",
    ),
    Accepted("version too new", "body.message", "each daemon names its own newest API version (1.44 and 1.41)"),
    Accepted("current v1.44 inspect", "*", "1.44 is too new for dockerd 20.10; dockyard serves it"),
    # -- system ----------------------------------------------------------------------------------
    Accepted(
        "version*",
        "body.Components*",
        "design: component details are each daemon's build metadata (dockerd's GitCommit, GoVersion, BuildTime...)",
    ),
    Accepted(
        "info",
        "body.*",
        "design: info describes the daemon itself (containerd/runc/init commits, proxies, swarm node, runtimes, security options, KernelMemory flags gone in 1.44)",
    ),
    Accepted(
        "system df",
        "body.Build*",
        "1.44: BuildCache is an array of BuildKit's cache records (a classic builder's cache is images, listed under"
        " Images): [] where 20.10 says null; BuilderSize is not in the 1.44 spec (20.10 still sent 0)",
    ),
    Accepted(
        "system df",
        "body.Images*",
        "1.44: image summaries with {} Labels and [] RepoDigests, non-nullable in the 1.44 spec",
    ),
    Accepted(
        "events bad filter",
        "status",
        "design: an unknown event filter is a 400 (never accepted and dropped); dockerd ignores it",
    ),
    Accepted(
        "*",
        "body.HostConfig.MaskedPaths",
        "1.44: inspect shows the masked paths the runtime applies: current moby defaults, which add /proc/interrupts and /sys/devices/virtual/powercap to 20.10 list",
    ),
    Accepted(
        "events containers",
        "body",
        "design: the containers dockyard refuses at create (20.10 creates them, and they can never start) have no create event",
    ),
    Accepted(
        "events volumes",
        "body",
        "design: the anonymous volumes of the containers dockyard refuses at create are never made, so have no event",
    ),
    Accepted(
        "events networks",
        "body",
        "follows from dfn-x, which 20.10 created (network create range outside, CheckDuplicate)",
    ),
    Accepted(
        "events images",
        "body*.Actor.Attributes.name",
        "1.44: a tag event names the reference with its tag (`dfi:latest`), as current moby; 20.10 as given (`dfi`)",
    ),
    Accepted("events bad filter", "body", "design: an unknown event filter is a 400 (never accepted and dropped)"),
    Accepted(
        "events malformed filters",
        "body.message",
        "design: a filters value that is not JSON is called that; dockerd passes on Go's JSON decoder error ('invalid character ...')",
    ),
    *(
        Accepted(rows, where, _UNPARSABLE)
        for rows in (
            "*not json",
            "*malformed*",
            "create no body",
            "image create nothing",
        )
        for where in ("status", "body.message")
    ),
    Accepted("*since bad", "status", _UNPARSABLE),
    # -- images ----------------------------------------------------------------------------------
    Accepted(
        "images *",
        "body*.Labels",
        "1.44: image summaries show {} for no labels (the 1.44 spec: Labels is a non-nullable object); dockerd 20.10 shows null",
    ),
    Accepted(
        "images *",
        "body*.RepoDigests",
        "1.44: image summaries show [] for no digests (the 1.44 spec: RepoDigests is a non-nullable array); dockerd 20.10 shows null",
    ),
    Accepted("*", "body.DockerVersion", "design: DockerVersion is the version of the dockerd that made the image"),
    Accepted("*", "body.GraphDriver.Data*", "design: GraphDriver.Data names each daemon's own storage directories"),
    Accepted(
        "current /images/busybox/json", "body.VirtualSize", "1.44: VirtualSize is gone from image inspect in API 1.44"
    ),
    Accepted(
        "image inspect *",
        "body.message",
        "1.44: dockerd 20.10 wraps the inspect error twice ('no such image: X: No such image: X'); current moby says it once",
    ),
    Accepted(
        "image * bad *",
        "*",
        "1.44: an invalid reference is a 400 in current moby (20.10: 500 on tag); current moby's reference parser names the repository ('repository name (library/UPPER) must be lowercase') and inspect says it without 20.10's 'no such image: X:' prefix",
    ),
    Accepted(
        "*bad repo",
        "*",
        "1.44: an invalid reference is a 400 in current moby (20.10: 500); current moby's reference parser names the repository ('repository name (library/UPPER) must be lowercase')",
    ),
    Accepted(
        "*bad restart",
        "body.message",
        "1.44: moby's current validateRestartPolicy wording ('invalid restart policy: unknown policy ...'); 20.10's was shorter",
    ),
    Accepted("image tag no repo", "*", "1.44: 400 for a missing repo; dockyard says what is missing"),
    Accepted(
        "create bad image ref",
        "body.message",
        "1.44: current moby's reference parser names the repository ('repository name (library/UPPER) must be lowercase')",
    ),
    Accepted(
        "image import not tar",
        "*",
        "1.44: 400 for an unreadable tar (20.10: 500); design: 'invalid tar: unexpected EOF', where moby names its re-executed untar helper ('Error processing tar file(exit status 1): unexpected EOF')",
    ),
    Accepted(
        "image save*",
        "body.tar",
        "1.44: current moby saves an OCI image layout with manifest.json and repositories (dockyard's format); 20.10 wrote the legacy per-layer directories",
    ),
    Accepted(
        "image load *",
        "body.error*",
        "dockerd's message names its temporary directory (docker-import-<n>/repositories); dockyard says which file is missing",
    ),
    Accepted(
        "build *",
        "status",
        "dockyard's builder answers a context without a Dockerfile with 400 where dockerd 20.10 answers 500; the message is the same",
    ),
    # -- containers: create checks -----------------------------------------------------------
    # -- containers: inspect -----------------------------------------------------------------
    *(
        Accepted(
            rows,
            "body.HostConfig.KernelMemory*",
            "1.44: KernelMemory is gone from API 1.44 (KernelMemoryTCP is omitempty)",
        )
        for rows in _INSPECT_ROWS
    ),
    *(
        Accepted(
            rows,
            "body.HostConfig.RestartPolicy.Name",
            '1.44: current moby stores an unset restart policy as "no" (20.10: "")',
        )
        for rows in _INSPECT_ROWS
    ),
    *(
        Accepted(
            rows,
            "body.*Path",
            "design: dockyard writes hostname, hosts, resolv.conf and the log file at create; dockerd names them once started",
        )
        for rows in _INSPECT_ROWS
    ),
    *(
        Accepted(
            rows, "body.NetworkSettings.Networks.*.DNSNames", "1.44: DNSNames is new in API 1.44's EndpointSettings"
        )
        for rows in ("*",)
    ),
    *(
        Accepted(
            rows,
            "body.NetworkSettings.Networks.*.NetworkID",
            "design: dockyard records the endpoint's network at create; dockerd at start",
        )
        for rows in _INSPECT_ROWS
    ),
    Accepted(
        "*",
        "body.NetworkSettings.Sandbox*",
        "design: dockyard's sandbox is the container's own netns (/proc/<pid>/ns/net); dockerd's a bind-mounted file",
    ),
    Accepted(
        "*",
        "body.HostConfig.SecurityOpt",
        "design: dockerd adds label=disable (SELinux) for privileged and host-IPC/PID containers; dockyard has no SELinux labelling",
    ),
    Accepted(
        "*",
        "body.HostConfig.Runtime",
        "1.44: current moby always shows Runtime; dockerd 20.10 omits it on some containers",
    ),
    # -- containers: the rest ----------------------------------------------------------------
    Accepted(
        "*export",
        "body.tar",
        "design: dockerd's init layer also has /dev, /proc, /sys, /etc/mtab entries; dockyard's only the files it mounts and /.dockerenv",
    ),
    Accepted("*unpause*", "status", "1.44: current moby answers 409 for a container that is not paused (20.10: 500)"),
    Accepted(
        "life delete running",
        "body.message",
        "1.44: current moby's wording ('cannot remove container ...: container is running')",
    ),
    Accepted(
        "life kill bad number",
        "status",
        "design: a signal the kernel does not have is a 400 (a bad request), in dockerd's words; dockerd 20.10 answers 500",
    ),
    Accepted(
        "life wait bad condition",
        "*",
        "1.44: an unknown wait condition is a 400 in current moby; 20.10 waited for not-running",
    ),
    Accepted(
        "life stats*",
        "body.*",
        "design: stats come from each runtime's cgroup reading (v1 memory stat keys, per-cpu usage, empty blkio lists)",
    ),
    Accepted(
        "commit no container",
        "body.message",
        "design: dockyard says what is missing; dockerd 'invalid name or ID supplied: \"\"'",
    ),
    # -- networks ----------------------------------------------------------------------------
    Accepted(
        "*network*",
        "body*.EnableIPv4",
        "dockyard also shows EnableIPv4 (true), a field of later APIs (1.47); 1.44 clients ignore it",
    ),
    Accepted(
        "images prune all",
        "body.ImagesDeleted",
        "design: dockerd 20.10 also lists its per-layer image IDs as Deleted, in map order",
    ),
    Accepted(
        "events bad since",
        "*",
        "1.44: moby answers parameters it cannot parse with 400 (since v23), in strconv's words as 20.10",
    ),
    Accepted("create no image", "*", _IMAGELESS),
    Accepted(
        "*",
        "body.HostConfig.CgroupnsMode",
        "design: a container gets a cgroup namespace of its own by default on cgroup v1 hosts too (dockerd shares the host's there), and inspect says private",
    ),
    *(
        Accepted(
            f"create {name}",
            "*",
            "design: refused at create with a 400 naming what is wrong, where dockerd 20.10 makes the container and fails at its start",
        )
        for name in (
            "bind no target",
            "ipc bogus",
            "pid bogus",
            "uts bogus",
            "cpu shares negative",
            "dns bad",
            "device bad",
            "sysctl bogus",
            "ulimit bad",
            "volumes relative",
        )
    ),
    *(
        Accepted(f"create {name}", "status", "1.44: an invalid HostConfig value is a 400 in current moby (20.10: 500)")
        for name in ("bind bad mode", "bind target relative", "isolation bogus")
    ),
    Accepted("create tmpfs relative", "body.message", "design: the message names the mount type, as for --mount"),
    Accepted("create restart *", "body.message", "1.44: moby's current validateRestartPolicy wording"),
    *(
        Accepted(f"containers filter {name}", "body", _IMAGELESS)
        for name in ("before", "health", "isolation", "is-task")
    ),
    *(
        Accepted(rows, "status", "1.44: a filter value that does not parse is a 400 in current moby (20.10: 500)")
        for rows in ("containers filter exited bad", "networks filter type bad")
    ),
    Accepted(
        "networks*",
        "body*.Options.com.docker.network.bridge.*",
        "design: the default bridge's options are each daemon's own (name dockyard0, masquerade on, no explicit enable_icc/host_binding_ipv4)",
    ),
    *(
        Accepted(
            rows,
            where,
            "follows from 'network create range outside': 20.10 created dfn-x from an IPRange outside its subnet, current moby refuses it",
        )
        for rows, where in (
            ("networks filter driver", "body"),
            ("networks filter type custom", "body"),
            ("networks prune", "body.NetworksDeleted"),
        )
    ),
    Accepted(
        "network create aux on gateway *",
        "status",
        "design: the user's own request refused with a 403, as any address in use (dockerd: 500, the same words)",
    ),
    Accepted(
        "network create range outside",
        "*",
        "1.44: current moby validates an IPAM pool (an IPRange outside its subnet is a 400); 20.10 created the network",
    ),
    Accepted(
        "network create no name",
        "*",
        "1.44: a missing name is a 400 in current moby (20.10: 500 'invalid name: '); dockyard says what is missing",
    ),
    Accepted(
        "network create bad subnet",
        "*",
        "1.44: an invalid subnet is a 400 in current moby's ValidateIPAM words (20.10: 500, libnetwork's)",
    ),
    Accepted(
        "network create gateway outside",
        "*",
        "1.44: a gateway outside the subnet is a 400 in current moby's ValidateIPAM words (20.10: 500, libnetwork's)",
    ),
    Accepted(
        "network connect bad mac",
        "*",
        "1.44: current moby checks a stopped container's endpoint settings (the MAC) at connect"
        " (ConnectToNetwork -> validateEndpointSettings, a 400); 20.10 at its start",
    ),
    Accepted(
        "network connect ip outside",
        "*",
        "1.44: a 400 in current moby's validateEndpointSettings words (20.10: 500, libnetwork's)",
    ),
    Accepted(
        "network connect no body",
        "body.message",
        "design: dockyard says what is missing; dockerd quotes its JSON reader",
    ),
    Accepted("network disconnect again", "status", "1.44: a 400 for a container not on the network (20.10: 500)"),
    Accepted(
        "[nv][0-9b]* inspect*",
        "body.NetworkSettings.Networks.*.Aliases",
        "1.44: current moby no longer adds the short container ID to Aliases (it is in DNSNames); 20.10 did",
    ),
    Accepted(
        "n3 inspect *",
        "body.NetworkSettings.Networks.dfn-a.Links",
        "design: a HostConfig.Links on a user-defined network becomes the endpoint's Links (a name only that container resolves, as the docker CLI's --link does there); dockerd 20.10 drops one sent in HostConfig alone without a word",
    ),
    *(
        Accepted(
            rows,
            "body*.NetworkSettings.Networks.*.NetworkID",
            "design: a created container's endpoint names its network",
        )
        for rows in ("containers list*", "containers filter name")
    ),
    *(
        Accepted(rows, "body", _IMAGELESS)
        for rows in ("containers list all", "containers filter status created", "current /containers/json?all=1")
    ),
    Accepted("current v1.30 list", "body", _IMAGELESS),
    Accepted("containers prune*", "body.*", _IMAGELESS),
    Accepted(
        "containers *",
        "body*.NetworkSettings.Networks.*.DNSNames",
        "1.44: DNSNames is new in API 1.44's EndpointSettings",
    ),
    Accepted(
        "containers *",
        "body*.NetworkSettings.Networks.*.NetworkID",
        "design: dockyard records the endpoint's network at create; dockerd at start",
    ),
    Accepted(
        "created archive no path",
        "body.message",
        "design: dockyard's wording ('path is required'; dockerd's has a typo: 'bad parameter: pathcannot be empty')",
    ),
    Accepted(
        "created archive put bad dir",
        "body*",
        "framing: dockerd closes the connection after its 404 without reading the upload, so the reader sees a reset; the message is the same",
    ),
    Accepted(
        "*volumes*",
        "body.Warnings",
        "dockyard answers [] where dockerd 20.10 answers null; the 1.44 spec types Warnings as an array",
    ),
    Accepted(
        "volumes list",
        "body.Volumes",
        "1.44: anonymous volumes carry the com.docker.volume.anonymous label (moby v24+)",
    ),
    Accepted(
        "volumes filter dangling",
        "body.Volumes",
        "1.44: anonymous volumes carry the com.docker.volume.anonymous label (moby v24+)",
    ),
    Accepted(
        "current /volumes",
        "body.Volumes",
        "1.44: anonymous volumes carry the com.docker.volume.anonymous label; which volumes exist follows from the 1.44 prune",
    ),
    Accepted(
        "volumes prune",
        "body.VolumesDeleted",
        "1.44: prune removes only anonymous volumes unless all=true; 20.10 removed every unused volume",
    ),
    Accepted(
        "volumes prune",
        "body.SpaceReclaimed",
        "design: sizes agree with `du -sb` (directories' own blocks counted, as system df's); dockerd sums file sizes only",
    ),
    Accepted("life resize bad", "body.message", _UNPARSABLE),
    Accepted("volumes prune all", "*", "1.44: the all filter is new in 1.44 (20.10: Invalid filter 'all')"),
    # -- volumes -----------------------------------------------------------------------------
]
