import pytest

from tests.e2e.daemon import Daemon


@pytest.fixture(scope="module")
def daemon():
    """One daemon per test module, with busybox imported."""
    instance = Daemon().start()
    try:
        instance.import_busybox()
        yield instance
    finally:
        instance.cleanup()
