"""What `--format` templates see for each listed object: docker's field names, computed like docker's.

Each row class has HEADERS (field -> column title) and `to_json()` for `{{json .}}`.
"""

from __future__ import annotations

import time

from dockyard.units import ellipsis, go_quote, human_duration, human_size, truncate_id


def go_time(epoch: float) -> str:
    """time.Unix(epoch).String() in local time: '2024-01-02 15:04:05 +0000 UTC'. (The time
    module, not datetime: `ps` would pay ~2 ms to import it.)"""
    return time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(epoch))


def rfc3339(epoch: float) -> str:
    """time.Unix(epoch).Format(time.RFC3339) in local time: '2024-01-02T15:04:05Z' or '...+02:00'."""
    moment = time.localtime(epoch)
    offset = time.strftime("%z", moment)
    zone = "Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + zone


def since(epoch: float, now: float | None = None) -> str:
    return human_duration((now if now is not None else time.time()) - epoch) + " ago"


class Row:
    """Base: properties are template fields; to_json collects them sorted, as docker marshals."""

    HEADERS: dict[str, str] = {}

    def to_json(self) -> dict:
        return {name: str(getattr(self, name)) for name in sorted(self.HEADERS)}


class ContainerRow(Row):
    HEADERS = {
        "ID": "CONTAINER ID",
        "Names": "NAMES",
        "Image": "IMAGE",
        "Command": "COMMAND",
        "CreatedAt": "CREATED AT",
        "RunningFor": "CREATED",
        "Ports": "PORTS",
        "State": "STATE",
        "Status": "STATUS",
        "Size": "SIZE",
        "Labels": "LABELS",
        "Mounts": "MOUNTS",
        "LocalVolumes": "LOCAL VOLUMES",
        "Networks": "NETWORKS",
    }

    def __init__(self, data: dict, trunc: bool = True, now: float | None = None) -> None:
        self.data, self.trunc, self.now = data, trunc, now

    @property
    def ID(self) -> str:
        return truncate_id(self.data["Id"]) if self.trunc else self.data["Id"]

    @property
    def Names(self) -> str:
        names = [name.lstrip("/") for name in self.data.get("Names") or []]
        if self.trunc:
            return next((name for name in names if "/" not in name), "")
        return ",".join(names)

    @property
    def Image(self) -> str:
        image = self.data.get("Image") or ""
        if not image:
            return "<no image>"
        if self.trunc and image.startswith("sha256:"):
            return truncate_id(image)
        return image

    @property
    def Command(self) -> str:
        command = self.data.get("Command") or ""
        return go_quote(ellipsis(command, 20) if self.trunc else command)

    @property
    def CreatedAt(self) -> str:
        return go_time(self.data.get("Created", 0))

    @property
    def RunningFor(self) -> str:
        return since(self.data.get("Created", 0), self.now)

    @property
    def Ports(self) -> str:
        return display_ports(self.data.get("Ports") or [])

    @property
    def State(self) -> str:
        return self.data.get("State", "")

    @property
    def Status(self) -> str:
        return self.data.get("Status", "")

    @property
    def Size(self) -> str:
        rw = human_size(self.data.get("SizeRw") or 0, 3)
        root = self.data.get("SizeRootFs") or 0
        return f"{rw} (virtual {human_size(root, 3)})" if root > 0 else rw

    @property
    def Labels(self) -> str:
        labels = self.data.get("Labels") or {}
        return ",".join(sorted(f"{k}={v}" for k, v in labels.items()))

    def Label(self, name: str) -> str:
        return (self.data.get("Labels") or {}).get(name, "")

    @property
    def Mounts(self) -> str:
        names = [m.get("Name") or m.get("Source", "") for m in self.data.get("Mounts") or []]
        return ",".join(ellipsis(n, 15) if self.trunc else n for n in names)

    @property
    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.data.get("Mounts") or [] if m.get("Driver") == "local"))

    @property
    def Networks(self) -> str:
        return ",".join(sorted((self.data.get("NetworkSettings") or {}).get("Networks") or {}))


class ImageRow(Row):
    HEADERS = {
        "ID": "IMAGE ID",
        "Repository": "REPOSITORY",
        "Tag": "TAG",
        "Digest": "DIGEST",
        "CreatedSince": "CREATED",
        "CreatedAt": "CREATED AT",
        "Size": "SIZE",
        "Containers": "CONTAINERS",
    }

    def __init__(
        self, data: dict, repo: str, tag: str, digest: str, trunc: bool = True, now: float | None = None
    ) -> None:
        self.data, self.Repository, self.Tag, self.Digest = data, repo, tag, digest
        self.trunc, self.now = trunc, now

    @property
    def ID(self) -> str:
        return truncate_id(self.data["Id"]) if self.trunc else self.data["Id"]

    @property
    def CreatedSince(self) -> str:
        created = self.data.get("Created") or 0
        return since(created, self.now) if created > 0 else ""

    @property
    def CreatedAt(self) -> str:
        return go_time(self.data.get("Created") or 0)

    @property
    def Size(self) -> str:
        return human_size(self.data.get("Size") or 0, 3)

    @property
    def Containers(self) -> str:
        count = self.data.get("Containers", -1)
        return "N/A" if count == -1 else str(count)


def _split_repo(ref: str, sep: str) -> tuple[str, str]:
    index = ref.rfind(sep)
    if sep == ":" and index < ref.rfind("/"):
        return ref, ""
    return (ref[:index], ref[index + 1 :]) if index > 0 else (ref, "")


def image_rows(data: dict, digests: bool, trunc: bool = True, now: float | None = None) -> list[ImageRow]:
    """One row per repository:tag (and per digest with --digests), '<none>' for dangling images."""
    tags = [t for t in data.get("RepoTags") or [] if t != "<none>:<none>"]
    repo_digests = [d for d in data.get("RepoDigests") or [] if d != "<none>@<none>"]
    if not tags and not repo_digests:
        return [ImageRow(data, "<none>", "<none>", "<none>", trunc, now)]
    by_repo: dict[str, list[str]] = {}
    for ref in repo_digests:
        repo, digest = _split_repo(ref, "@")
        by_repo.setdefault(repo, []).append(digest)
    rows = []
    for ref in tags:
        repo, tag = _split_repo(ref, ":")
        found = by_repo.get(repo, []) if digests else []
        rows.extend(ImageRow(data, repo, tag, d, trunc, now) for d in found or ["<none>"])
    tagged = {_split_repo(ref, ":")[0] for ref in tags}
    for repo, found in by_repo.items():
        if repo in tagged:
            continue
        if digests:
            rows.extend(ImageRow(data, repo, "<none>", d, trunc, now) for d in found)
        else:
            rows.append(ImageRow(data, repo, "<none>", "", trunc, now))
    return rows


def _join_host(ip: str, port: str) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def display_ports(ports: list[dict]) -> str:
    """The PORTS column: '0.0.0.0:8080->80/tcp, 9988/tcp', consecutive ports grouped into ranges."""
    ordered = sorted(
        ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""), p.get("PublicPort", 0), p.get("Type", ""))
    )
    groups: dict[str, list[int]] = {}
    result: list[str] = []
    mappings: list[str] = []
    for port in ordered:
        private, kind, ip = port.get("PrivatePort", 0), port.get("Type", "tcp"), port.get("IP", "")
        key = kind
        if ip:
            if port.get("PublicPort") != private:
                mappings.append(f"{_join_host(ip, str(port.get('PublicPort', 0)))}->{private}/{kind}")
                continue
            key = f"{ip}/{kind}"
        group = groups.get(key)
        if group is not None and private == group[1] + 1:
            group[1] = private
            continue
        if group is not None:
            result.append(_form_group(key, *group))
        groups[key] = [private, private]
    result.extend(_form_group(key, *group) for key, group in groups.items())
    return ", ".join(result + mappings)


def _form_group(key: str, first: int, last: int) -> str:
    ip, _, kind = key.rpartition("/")
    group = str(first) if first == last else f"{first}-{last}"
    if ip:
        group = f"{_join_host(ip, group)}->{group}"
    return f"{group}/{kind}"
