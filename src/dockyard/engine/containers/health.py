"""Health checks (moby daemon/health.go): a container's HEALTHCHECK run as an exec inside it,
its outcome kept in `State.Health` and announced as `health_status: <status>` events.

    starting --probe exits 0--> healthy --Retries failures in a row--> unhealthy
    a failure inside StartPeriod, before the first success, does not count

Probes run every Interval (StartInterval during the start period) and are killed after
Timeout; the last five results are kept. `record` is the pure core; `HealthMonitor` runs
one thread per running container with a health check; `RuntimeProbe` runs the exec.
"""

from __future__ import annotations

import secrets
import shutil
import signal as signals
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dockyard.engine.containers import specgen
from dockyard.engine.containers.model import Container
from dockyard.errors import DockyardError, InvalidArgument
from dockyard.multiplex import FrameDecoder
from dockyard.paths import DataRoot
from dockyard.runtime.runtime import IOConfig, Runtime
from dockyard.timestamps import now_rfc3339

SECOND = 1_000_000_000  # durations in Healthcheck are nanoseconds
DEFAULTS = {"Interval": 30 * SECOND, "Timeout": 30 * SECOND, "StartPeriod": 0, "StartInterval": 5 * SECOND}
DEFAULT_RETRIES = 3
MAX_LOG_ENTRIES = 5
MAX_OUTPUT = 4096
MIN_DURATION = SECOND // 1000  # dockerd refuses a non-zero duration below 1 ms


@dataclass(frozen=True, slots=True)
class Check:
    """A resolved Healthcheck: the command to exec and its timings in seconds."""

    command: list[str]
    interval: float
    timeout: float
    start_period: float
    start_interval: float
    retries: int


@dataclass(frozen=True, slots=True)
class ProbeResult:
    start: str
    end: str
    exit_code: int
    output: str


def validate(healthcheck: dict | None) -> None:
    """dockerd's checks of Config.Healthcheck. Raises InvalidArgument."""
    if not healthcheck:
        return
    for key in ("Interval", "Timeout", "StartPeriod", "StartInterval"):
        value = healthcheck.get(key) or 0
        if value != 0 and value < MIN_DURATION:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
    if (healthcheck.get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")
    test = healthcheck.get("Test") or []
    if test and test[0] not in ("NONE", "CMD", "CMD-SHELL"):
        raise InvalidArgument(f"unknown Healthcheck type {test[0]!r}")


def check_of(config: dict) -> Check | None:
    """The container's health check, None when it has none (no Test, or NONE)."""
    healthcheck = config.get("Healthcheck") or {}
    test = healthcheck.get("Test") or []
    if not test or test[0] == "NONE" or len(test) < 2:
        return None
    command = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
    timing = {key: (healthcheck.get(key) or DEFAULTS[key]) / SECOND for key in DEFAULTS}
    return Check(
        command,
        timing["Interval"],
        timing["Timeout"],
        timing["StartPeriod"],
        timing["StartInterval"],
        healthcheck.get("Retries") or DEFAULT_RETRIES,
    )


def fresh() -> dict:
    """State.Health when a run starts."""
    return {"Status": "starting", "FailingStreak": 0, "Log": []}


def record(health: dict, result: ProbeResult, in_start_period: bool, retries: int) -> None:
    """Add one probe's result to State.Health (in place), moving its Status. Pure."""
    entry = {"Start": result.start, "End": result.end, "ExitCode": result.exit_code, "Output": result.output}
    health["Log"] = [*health.get("Log", []), entry][-MAX_LOG_ENTRIES:]
    if result.exit_code == 0:
        health["Status"], health["FailingStreak"] = "healthy", 0
        return
    if in_start_period and health.get("Status") == "starting":
        return
    health["FailingStreak"] = health.get("FailingStreak", 0) + 1
    if health["FailingStreak"] >= retries:
        health["Status"] = "unhealthy"


Probe = Callable[[Container, Check], ProbeResult]


class HealthMonitor:
    """One probing thread per running container that has a health check."""

    def __init__(
        self,
        probe: Probe,
        changed: Callable[[Container, str | None], None],
        clock: Callable[[], float],
    ) -> None:
        """`changed(container, status)` persists the record and, given a new status, announces it."""
        self._probe, self._changed, self._clock = probe, changed, clock
        self._stops: dict[str, threading.Event] = {}
        self._began: dict[str, float] = {}

    def start(self, container: Container) -> None:
        """At the start of a run: Health is `starting`, probes begin after one interval."""
        self.stop(container)
        check = check_of(container.config)
        if check is None:
            container.state.health = None
            return
        container.state.health = {**fresh(), "Log": (container.state.health or {}).get("Log", [])}
        stop = self._stops[container.id] = threading.Event()
        self._began[container.id] = self._clock()
        threading.Thread(
            target=self._loop, args=(container, check, stop), name=f"health-{container.id[:12]}", daemon=True
        ).start()

    def stop(self, container: Container) -> None:
        """The run ended (or the container goes): no more probes."""
        stop = self._stops.pop(container.id, None)
        if stop is not None:
            stop.set()

    def _loop(self, container: Container, check: Check, stop: threading.Event) -> None:
        while not stop.wait(self._delay(container, check)):
            if container.state.status == "running":
                self.probe_once(container, check, stop)

    def _delay(self, container: Container, check: Check) -> float:
        health = container.state.health or {}
        if health.get("Status") == "starting" and self._in_start_period(container, check):
            return check.start_interval
        return check.interval

    def _in_start_period(self, container: Container, check: Check) -> bool:
        return self._clock() - self._began.get(container.id, self._clock()) < check.start_period

    def probe_once(self, container: Container, check: Check, stop: threading.Event | None = None) -> None:
        """Run the probe once and record its result (under the container's lock)."""
        in_start = self._in_start_period(container, check)
        result = self._probe(container, check)
        with container.lock:
            if (stop is not None and stop.is_set()) or container.state.health is None:
                return
            before = container.state.health["Status"]
            record(container.state.health, result, in_start, check.retries)
            after = container.state.health["Status"]
            self._changed(container, after if after != before else None)


class RuntimeProbe:
    """Runs a health check command as an exec in the container, output capped at 4 KiB."""

    def __init__(self, root: DataRoot, runtime: Runtime, rootfs: Callable[[Container], object]) -> None:
        self.root, self.runtime, self.rootfs = root, runtime, rootfs

    def __call__(self, container: Container, check: Check) -> ProbeResult:
        start = now_rfc3339()
        directory = self.root.exec_dir(container.id, "health-" + secrets.token_hex(8))
        directory.mkdir(parents=True, exist_ok=True)
        try:
            process = specgen.process_for(
                self.rootfs(container),
                container.config,
                check.command,
                container.config.get("Hostname") or "",
                container.config.get("User") or "",
                container.config.get("WorkingDir") or "/",
                False,
                specgen.capabilities(container.host_config),
            )
            _, sock = self.runtime.run_exec(
                directory, self.root.container(container.id), process, IOConfig(), (False, True, True)
            )
            output: list[bytes] = []
            reader = threading.Thread(target=_read_output, args=(sock, output), daemon=True)
            reader.start()
            state = self.runtime.wait(directory, check.timeout)
            if state.status != "stopped":
                self.runtime.kill(directory, signals.SIGKILL)
                self.runtime.wait(directory, 5)
                return ProbeResult(start, now_rfc3339(), -1, f"Health check exceeded timeout ({_go(check.timeout)})")
            reader.join(1)
            text = b"".join(output)[:MAX_OUTPUT].decode(errors="replace")
            return ProbeResult(start, now_rfc3339(), state.exit_code or 0, text)
        except DockyardError as exc:
            return ProbeResult(start, now_rfc3339(), -1, str(exc))
        finally:
            try:
                self.runtime.delete(directory)
            except DockyardError:
                pass
            shutil.rmtree(directory, ignore_errors=True)


def _read_output(sock: socket.socket, out: list[bytes]) -> None:
    """Collect stdout and stderr (multiplexed frames) until EOF."""
    decoder = FrameDecoder()
    with sock:
        while data := sock.recv(65536):
            out.extend(payload for _, payload in decoder.feed(data))


def _go(seconds: float) -> str:
    """A duration as Go prints it: 30s, 1.5s, 500ms, 2m0s."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:g}s"
    return f"{int(seconds // 60)}m{seconds % 60:g}s"
