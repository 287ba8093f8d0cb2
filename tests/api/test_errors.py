"""The one error table: every dockyard.errors class, subclasses, and foreign exceptions."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.api.errors import error_body, status_for


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (errors.NotFound("x"), 404),
        (errors.InvalidArgument("x"), 400),
        (errors.Conflict("x"), 409),
        (errors.NotModified("x"), 304),
        (errors.Unauthorized("x"), 401),
        (errors.Forbidden("x"), 403),
        (errors.Unavailable("x"), 503),
        (errors.NotSupported("x"), 501),
        (errors.RuntimeFailure("x"), 500),
        (errors.DockyardError("x"), 500),
        (ValueError("x"), 500),
        (KeyError("x"), 500),
    ],
)
def test_every_class_has_its_status(exc, status):
    assert status_for(exc) == status


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (errors.NoSuchContainer("web"), "No such container: web"),
        (errors.NoSuchImage("busybox:latest"), "No such image: busybox:latest"),
        (errors.NoSuchExec("abc"), "No such exec instance: abc"),
        (errors.NoSuchNetwork("net"), "network net not found"),
        (errors.NoSuchVolume("vol"), "get vol: no such volume"),
    ],
)
def test_subclasses_map_along_the_mro_with_dockers_wording(exc, message):
    assert status_for(exc) == 404
    assert error_body(exc) == {"message": message}


def test_subclass_of_a_subclass_maps_too():
    class Deeper(errors.NoSuchContainer):
        pass

    assert status_for(Deeper("x")) == 404


def test_unexpected_exception_keeps_its_text():
    assert error_body(RuntimeError("disk on fire")) == {"message": "disk on fire"}


def test_not_modified_has_no_body():
    assert error_body(errors.NotModified("container already started")) is None
