"""Request body types: the table in api/schema.py held against the Engine API spec (v1.44), and
dockerd's messages for wrong types (taken from the reference dockerd 20.10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.api import schema
from dockyard.errors import InvalidArgument

SPEC = Path("/work/shared/reference/docker-engine-api/v1.44.yaml")
if not SPEC.exists():
    SPEC = Path(__file__).resolve().parents[3] / "shared/reference/docker-engine-api/v1.44.yaml"

# our struct -> the spec's definition (or a request body of a path) it follows
FOLLOWS = {
    "container.HostConfig": ("definitions", "HostConfig"),
    "container.HealthConfig": ("definitions", "HealthConfig"),
    "container.RestartPolicy": ("definitions", "RestartPolicy"),
    "container.DeviceMapping": ("definitions", "DeviceMapping"),
    "container.DeviceRequest": ("definitions", "DeviceRequest"),
    "blkiodev.ThrottleDevice": ("definitions", "ThrottleDevice"),
    "nat.PortBinding": ("definitions", "PortBinding"),
    "mount.Mount": ("definitions", "Mount"),
    "network.NetworkingConfig": ("definitions", "NetworkingConfig"),
    "network.EndpointSettings": ("definitions", "EndpointSettings"),
    "network.EndpointIPAMConfig": ("definitions", "EndpointIPAMConfig"),
    "network.IPAM": ("definitions", "IPAM"),
    "network.IPAMConfig": ("definitions", "IPAMConfig"),
    "volume.VolumeCreateBody": ("definitions", "VolumeCreateOptions"),
    "types.ExecConfig": ("path", "/containers/{id}/exec"),
    "types.NetworkConnect": ("path", "/networks/{id}/connect"),
    "types.NetworkDisconnect": ("path", "/networks/{id}/disconnect"),
    "types.NetworkCreateRequest": ("path", "/networks/create"),
}
KINDS = {"string": str, "boolean": bool, "integer": int, "array": list, "object": dict}


@pytest.fixture(scope="module")
def spec() -> dict:
    yaml = pytest.importorskip("yaml")
    if not SPEC.exists():
        pytest.skip("the Engine API spec is not in this workspace")
    return yaml.safe_load(SPEC.read_text())


def properties(spec: dict, where: str, name: str) -> dict:
    if where == "path":
        body = next(p for p in spec["paths"][name]["post"]["parameters"] if p.get("in") == "body")
        node = body["schema"]
    else:
        node = spec["definitions"][name]
    found: dict = {}
    for part in node.get("allOf", [node]):
        if "$ref" in part:
            found.update(spec["definitions"][part["$ref"].rsplit("/", 1)[1]].get("properties", {}))
        else:
            found.update(part.get("properties", {}))
    return found


def kind_of(expr: str) -> type:
    if expr.startswith("[]") or expr == "strslice":
        return list
    if expr.startswith("map[") or expr in schema.STRUCTS or expr == "struct {}":
        return dict
    if expr == "bool":
        return bool
    if expr in schema._INTS:
        return int
    return str


@pytest.mark.parametrize("struct", sorted(FOLLOWS))
def test_every_spec_field_has_the_spec_type(spec, struct):
    fields = properties(spec, *FOLLOWS[struct])
    table = schema.STRUCTS[struct]
    missing = sorted(set(fields) - set(table))
    assert not missing, f"{struct} lacks {missing}"
    for name, field in fields.items():
        expected = KINDS.get(field.get("type", "object" if "$ref" in field else "any"))
        if expected is not None and table[name] != "any":
            assert kind_of(table[name]) is expected, f"{struct}.{name}: {table[name]} is not {field.get('type')}"


def test_container_config_covers_the_spec(spec):
    fields = set(properties(spec, "definitions", "ContainerConfig"))
    assert fields <= set(schema.STRUCTS["runconfig.ContainerConfigWrapper"])


# (struct, body, dockerd 20.10's message)
DOCKERD = [
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"RestartPolicy": "always"}},
        "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.RestartPolicy of type container.RestartPolicy",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"CapAdd": [1]}},
        "json: cannot unmarshal array into Go struct field HostConfig.HostConfig.CapAdd of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"CapAdd": 1}},
        "json: cannot unmarshal number into Go struct field HostConfig.HostConfig.CapAdd of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"Image": 1},
        "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Image of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"Env": "A=1"},
        "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"Cmd": 1},
        "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"Tty": "true"},
        "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type bool",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"Labels": {"a": 1}},
        "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"ExposedPorts": {"80/tcp": 1}},
        "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.ExposedPorts of type struct {}",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"Healthcheck": {"Test": "x"}},
        "json: cannot unmarshal string into Go struct field HealthConfig.Healthcheck.Test of type []string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"Memory": "1g"}},
        "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"Memory": 1.5}},
        "json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"NanoCpus": True}},
        "json: cannot unmarshal bool into Go struct field HostConfig.HostConfig.NanoCpus of type int64",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"Binds": [1]}},
        "json: cannot unmarshal number into Go struct field HostConfig.HostConfig.Binds of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"Ulimits": [{"Name": "n", "Soft": "x"}]}},
        "json: cannot unmarshal string into Go struct field Ulimit.HostConfig.Ulimits.Soft of type int64",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"LogConfig": {"Config": {"a": 1}}}},
        "json: cannot unmarshal number into Go struct field LogConfig.HostConfig.LogConfig.Config of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 1}]}}},
        "json: cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"Devices": [{"PathOnHost": 1}]}},
        "json: cannot unmarshal number into Go struct field DeviceMapping.HostConfig.Devices.PathOnHost of type string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"HostConfig": {"Mounts": [{"Type": 1}]}},
        "json: cannot unmarshal number into Go struct field Mount.HostConfig.Mounts.Type of type mount.Type",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        {"NetworkingConfig": {"EndpointsConfig": {"x": {"Aliases": "a"}}}},
        "json: cannot unmarshal string into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type []string",
    ),
    (
        "runconfig.ContainerConfigWrapper",
        [1],
        "json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper",
    ),
    (
        "types.NetworkCreateRequest",
        {"Name": "x", "Internal": "yes"},
        "json: cannot unmarshal string into Go struct field NetworkCreateRequest.Internal of type bool",
    ),
    (
        "types.NetworkCreateRequest",
        {"Name": "x", "IPAM": {"Config": [{"Subnet": 1}]}},
        "json: cannot unmarshal number into Go struct field IPAMConfig.IPAM.Config.Subnet of type string",
    ),
    (
        "types.NetworkConnect",
        {"Container": 1},
        "json: cannot unmarshal number into Go struct field NetworkConnect.Container of type string",
    ),
    (
        "volume.VolumeCreateBody",
        {"Name": 1},
        "json: cannot unmarshal number into Go struct field VolumeCreateBody.Name of type string",
    ),
    (
        "types.ExecConfig",
        {"Cmd": "ls"},
        "json: cannot unmarshal string into Go struct field ExecConfig.Cmd of type []string",
    ),
]


@pytest.mark.parametrize(("struct", "body", "message"), DOCKERD, ids=[json.dumps(row[1])[:60] for row in DOCKERD])
def test_wrong_types_get_dockerds_message(struct, body, message):
    with pytest.raises(InvalidArgument) as raised:
        schema.check(body, struct)
    assert str(raised.value) == message


def test_well_typed_bodies_and_nulls_and_unknown_fields_pass():
    schema.check(
        {
            "Image": "busybox",
            "Cmd": "sh -c true",
            "Entrypoint": ["sh"],
            "Env": ["A=1"],
            "Labels": {"a": "b"},
            "ExposedPorts": {"80/tcp": {}},
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1000000000},
            "StopTimeout": None,
            "Unknown": [1, 2],
            "HostConfig": {
                "Memory": 1 << 30,
                "BlkioWeight": 500,
                "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
                "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
                "Mounts": [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1024, "Mode": 0o755}}],
                "CapAdd": ["NET_ADMIN"],
            },
            "NetworkingConfig": {"EndpointsConfig": {"net": {"Aliases": ["a"], "IPAMConfig": None}}},
        },
        "runconfig.ContainerConfigWrapper",
    )


def test_integers_out_of_range_name_the_number():
    with pytest.raises(
        InvalidArgument, match=r"number 70000 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16"
    ):
        schema.check({"HostConfig": {"BlkioWeight": 70000}}, "runconfig.ContainerConfigWrapper")
    with pytest.raises(
        InvalidArgument, match=r"number 1e\+30 into Go struct field HostConfig.HostConfig.Memory of type int64"
    ):
        schema.check({"HostConfig": {"Memory": 1e30}}, "runconfig.ContainerConfigWrapper")
