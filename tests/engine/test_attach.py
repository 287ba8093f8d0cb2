"""Attach streams that wait for their container to start."""

import socket
import threading

from dockyard.engine.containers.attach import PendingStream


def test_pending_attach_remembers_a_stdin_close_without_blocking():
    pending = PendingStream(tty=False)
    closer = threading.Thread(target=pending.close_stdin)
    closer.start()
    closer.join(timeout=2)
    assert not closer.is_alive()  # did not wait for the container to start
    ours, shim = socket.socketpair()
    pending.connect(ours)
    assert shim.recv(10) == b""  # stdin was shut once the socket arrived
    shim.sendall(b"output")
    assert pending.recv(10) == b"output"
    pending.close()
    shim.close()
