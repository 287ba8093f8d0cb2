"""The Go text/template subset, table-driven: template | data | expected output."""

import pytest

from dockyard.cli.formatting import Template
from dockyard.errors import InvalidArgument

INSPECT = {
    "Id": "abc",
    "State": {"Status": "running", "Pid": 42, "Running": True, "ExitCode": 0},
    "Config": {"Image": "busybox", "Labels": {"b": "2", "a": "1"}, "Env": ["A=1", "B=2"], "Cmd": None},
    "NetworkSettings": {"IPAddress": "172.17.0.2", "Networks": {"bridge": {"IPAddress": "172.17.0.2"}}},
    "Name": "/web",
}

CASES = [
    ("{{.State.Status}}", INSPECT, "running"),
    ("{{.Config.Image}}", INSPECT, "busybox"),
    ("{{.NetworkSettings.IPAddress}}", INSPECT, "172.17.0.2"),
    ("{{.State.Pid}}", INSPECT, "42"),
    ("{{.State.Running}}", INSPECT, "true"),
    ("{{.Config.Cmd}}", INSPECT, "<nil>"),
    ("{{.Nope}}", INSPECT, "<no value>"),
    ("{{.Config.Env}}", INSPECT, "[A=1 B=2]"),
    ("{{.Config.Labels}}", INSPECT, "map[a:1 b:2]"),
    ("{{json .Config.Labels}}", INSPECT, '{"b":"2","a":"1"}'),
    ("{{json .Config.Env}}", INSPECT, '["A=1","B=2"]'),
    ("{{json .State}}", INSPECT, '{"Status":"running","Pid":42,"Running":true,"ExitCode":0}'),
    ('{{index .Config.Labels "a"}}', INSPECT, "1"),
    ('{{index .NetworkSettings.Networks "bridge"}}', INSPECT, "map[IPAddress:172.17.0.2]"),
    ('{{(index .NetworkSettings.Networks "bridge").IPAddress}}', INSPECT, "172.17.0.2"),
    ("{{range .Config.Env}}[{{.}}]{{end}}", INSPECT, "[A=1][B=2]"),
    ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", INSPECT, "a=1;b=2;"),
    ("{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}", INSPECT, "0:A=1 1:B=2 "),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", INSPECT, "172.17.0.2"),
    ("{{range .Config.Cmd}}x{{else}}empty{{end}}", INSPECT, "empty"),
    ("{{if .State.Running}}up{{else}}down{{end}}", INSPECT, "up"),
    ("{{if .State.ExitCode}}bad{{else}}ok{{end}}", INSPECT, "ok"),
    ('{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{end}}', INSPECT, "r"),
    ("{{if and .State.Running (eq .State.Pid 42)}}yes{{end}}", INSPECT, "yes"),
    ("{{if not .State.Running}}no{{else}}yes{{end}}", INSPECT, "yes"),
    ("{{with .State}}{{.Status}}{{end}}", INSPECT, "running"),
    ("{{upper .State.Status}}", INSPECT, "RUNNING"),
    ('{{lower "ABC"}}', {}, "abc"),
    ("{{.State.Status | upper}}", INSPECT, "RUNNING"),
    ('{{join .Config.Env ","}}', INSPECT, "A=1,B=2"),
    ('{{join (split "a:b:c" ":") "-"}}', {}, "a-b-c"),
    ("{{len .Config.Env}}", INSPECT, "2"),
    ('{{printf "%s has %d" .Name .State.Pid}}', INSPECT, "/web has 42"),
    ('{{title "hello world"}}', {}, "Hello World"),
    ("{{truncate .Id 2}}", INSPECT, "ab"),
    ("{{pad .Id 1 2}}|", INSPECT, " abc  |"),
    ("{{$n := .Name}}name={{$n}}", INSPECT, "name=/web"),
    ("{{$.Id}}{{range .Config.Env}}{{$.Id}}{{end}}", INSPECT, "abcabcabc"),
    ("a  {{- .Id -}}  b", INSPECT, "aabcb"),
    ("{{/* comment */}}x", {}, "x"),
    ("{{json .}}", {"k": "<&>"}, '{"k":"<&>"}'),
    ("plain text", {}, "plain text"),
]


@pytest.mark.parametrize("source,data,expected", CASES)
def test_template(source, data, expected):
    assert Template(source).render(data) == expected


class Obj:
    """Fields as properties and one method with an argument, like docker's row contexts."""

    @property
    def Name(self):
        return "n"

    def Label(self, key):
        return {"k": "v"}[key]


def test_methods_and_properties():
    assert Template('{{.Name}} {{.Label "k"}}').render(Obj()) == "n v"


@pytest.mark.parametrize("source", ["{{.A", "{{if .A}}x", "{{end}}", "{{nofunc .A}}", "{{.A | }}"])
def test_bad_templates_raise_invalid_argument(source):
    with pytest.raises(InvalidArgument):
        Template(source).render({"A": 1})


def test_unknown_field_on_object_is_an_error():
    with pytest.raises(InvalidArgument, match="can't evaluate field Nope"):
        Template("{{.Nope}}").render(Obj())
