"""`docker wait`: block until a container is not running, exits next, or is removed.

The container service reports every change (`changed`), every exit (`exited`) and every
removal with its last exit code (`removed`); a waiter sleeps on one condition variable and
rechecks its predicate, giving up once `cancelled()` says its client has gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dockyard.engine.containers.model import Container
from dockyard.engine.containers.table import ContainerTable
from dockyard.errors import InvalidArgument

CONDITIONS = ("not-running", "next-exit", "removed", "")


class ExitWaits:
    def __init__(self, table: ContainerTable) -> None:
        self._table = table
        self._changed = threading.Condition()
        self._exits: dict[str, int] = {}  # container id -> exits seen, for next-exit waits
        self._final: dict[str, int] = {}  # exit codes of removed containers, for removed waits

    def changed(self, container_id: str, exited: bool) -> None:
        """Wake the waiters; `exited` counts one more exit of the container."""
        with self._changed:
            if exited:
                self._exits[container_id] = self._exits.get(container_id, 0) + 1
            self._changed.notify_all()

    def removed(self, container_id: str, exit_code: int) -> None:
        """Keep the exit code of a container about to leave the table (then call changed())."""
        self._final[container_id] = exit_code

    def wait(self, container: Container, condition: str, cancelled: Callable[[], bool] | None = None) -> dict:
        """Docker's wait response once the condition holds. Raises InvalidArgument."""
        return self.begin(container, condition)(cancelled)

    def begin(self, container: Container, condition: str) -> Callable[[Callable[[], bool] | None], dict]:
        """Start a wait now: the exit a next-exit wait takes is one after this call. Returns the
        call that blocks until the condition holds (give it `cancelled`). Raises InvalidArgument."""
        if condition not in CONDITIONS:
            raise InvalidArgument(f"invalid condition: {condition}")
        exits = self._exits.get(container.id, 0)
        gone = lambda: container.id not in self._table  # noqa: E731

        def finish(cancelled: Callable[[], bool] | None = None) -> dict:
            if condition == "removed":
                self._wait_until(gone, cancelled)
                code = self._final.get(container.id, container.state.exit_code)
            elif condition == "next-exit":
                self._wait_until(lambda: self._exits.get(container.id, 0) > exits or gone(), cancelled)
                code = container.state.exit_code
            else:
                self._wait_until(lambda: not container.state.running or gone(), cancelled)
                code = container.state.exit_code
            return {"StatusCode": code, "Error": None}

        return finish

    def _wait_until(self, predicate: Callable[[], bool], cancelled: Callable[[], bool] | None) -> None:
        """Wait for `predicate`, checking `cancelled` every second so an abandoned wait ends."""
        with self._changed:
            while not self._changed.wait_for(predicate, timeout=1.0):
                if cancelled is not None and cancelled():
                    return
