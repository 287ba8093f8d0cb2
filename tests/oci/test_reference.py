"""Reference parsing, table-driven against docker's own normalisation."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.reference import parse_reference

HEX = "a" * 64

# input | full string | familiar string | domain | path | tag
VALID = [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "docker.io", "library/busybox", "1.36"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox", "latest"),
    (
        "docker.io/busybox",
        "docker.io/library/busybox:latest",
        "busybox:latest",
        "docker.io",
        "library/busybox",
        "latest",
    ),
    (
        "index.docker.io/busybox",
        "docker.io/library/busybox:latest",
        "busybox:latest",
        "docker.io",
        "library/busybox",
        "latest",
    ),
    ("user/app:v1", "docker.io/user/app:v1", "user/app:v1", "docker.io", "user/app", "v1"),
    ("library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest", "docker.io", "library/a/b", "latest"),
    ("localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000", "a/b", "t"),
    ("localhost/x", "localhost/x:latest", "localhost/x:latest", "localhost", "x", "latest"),
    ("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "docker.io", "library/localhost", "5000"),
    (
        "quay.io/coreos/etcd",
        "quay.io/coreos/etcd:latest",
        "quay.io/coreos/etcd:latest",
        "quay.io",
        "coreos/etcd",
        "latest",
    ),
    (
        "127.0.0.1:5000/x_y.z-w__v",
        "127.0.0.1:5000/x_y.z-w__v:latest",
        "127.0.0.1:5000/x_y.z-w__v:latest",
        "127.0.0.1:5000",
        "x_y.z-w__v",
        "latest",
    ),
    ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest", "[::1]:5000", "x", "latest"),
    ("Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo", "bar", "latest"),
    (
        "busybox:UPPER_tag",
        "docker.io/library/busybox:UPPER_tag",
        "busybox:UPPER_tag",
        "docker.io",
        "library/busybox",
        "UPPER_tag",
    ),
]


@pytest.mark.parametrize("text,full,familiar,domain,path,tag", VALID)
def test_valid_references_normalise_as_docker(text, full, familiar, domain, path, tag):
    ref = parse_reference(text)
    assert (str(ref), ref.familiar(), ref.domain, ref.path, ref.tag) == (full, familiar, domain, path, tag)


def test_digest_reference_has_no_default_tag():
    ref = parse_reference(f"x@sha256:{HEX}")
    assert str(ref) == f"docker.io/library/x@sha256:{HEX}"
    assert ref.tag == "" and ref.digest == f"sha256:{HEX}"
    assert ref.object == f"sha256:{HEX}"
    assert ref.familiar() == f"x@sha256:{HEX}"


def test_tag_and_digest_are_both_kept():
    ref = parse_reference(f"localhost:5000/x:1@sha256:{HEX}")
    assert (ref.tag, ref.digest, ref.object) == ("1", f"sha256:{HEX}", f"sha256:{HEX}")


def test_no_default_tag_when_asked():
    assert parse_reference("busybox", default_tag=False).tag == ""


INVALID = [
    ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
    ("docker.io/Foo", "invalid reference format: repository name (library/Foo) must be lowercase"),
    ("busybox:", "invalid reference format"),
    ("", "invalid reference format"),
    ("busy box", "invalid reference format"),
    ("a//b", "invalid reference format"),
    ("-a", "invalid reference format"),
    ("a:" + "t" * 129, "invalid reference format"),
    ("x@sha256:abc", "invalid reference format"),
    ("x@sha256:" + "A" * 64, "invalid reference format"),
    (HEX, f"invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"),
    ("a/" + "b" * 260, "invalid reference format: repository name must not be more than 255 characters"),
]


@pytest.mark.parametrize("text,message", INVALID)
def test_invalid_references_say_what_docker_says(text, message):
    with pytest.raises(InvalidArgument) as info:
        parse_reference(text)
    assert str(info.value) == message


def test_with_tag_and_with_digest():
    ref = parse_reference("busybox")
    assert str(ref.with_tag("1")) == "docker.io/library/busybox:1"
    assert str(ref.with_digest(f"sha256:{HEX}")) == f"docker.io/library/busybox@sha256:{HEX}"
    with pytest.raises(InvalidArgument):
        ref.with_tag("bad tag")


def test_tag_and_path_grammar_shared_with_the_registry():
    from dockyard.oci.reference import is_path, is_tag

    assert is_tag("v1.0_rc-2") and is_tag("_x") and not is_tag("-v") and not is_tag("a" * 129)
    assert not is_tag("vé")  # Go's \w is ASCII: a non-ASCII tag is refused
    assert is_path("library/busybox") and is_path("a.b/c_d/e__f/g-h---i")
    assert not is_path("Library/busybox") and not is_path("a//b") and not is_path("x" * 256)
    with pytest.raises(InvalidArgument):
        parse_reference("busybox:vé")
