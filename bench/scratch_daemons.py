"""Bench: start and stop many scratch daemons on one host; the host must end as it began.

    sudo python bench/scratch_daemons.py                 # 1,000 daemons, every 50th runs a container
    sudo python bench/scratch_daemons.py --count 100

Each daemon gets a data root of its own and runs in one network namespace made here (the
"host"), as test suites and scratch roots do on a machine. After every daemon the host's
addresses, links and iptables rules are compared with those after the first; the script
stops at the first difference. Prints the time per daemon and the outcome.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.test_host_state import host_state, one_daemon  # noqa: E402
from tests.network.harness import Namespaces  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--container-every", type=int, default=50)
    args = parser.parse_args()
    spaces = Namespaces(secrets.token_hex(3))
    try:
        host = spaces.add("bench")
        started = time.monotonic()
        one_daemon(host, run_a_container=True)
        first = host_state(host)
        for n in range(1, args.count):
            one_daemon(host, run_a_container=n % args.container_every == 0)
            if host_state(host) != first:
                print(f"host changed after daemon {n + 1}:\n{host_state(host)}\nfirst:\n{first}")
                return 1
            if (n + 1) % 50 == 0:
                print(f"{n + 1} daemons, {(time.monotonic() - started) / (n + 1):.2f} s each", flush=True)
        print(f"{args.count} daemons: host unchanged; {(time.monotonic() - started) / args.count:.2f} s each")
        return 0
    finally:
        spaces.delete_all()


if __name__ == "__main__":
    sys.exit(main())
