"""The one libc handle and its errno check."""

import errno
import os

import pytest

from dockyard.libc import LIBC, check, errno_message


def test_check_returns_the_result_and_raises_errno_on_minus_one():
    assert check(LIBC.getpid()) == os.getpid()
    with pytest.raises(OSError) as raised:
        check(LIBC.close(-1))
    assert raised.value.errno == errno.EBADF
    assert errno_message() == os.strerror(errno.EBADF)
