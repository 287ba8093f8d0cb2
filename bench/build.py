"""Time `docker build` (classic builder protocol): dockyard against the reference dockerd.

    python bench/build.py [--rounds 5] [--files 3000]

One context, made under /var/tmp: a multi-stage Dockerfile and `--files` small source
files in nested directories. Both daemons are the ones bench/run.py starts (no bridge, no
iptables, temporary roots, everything stopped and deleted on the way out), with the same
busybox rootfs imported, and both are driven by the same docker CLI with
DOCKER_BUILDKIT=0. Each round, interleaved so load on the shared machine hits both alike:

    cold      docker build --no-cache -t bench .     every step runs
    cached    docker build -t bench .                every step is a cache hit
    changed   one source file edited, then build     the COPY of the sources and what follows run

Each build is timed three ways: through the docker CLI (which walks and tars the context
itself, ~0.29 s for 3000 files here whatever the daemon), through the API alone (the
bench POSTs a context tar it made beforehand, so the figure is the daemon's own work), and,
for dockyard, through the `dockyard` CLI on PATH (`dockyard build`).
Prints the median of each case per daemon and dockyard's time as a fraction of dockerd's,
beside the BuildKit figures the issue measured on this machine.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from run import Dockerd  # noqa: E402
from tests.e2e.daemon import BUSYBOX_ROOTFS, DOCKER, DOCKYARD, Daemon  # noqa: E402

DOCKERFILE = """\
FROM busybox AS deps
RUN mkdir -p /deps && echo one > /deps/one && echo two > /deps/two
FROM busybox AS build
WORKDIR /src
COPY src/ /src/
RUN find /src -type f | wc -l > /count
FROM busybox
COPY --from=deps /deps /deps
COPY --from=build /count /count
COPY --from=build /src /app
CMD ["cat", "/count"]
"""
BUILDKIT = {"cold": 2.7, "cached": 0.23, "changed": 2.05}  # seconds, from the issue
CASES = ("cold", "cached", "changed")


def make_context(root: Path, files: int) -> Path:
    """The Dockerfile and `files` source files, 100 to a directory."""
    (root / "Dockerfile").write_text(DOCKERFILE)
    for index in range(files):
        directory = root / "src" / f"pkg{index // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"module{index % 100:02d}.py").write_text(f"VALUE = {index}\n" + "# padding\n" * 20)
    return root


def context_tar(context: Path) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.add(str(context), arcname=".")
    return out.getvalue()


def api_build(env: dict[str, str], body: bytes, no_cache: bool) -> float:
    """POST /build with a ready tar over the daemon's socket; seconds until the stream ends."""
    connection = UnixConnection(env["DOCKER_HOST"].removeprefix("unix://"))
    began = time.perf_counter()
    query = "t=bench" + ("&nocache=1" if no_cache else "")
    connection.request("POST", f"/v1.41/build?{query}", body, {"Content-Type": "application/x-tar"})
    response = connection.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - began
    connection.close()
    if response.status != 200 or b'"error"' in answer or b"Successfully tagged" not in answer:
        raise RuntimeError(f"POST /build: {response.status} {answer[-2000:]!r}")
    return elapsed


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=600)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def build(env: dict[str, str], context: Path, *flags: str, cli: tuple[str, ...] = (DOCKER,)) -> float:
    began = time.perf_counter()
    result = subprocess.run(
        [*cli, "build", *flags, "-t", "bench", str(context)],
        env={**env, "DOCKER_BUILDKIT": "0"},
        capture_output=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - began
    if result.returncode:
        raise RuntimeError(f"docker build exited {result.returncode}: {result.stdout[-2000:]} {result.stderr[-2000:]}")
    return elapsed


def bench(rounds: int, context: Path, targets: dict[str, dict[str, str]]) -> dict[tuple[str, str], list[float]]:
    """Samples keyed (client/target, case): client `cli` (docker CLI) or `api` (ready tar)."""
    samples: dict[tuple[str, str], list[float]] = {}
    changed = context / "src" / "pkg000" / "module00.py"
    for env in targets.values():  # warm-up: first build of each, untimed
        build(env, context)
    for round_ in range(3 * rounds):
        client = ("cli", "api", "dockyard-cli")[round_ % 3]
        for case, fresh in (("cold", True), ("cached", False), ("changed", False)):
            if case == "changed":
                changed.write_text(f"VALUE = 'round {round_}'\n")
            body = context_tar(context) if client == "api" else b""
            for name, env in targets.items():
                flags = ["--no-cache"] if fresh else []
                if client == "cli":
                    elapsed = build(env, context, *flags)
                elif client == "api":
                    elapsed = api_build(env, body, fresh)
                elif name == "dockyard":
                    elapsed = build(env, context, *flags, cli=(DOCKYARD, "-H", env["DOCKER_HOST"]))
                else:
                    continue
                samples.setdefault((f"{client}/{name}", case), []).append(elapsed)
    return samples


def report(samples: dict[tuple[str, str], list[float]], targets: list[str]) -> None:
    clients = (
        ("cli", "docker CLI (DOCKER_BUILDKIT=0)"),
        ("api", "API only (ready context tar)"),
        ("dockyard-cli", "dockyard CLI (dockyard build)"),
    )
    for client, label in clients:
        shown = [t for t in targets if (f"{client}/{t}", CASES[0]) in samples]
        print(label)
        print(f"  {'case':10}" + "".join(f"{t:>12}" for t in shown) + f"{'ratio':>9}{'BuildKit':>10}")
        for case in CASES:
            medians = {t: statistics.median(samples[(f"{client}/{t}", case)]) for t in shown}
            ratio = f"{medians['dockyard'] / medians['dockerd']:8.2f}x" if "dockerd" in medians else f"{'n/a':>9}"
            row = "".join(f"{medians[t]:11.2f}s" for t in shown)
            print(f"  {case:10}{row}{ratio}{BUILDKIT[case]:9.2f}s")


def main() -> None:
    os.environ["PATH"] += ":/usr/sbin:/sbin"  # dockerd lives in sbin
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--no-dockerd", action="store_true", help="time dockyard only")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dockyard-bench-build-", dir="/var/tmp"))
    dockyard = Daemon(config={"bridge": "none"})
    dockerd = Dockerd() if not args.no_dockerd and shutil.which("dockerd") else None
    try:
        context = make_context(workdir, args.files)
        dockyard.start()
        dockyard.import_busybox()
        targets = {"dockyard": {**os.environ, "DOCKER_HOST": dockyard.host, "DOCKER_CONFIG": str(workdir / "client")}}
        if dockerd is not None:
            dockerd.start()
            rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], check=True, capture_output=True).stdout
            dockerd.docker("import", "-", "busybox:latest", input=rootfs)
            targets["dockerd"] = dockerd.env
        else:
            print("dockerd not found (apt-get install docker.io): timing dockyard only")
        report(bench(args.rounds, context, targets), list(targets))
    finally:
        dockyard.cleanup()
        if dockerd is not None:
            dockerd.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
