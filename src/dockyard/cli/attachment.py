"""What run, start -a and attach share: hijack the attach stream, wait, resize, proxy signals."""

from __future__ import annotations

import json
import signal
import sys

from dockyard import detachkeys
from dockyard.cli import signalwatch
from dockyard.cli.client import path_id
from dockyard.cli.flags import UsageError
from dockyard.cli.hijack import Session
from dockyard.cli.terminal import RawMode, is_tty, on_resize
from dockyard.errors import DockyardError

PROXIED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


def require_tty_input(tty: bool, interactive: bool) -> None:
    """Docker refuses -it when stdin is not a terminal."""
    if tty and interactive and not is_tty(sys.stdin):
        raise UsageError("the input device is not a TTY", exit_code=1)


def configured_detach_keys() -> str | None:
    """The `detachKeys` of ~/.docker/config.json (or $DOCKER_CONFIG's), which --detach-keys
    overrides. Only asked for when stdin is attached (the keys are read from it), so the
    config reader's imports (~12 ms) are not paid by a command that sends no input."""
    from dockyard.distribution.credentials import DockerConfigFile

    value = DockerConfigFile().load().get("detachKeys")
    return value if isinstance(value, str) and value else None


def open_attach(
    client,
    container_id: str,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    detach_keys: str | None = None,
    logs: bool = False,
):
    """Hijack POST /containers/{id}/attach; returns (socket, reader)."""
    query = {
        "stream": True,
        "stdin": stdin,
        "stdout": stdout,
        "stderr": stderr,
        "logs": logs or None,
        "detachKeys": detach_keys or (configured_detach_keys() if stdin else None),
    }
    sock, reader, _ = client.open("POST", f"/containers/{path_id(container_id)}/attach", query, upgrade=True)
    return sock, reader


def open_wait(client, container_id: str, condition: str):
    """POST /containers/{id}/wait, read up to the headers so the wait is registered; body later."""
    sock, reader, response = client.open("POST", f"/containers/{path_id(container_id)}/wait", {"condition": condition})
    return sock, response


def wait_status(wait) -> int:
    """The exit code from a pending wait response (125 when the daemon reports an error)."""
    sock, response = wait
    try:
        result = json.loads(response.read() or b"{}")
    finally:
        sock.close()
    error = (result.get("Error") or {}).get("Message")
    if error:
        sys.stderr.write(f"Error response from daemon: {error}\n")
        return 125
    return int(result.get("StatusCode", 0))


def _signal_safe_post(client, path: str, query: dict) -> None:
    """POST on a connection of its own: the signal watcher's thread calls this while the main
    thread may be using the shared one.

    Failures are ignored, as the docker CLI does: a resize or a forwarded signal racing the
    container's exit is harmless."""
    try:
        sock, _, response = client.open("POST", path, query)
        response.read()
        sock.close()
    except (DockyardError, OSError):
        pass


def resize_with_terminal(client, container_id: str, path: str = "containers") -> None:
    """Send the terminal size now and on every SIGWINCH (POST /{containers|exec}/{id}/resize)."""

    def resize(rows: int, columns: int) -> None:
        _signal_safe_post(client, f"/{path}/{path_id(container_id)}/resize", {"h": rows, "w": columns})

    on_resize(resize)


def proxy_signals(client, container_id: str) -> None:
    """Forward catchable signals to the container (docker's --sig-proxy), from the signal
    watcher's thread: a signal that arrives as the main thread blocks in a read still goes."""

    def forward(signum: int) -> None:
        name = signal.Signals(signum).name
        _signal_safe_post(client, f"/containers/{path_id(container_id)}/kill", {"signal": name})

    signalwatch.watch([getattr(signal, name) for name in PROXIED_SIGNALS], forward)


def stream(sock, reader, tty: bool, stdin: bool, detach_keys: str | None = None) -> str:
    """Run the hijacked session, the terminal raw while a TTY is attached; 'eof' or 'detached'."""
    raw = tty and stdin and is_tty(sys.stdin)
    keys = detachkeys.parse(detach_keys or (configured_detach_keys() if stdin else None))
    sys.stdout.flush()
    with RawMode(sys.stdin.fileno(), enabled=raw):
        return Session(sock, reader, tty, stdin, keys).run()
