"""Suite-wide: tests marked `root` need root and a container-capable kernel (skipped otherwise),
and the `dockyard` launcher's CLI servers are the suite's own, stopped at its end."""

import os

import pytest

from dockyard.cli.commandserver import own_servers


@pytest.fixture(scope="session", autouse=True)
def cli_servers():
    """The warm CLI servers the commands of this run start (decision 0085), in a directory of
    the run's own; stopped, by the PIDs they wrote, when the run ends."""
    with own_servers("dockyard-test-cli-") as directory:
        yield directory


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)
