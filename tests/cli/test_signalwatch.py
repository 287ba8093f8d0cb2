"""signalwatch: callbacks run on the watcher thread, whatever the main thread is blocked in.

Each case runs in an interpreter of its own: the wakeup fd and the handlers are process-wide."""

from __future__ import annotations

import subprocess
import sys

BLOCKED_MAIN = """
import os, signal, threading
from dockyard.cli import signalwatch

called = threading.Event()
signalwatch.watch([signal.SIGUSR1], lambda signum: called.set())
# the kernel delivers it to another thread, so it never interrupts the main thread's read: as a
# signal that came just before that read began
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
r, w = os.pipe()
threading.Thread(target=lambda: os.write(w, b"called" if called.wait(10) else b"missed"), daemon=True).start()
os.kill(os.getpid(), signal.SIGUSR1)
print(os.read(r, 16).decode())  # blocked here until the callback has run, or 10 s
"""

TWO_WATCHES = """
import os, signal, threading, time
from dockyard.cli import signalwatch

seen, done = [], threading.Event()
signalwatch.watch([signal.SIGWINCH], lambda signum: seen.append(("resize", signum)))
signalwatch.watch([signal.SIGINT, signal.SIGTERM], lambda signum: (seen.append(("proxy", signum)), done.set()))
for signum in (signal.SIGWINCH, signal.SIGTERM):
    os.kill(os.getpid(), signum)
    time.sleep(0.2)
done.wait(10)
print(seen)
"""


A_CALLBACK_FAILS = """
import os, signal, threading, time
from dockyard.cli import signalwatch

done = threading.Event()

def fails(signum):
    raise RuntimeError("the callback failed")

signalwatch.watch([signal.SIGUSR1], fails)
signalwatch.watch([signal.SIGUSR2], lambda signum: done.set())
os.kill(os.getpid(), signal.SIGUSR1)
time.sleep(0.2)
os.kill(os.getpid(), signal.SIGUSR2)
print("called" if done.wait(10) else "missed")
"""

NOT_THE_MAIN_THREAD = """
import os, signal, threading
from dockyard.cli import signalwatch

outcome = []

def watch():
    try:
        signalwatch.watch([signal.SIGUSR1], print)
    except ValueError as exc:
        outcome.append(str(exc))

before = len(os.listdir("/proc/self/fd"))
thread = threading.Thread(target=watch)
thread.start()
thread.join()
print(outcome, len(os.listdir("/proc/self/fd")) - before)
"""


def run(code: str, stderr: str = "") -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert stderr in done.stderr
    return done.stdout.strip()


def test_a_signal_reaches_its_callback_while_the_main_thread_is_blocked():
    assert run(BLOCKED_MAIN) == "called"


def test_each_signal_goes_to_its_own_callback_and_the_process_lives_on():
    assert run(TWO_WATCHES) == "[('resize', 28), ('proxy', 15)]"


def test_a_failing_callback_is_reported_and_later_signals_still_arrive():
    assert run(A_CALLBACK_FAILS, stderr="RuntimeError: the callback failed") == "called"


def test_watching_from_another_thread_is_refused_and_leaves_nothing_open():
    assert run(NOT_THE_MAIN_THREAD) == "['signals are watched from the main thread'] 0"
