"""An external OCI runtime (runc, crun) driven by the shim, as containerd's shim drives runc.

The shim stays what it is for every task (it holds stdio and the log, reaps the process,
writes exit.json, serves shim.sock); only the container's creation changes hands. The shim
writes the task's spec as `config.json` in the state dir (the bundle; the rootfs is already
mounted), becomes a child subreaper and runs `<runtime> create`, whose container init then
waits, reparented to the shim, until `<runtime> start`; after the exit, `<runtime> delete`
drops the runtime's own state (kept under the state dir, `--root`). Execs into such a
container are dockyard's own (they join the init's namespaces and cgroups), as are stats,
pause and update (they work on the cgroups the spec names).
"""

from __future__ import annotations

import json
import os
import subprocess

from dockyard import atomic
from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups import hierarchy

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

    from dockyard.runtime.init import ChildFds

PR_SET_CHILD_SUBREAPER = 36
BUNDLE_SPEC, PIDFILE, LOGFILE, STATE = "config.json", "init.pid", "runtime.log", "runtime-state"


def bundle_spec(spec: dict[str, Any], task_id: str) -> dict[str, Any]:
    """The spec as the external runtime gets it: the same, with the cgroups path absolute
    (a relative one would be under the runtime's own cgroup)."""
    linux = dict(spec.get("linux") or {})
    linux["cgroupsPath"] = "/" + (linux.get("cgroupsPath") or f"dockyard/{task_id}").strip("/")
    return {**spec, "linux": linux}


def base_command(command: list[str], state_dir: str) -> list[str]:
    """The runtime with its global options: state and log under the task's state dir."""
    return [*command, "--root", os.path.join(state_dir, STATE), "--log", os.path.join(state_dir, LOGFILE)]


def last_error(log_path: str) -> str:
    """The runtime's last error from its log (JSON lines with level and msg, or plain text)."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return ""
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            return line
        if isinstance(entry, dict) and entry.get("level") in ("error", "fatal"):
            return str(entry.get("msg") or "")
    return lines[-1] if lines else ""


def spawn(task: dict[str, Any], fds: ChildFds) -> tuple[int, list[str]]:
    """`<runtime> create` the task in the current directory (its state dir). Returns the
    container init's host pid and cgroup paths. Raises RuntimeError with the runtime's error."""
    state_dir = os.getcwd()
    task_id = os.path.basename(state_dir)
    atomic.write_json(BUNDLE_SPEC, bundle_spec(task["spec"], task_id))
    os.chmod(BUNDLE_SPEC, 0o600)  # it holds the container's environment
    sc.prctl(PR_SET_CHILD_SUBREAPER, 1)  # the init comes to us once `create` exits
    stdio = fds.stdio or (None, None, None)
    created = subprocess.run(
        [
            *base_command(task["oci_runtime"], state_dir),
            "create",
            "--bundle",
            state_dir,
            "--pid-file",
            PIDFILE,
            task_id,
        ],
        stdin=stdio[0],
        stdout=stdio[1],
        stderr=stdio[2],
        check=False,
    )
    for fd in (fds.start_fd, fds.status_fd, fds.console_fd, *(fds.stdio or ())):
        if fd is not None:
            os.close(fd)
    if created.returncode != 0:
        raise RuntimeError(last_error(LOGFILE) or f"{task['oci_runtime'][0]} create exited {created.returncode}")
    with open(PIDFILE) as f:
        pid = int(f.read().strip())
    return pid, hierarchy.paths_of(pid, hierarchy.discover())


def start(task: dict[str, Any]) -> str | None:
    """`<runtime> start`: the init execs the container's process. Returns the error, if any."""
    done = subprocess.run(
        [*base_command(task["oci_runtime"], os.getcwd()), "start", os.path.basename(os.getcwd())],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if done.returncode == 0:
        return None
    return last_error(LOGFILE) or done.stderr.decode(errors="replace").strip() or "start failed"


def delete(task: dict[str, Any]) -> None:
    """`<runtime> delete --force`: its state (and cgroups) go once the process has exited."""
    subprocess.run(
        [*base_command(task["oci_runtime"], os.getcwd()), "delete", "--force", os.path.basename(os.getcwd())],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
