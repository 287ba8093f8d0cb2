"""Docker's rules for merging a create request with the image's config."""

import pytest

from dockyard.engine.containers.config import merge_config, merge_env, process_env, validate_name
from dockyard.errors import InvalidArgument

IMAGE = {
    "Entrypoint": ["/entry"],
    "Cmd": ["default"],
    "Env": ["PATH=/img", "A=1"],
    "WorkingDir": "/w",
    "User": "app",
    "Labels": {"x": "1"},
    "ExposedPorts": {"80/tcp": {}},
    "StopSignal": "SIGQUIT",
}


@pytest.mark.parametrize(
    "request_config, entrypoint, cmd",
    [
        ({}, ["/entry"], ["default"]),  # image defaults
        ({"Cmd": ["mine"]}, ["/entry"], ["mine"]),  # docker run image mine
        ({"Entrypoint": ["/other"]}, ["/other"], None),  # --entrypoint drops image Cmd
        ({"Entrypoint": ["/other"], "Cmd": ["a"]}, ["/other"], ["a"]),
        ({"Entrypoint": [""], "Cmd": ["sh"]}, None, ["sh"]),  # --entrypoint "" clears it
    ],
)
def test_entrypoint_and_cmd_follow_docker(request_config, entrypoint, cmd):
    merged = merge_config(request_config, IMAGE)
    assert merged["Entrypoint"] == entrypoint
    assert merged["Cmd"] == cmd


def test_no_command_at_all_is_refused():
    with pytest.raises(InvalidArgument, match="No command specified"):
        merge_config({}, {})


def test_env_labels_ports_and_defaults_merge():
    merged = merge_config({"Env": ["A=2", "B=3"], "Labels": {"y": "2"}, "ExposedPorts": {"53/udp": {}}}, IMAGE)
    assert merged["Env"] == ["PATH=/img", "A=2", "B=3"]
    assert merged["Labels"] == {"x": "1", "y": "2"}
    assert set(merged["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert (merged["WorkingDir"], merged["User"], merged["StopSignal"]) == ("/w", "app", "SIGQUIT")


def test_user_settings_win_over_the_image():
    merged = merge_config({"User": "0", "WorkingDir": "/tmp"}, IMAGE)
    assert (merged["User"], merged["WorkingDir"]) == ("0", "/tmp")


def test_process_env_adds_path_hostname_term_home():
    env = process_env({"Env": ["A=1"], "Tty": True}, "box", "/root")
    assert env[:4] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=box",
        "TERM=xterm",
        "HOME=/root",
    ]
    assert env[-1] == "A=1"
    assert process_env({"Env": ["PATH=/x", "HOME=/h"]}, "b", "/root") == ["HOSTNAME=b", "PATH=/x", "HOME=/h"]


def test_merge_env_replaces_by_key_only():
    assert merge_env(["A=1", "B=2"], ["B=3", "C"]) == ["A=1", "B=3", "C"]


@pytest.mark.parametrize("name", ["/web", "web_1", "a.b-c"])
def test_valid_names(name):
    assert validate_name(name) == name.lstrip("/")


@pytest.mark.parametrize("name", ["-x", "a", "a b", "é", "a/b"])
def test_invalid_names(name):
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        validate_name(name)


def test_a_relative_working_dir_is_refused_in_dockerds_words():
    from dockyard.engine.containers.rules import check_config_types

    check_config_types({"Image": "busybox", "WorkingDir": "/srv/app"})
    with pytest.raises(
        InvalidArgument, match="^the working directory 'rel/dir' is invalid, it needs to be an absolute"
    ):
        check_config_types({"Image": "busybox", "WorkingDir": "rel/dir"})
