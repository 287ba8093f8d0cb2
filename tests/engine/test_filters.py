"""Filter checks: unknown keys and values are moby's 400s; known-but-unimplemented keys are refused by name."""

import pytest

from dockyard.engine.containers.rules import PS_FILTERS, PS_SUPPORTED, check_filters
from dockyard.errors import InvalidArgument


@pytest.mark.parametrize(
    "filters,message",
    [
        ({"bogus": ["x"]}, "Invalid filter 'bogus'"),
        ({"status": ["bogus"]}, "Invalid filter 'status=bogus'"),
        ({"dangling": ["maybe"]}, r"Invalid filter 'dangling=\[maybe\]'"),
        ({"network": ["n"]}, "the 'network' filter is not supported by dockyard yet"),
    ],
)
def test_refused_filters(filters, message):
    with pytest.raises(InvalidArgument, match=message):
        check_filters(filters, (*PS_FILTERS, "dangling"), (*PS_SUPPORTED, "dangling"))


def test_supported_filters_pass():
    check_filters({"status": ["exited"], "label": ["a=b"], "name": ["x"]}, PS_FILTERS, PS_SUPPORTED)
