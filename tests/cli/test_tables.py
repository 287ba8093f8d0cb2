"""Tables as docker prints them: tabwriter alignment, headers from field names, row fields."""

import pytest

from dockyard.cli.commands.df import DEFAULT_FORMAT as DF_FORMAT
from dockyard.cli.commands.df import HEADERS as DF_HEADERS
from dockyard.cli.commands.df import usage_rows
from dockyard.cli.commands.history import DEFAULT_FORMAT as HISTORY_FORMAT
from dockyard.cli.commands.history import HistoryRow
from dockyard.cli.commands.images import DEFAULT_FORMAT as IMAGES_FORMAT
from dockyard.cli.commands.images import choose_format, list_rows
from dockyard.cli.commands.port import port_lines
from dockyard.cli.commands.ps import DEFAULT_FORMAT as PS_FORMAT
from dockyard.cli.rows import ContainerRow, ImageRow, display_ports
from dockyard.cli.tables import render, tabwrite

NOW = 1_700_000_000.0
ID = "3f4a5b6c7d8e" + "0" * 52
CONTAINER = {
    "Id": ID,
    "Names": ["/web"],
    "Image": "busybox",
    "ImageID": "sha256:" + "b" * 64,
    "Command": "/docker-entrypoint.sh postgres",
    "Created": NOW - 5,
    "State": "running",
    "Status": "Up 3 seconds",
    "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
    "Labels": {"b": "2", "a": "1"},
    "Mounts": [{"Name": "data" * 5, "Driver": "local"}],
    "NetworkSettings": {"Networks": {"bridge": {}, "app": {}}},
    "SizeRw": 12,
    "SizeRootFs": 4_261_000,
}


def test_tabwriter_pads_to_minwidth_and_leaves_last_cell():
    assert tabwrite(["A\tBB\tC", "xxxxxxxxxxxxx\ty\tz"]) == (
        "A               BB        C\nxxxxxxxxxxxxx   y         z\n"
    )


def test_ps_default_table():
    out = render(PS_FORMAT, [ContainerRow(CONTAINER, now=NOW)], ContainerRow.HEADERS)
    assert out == (
        "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS                  NAMES\n"
        '3f4a5b6c7d8e   busybox   "/docker-entrypoint.…"   5 seconds ago   Up 3 seconds   0.0.0.0:8080->80/tcp   web\n'
    )


def test_ps_empty_table_is_the_header():
    assert render(PS_FORMAT, [], ContainerRow.HEADERS) == (
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    )


def test_custom_table_headers_come_from_field_names():
    out = render('table {{.ID}}\\t{{.Image}}\\t{{.Label "a"}}', [ContainerRow(CONTAINER)], ContainerRow.HEADERS)
    assert out.splitlines() == ["CONTAINER ID   IMAGE     LABEL", "3f4a5b6c7d8e   busybox   1"]


@pytest.mark.parametrize(
    "field,expected",
    [
        ("Labels", "a=1,b=2"),
        ("Mounts", "datadatadatada…"),
        ("Networks", "app,bridge"),
        ("Size", "12B (virtual 4.26MB)"),
        ("State", "running"),
        ("LocalVolumes", "1"),
        ("RunningFor", "5 seconds ago"),
        ("Names", "web"),
    ],
)
def test_container_fields(field, expected):
    assert render("{{." + field + "}}", [ContainerRow(CONTAINER, now=NOW)], {}) == expected + "\n"


def test_no_trunc_keeps_full_id_and_command():
    row = ContainerRow(CONTAINER, trunc=False)
    assert row.ID == ID and row.Command == '"/docker-entrypoint.sh postgres"'


def test_json_row_has_docker_keys():
    import json

    data = json.loads(render("{{json .}}", [ContainerRow(CONTAINER, now=NOW)], {}))
    assert data["ID"] == "3f4a5b6c7d8e" and data["Names"] == "web" and data["Ports"] == "0.0.0.0:8080->80/tcp"


def test_raw_format_has_no_header():
    assert render("{{.Names}}", [ContainerRow(CONTAINER)], ContainerRow.HEADERS) == "web\n"


@pytest.mark.parametrize(
    "ports,expected",
    [
        ([], ""),
        ([{"PrivatePort": 9988, "Type": "tcp"}], "9988/tcp"),
        ([{"PrivatePort": p, "Type": "tcp"} for p in (80, 81, 82, 90)], "80-82/tcp, 90/tcp"),
        (
            [{"IP": "0.0.0.0", "PrivatePort": p, "PublicPort": p, "Type": "tcp"} for p in (8000, 8001)],
            "0.0.0.0:8000-8001->8000-8001/tcp",
        ),
        (
            [
                {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"PrivatePort": 53, "Type": "udp"},
            ],
            "53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp",
        ),
    ],
)
def test_display_ports(ports, expected):
    assert display_ports(ports) == expected


IMAGE = {
    "Id": "sha256:" + "c" * 64,
    "RepoTags": ["busybox:latest", "busybox:1.36"],
    "RepoDigests": ["busybox@sha256:" + "d" * 64],
    "Created": NOW - 3 * 86400 * 7,
    "Size": 4_261_000,
}


def test_images_default_table():
    rows = list_rows([IMAGE], IMAGES_FORMAT, False, True)
    for row in rows:
        row.now = NOW
    assert render(IMAGES_FORMAT, rows, ImageRow.HEADERS) == (
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n"
        "busybox      latest    cccccccccccc   3 weeks ago   4.26MB\n"
        "busybox      1.36      cccccccccccc   3 weeks ago   4.26MB\n"
    )


def test_images_digests_and_dangling_and_quiet():
    fmt = choose_format(None, False, True)
    rows = list_rows([IMAGE, {"Id": "sha256:" + "e" * 64, "RepoTags": None, "Created": 0, "Size": 0}], fmt, True, True)
    assert [(r.Repository, r.Tag, r.Digest) for r in rows] == [
        ("busybox", "latest", "sha256:" + "d" * 64),
        ("busybox", "1.36", "sha256:" + "d" * 64),
        ("<none>", "<none>", "<none>"),
    ]
    assert render(fmt, rows[2:], ImageRow.HEADERS).splitlines()[1].split()[-2:] == ["N/A", "0B"]
    quiet = list_rows([IMAGE], "{{.ID}}", False, True)
    assert render("{{.ID}}", quiet, {}) == "cccccccccccc\ncccccccccccc\n"


def test_history_rows():
    layers = [
        {
            "Id": "sha256:" + "f" * 64,
            "Created": NOW - 7200,
            "CreatedBy": '/bin/sh -c #(nop) CMD ["sh"]\t',
            "Size": 0,
            "Comment": "",
        },
        {
            "Id": "<missing>",
            "Created": NOW - 7200,
            "CreatedBy": "/bin/sh -c #(nop) ADD file:" + "9" * 64 + " in / ",
            "Size": 4_261_000,
            "Comment": "imported",
        },
    ]
    rows = [HistoryRow(layer, True, True, now=NOW) for layer in layers]
    lines = render(HISTORY_FORMAT, rows, HistoryRow.HEADERS).splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert lines[1].startswith('ffffffffffff   2 hours ago   /bin/sh -c #(nop) CMD ["sh"]')
    assert "<missing>" in lines[2] and "…" in lines[2] and "4.26MB" in lines[2] and lines[2].endswith("imported")
    assert HistoryRow(layers[1], False, True).Size == "4261000"


def test_port_lines():
    ports = {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
        "53/udp": None,
    }
    assert port_lines(ports, None) == ["80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080"]
    assert port_lines(ports, "80") == ["0.0.0.0:8080", "[::]:8080"]
    assert port_lines(ports, "53/udp") == []


def test_system_df_rows():
    df = {
        "LayersSize": 5_010_000,
        "Images": [
            {"Size": 4_000_000, "SharedSize": 500_000, "Containers": 1},
            {"Size": 1_500_000, "SharedSize": 500_000, "Containers": 0},
        ],
        "Containers": [{"State": "running", "SizeRw": 0}, {"State": "exited", "SizeRw": 2000}, {"State": "paused"}],
        "Volumes": [{"UsageData": {"Size": 100, "RefCount": 0}}],
        "BuildCache": [],
    }
    out = render(DF_FORMAT, usage_rows(df), DF_HEADERS).splitlines()
    assert out[0] == "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    assert out[1] == "Images          2         1         5.01MB    1.51MB (30%)"
    assert out[2] == "Containers      3         2         2kB       2kB (100%)"
    assert out[3] == "Local Volumes   1         0         100B      100B (100%)"
    assert out[4] == "Build Cache     0         0         0B        0B"


def test_history_not_human_prints_rfc3339_and_bytes(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        row = HistoryRow({"Id": "sha256:" + "f" * 64, "Created": NOW, "Size": 4_261_000}, False, True)
        assert (row.CreatedSince, row.Size) == ("2023-11-14T22:13:20Z", "4261000")
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
@pytest.mark.parametrize("epoch", [0, 1_700_000_000, 1_720_000_000])
def test_times_are_printed_in_the_local_zone_as_go_prints_them(monkeypatch, zone, epoch):
    """Go's Time.String() and RFC3339, in the zone TZ names (summer and winter, half hours)."""
    import time
    from datetime import UTC, datetime

    from dockyard.cli.rows import go_time, rfc3339

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        moment = datetime.fromtimestamp(epoch, UTC).astimezone()
        offset = moment.strftime("%z")
        assert go_time(epoch) == f"{moment:%Y-%m-%d %H:%M:%S} {offset} {moment.tzname()}"
        zone_part = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
        assert rfc3339(epoch) == f"{moment:%Y-%m-%dT%H:%M:%S}{zone_part}"
    finally:
        monkeypatch.undo()
        time.tzset()
