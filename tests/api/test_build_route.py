"""POST /build decoding: what docker's CLI and SDK send reaches the engine; the rest is refused by name."""

from __future__ import annotations

import base64
import io
import json

import pytest

from dockyard.api.messages import Request
from dockyard.api.routers.builds import post_build
from dockyard.errors import InvalidArgument, NotSupported


class Recorder:
    """A BuildBackend that keeps what it was asked."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def build(self, body, **options):
        self.calls.append(options)
        return iter([{"stream": "Successfully built 0123456789ab\n"}])

    def prune(self) -> dict:
        return {"CachesDeleted": None, "SpaceReclaimed": 0}


def request(query: dict[str, list[str]], headers: dict[str, str] | None = None) -> Request:
    return Request("POST", "/build", "1.41", query=query, headers=headers or {}, body=io.BytesIO(b""))


def test_the_docker_cli_classic_query_is_decoded():
    backend = Recorder()
    auth = base64.urlsafe_b64encode(json.dumps({"localhost:5000": {"username": "u", "password": "p"}}).encode())
    query = {
        "t": ["app:1", "app:2"],
        "dockerfile": ["build/Dockerfile"],
        "buildargs": ['{"A":"1","B":null}'],
        "labels": ['{"team":"x"}'],
        "nocache": ["1"],
        "q": ["1"],
        "rm": ["0"],
        "forcerm": ["1"],
        "target": ["final"],
        "networkmode": ["default"],
        "memory": ["0"],
        "cpushares": ["0"],
        "cachefrom": ["[]"],
        "shmsize": ["67108864"],
        "extrahosts": ["db:10.0.0.2"],
        "version": ["1"],
    }
    response = post_build(backend, request(query, {"x-registry-config": auth.decode()}))
    assert b"Successfully built" in b"".join(response.chunks)
    options = backend.calls[0]
    assert options["tags"] == ["app:1", "app:2"] and options["dockerfile"] == "build/Dockerfile"
    assert options["build_args"] == {"A": "1", "B": None} and options["labels"] == {"team": "x"}
    assert options["no_cache"] and options["quiet"] and not options["remove"] and options["force_remove"]
    assert options["target"] == "final" and options["network_mode"] == "bridge"
    assert options["shm_size"] == 67108864 and options["extra_hosts"] == ["db:10.0.0.2"]
    assert options["auths"] == {"localhost:5000": {"username": "u", "password": "p"}}


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"memory": ["1048576"]}, "memory"),
        ({"cpuquota": ["1000"]}, "cpuquota"),
        ({"cpusetcpus": ["0"]}, "cpusetcpus"),
        ({"cachefrom": ['["app:old"]']}, "cachefrom"),
        ({"squash": ["1"]}, "squash"),
        ({"remote": ["https://example.com/ctx.tar"]}, "remote"),
        ({"version": ["2"]}, "BuildKit"),
    ],
)
def test_options_the_builder_cannot_honour_are_refused_by_name(query, named):
    backend = Recorder()
    with pytest.raises(NotSupported, match=named):
        post_build(backend, request(query))
    assert backend.calls == []


def test_bad_json_options_are_400():
    with pytest.raises(InvalidArgument, match="buildargs"):
        post_build(Recorder(), request({"buildargs": ["{not json"]}))
