"""Pure-ish tests of the json-file log: encoding, splitting, rotation, reading, follow."""

import json
import os
import threading
import time

from dockyard.runtime.logfile import MAX_PARTIAL, JsonFileWriter, LineSplitter, encode_entry
from dockyard.runtime.logreader import LogReading, decode_entry, select
from dockyard.timestamps import rfc3339_nano as format_time


def test_entry_encoding_is_go_like():
    line = encode_entry("stdout", b"<a&b> \xff\n", "2026-01-01T00:00:00Z")
    assert line == (
        b'{"log":"\\u003ca\\u0026b\\u003e \xef\xbf\xbd\\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}\n'
    )
    entry = decode_entry(line)
    assert entry.stream == "stdout" and entry.data == "<a&b> \ufffd\n".encode()


def test_splitter_lines_and_partials():
    s = LineSplitter()
    assert s.feed(b"a\nb") == [b"a\n"]
    assert s.feed(b"c\n\n") == [b"bc\n", b"\n"]
    assert s.feed(b"x" * MAX_PARTIAL)[0] == b"x" * MAX_PARTIAL
    assert s.feed(b"tail") == []
    assert s.flush() == [b"tail"]


def test_writer_rotates_and_reader_orders(tmp_path):
    path = str(tmp_path / "c-json.log")
    w = JsonFileWriter(path, max_size=200, max_files=3)
    for i in range(30):
        w.write("stdout" if i % 2 else "stderr", f"line {i}\n".encode())
    w.write("stdout", b"no newline")
    w.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["c-json.log", "c-json.log.1", "c-json.log.2"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 200
    entries = list(LogReading(path, 3).past())
    assert entries[-1].data == b"no newline"
    numbers = [int(e.data.split()[1]) for e in entries[:-1]]
    assert numbers == sorted(numbers) and numbers[-1] == 29 and len(numbers) < 30
    assert all(json.loads((tmp_path / "c-json.log").read_text().splitlines()[0]))


def test_select_tail_since_until(tmp_path):
    lines = [encode_entry("stdout", f"{i}\n".encode(), format_time(i * 1_000_000_000)) for i in range(1, 6)]
    (tmp_path / "l").write_bytes(b"".join(lines))
    entries = lambda: LogReading(str(tmp_path / "l"), 1).past()
    assert [e.data for e in select(entries(), tail=2)] == [b"4\n", b"5\n"]
    assert select(entries(), tail=0) == []
    got = select(entries(), since_ns=2_000_000_000, until_ns=4_000_000_000)
    assert [e.data for e in got] == [b"3\n", b"4\n"]


def test_follow_crosses_rotation(tmp_path):
    path = str(tmp_path / "f.log")
    w = JsonFileWriter(path, max_size=240, max_files=2)
    w.write("stdout", b"before\n")
    done = threading.Event()
    seen = []
    reading = LogReading(path, 2)
    assert [entry.data for entry in reading.past()] == [b"before\n"]
    entries = reading.follow(keep_going=lambda: not done.is_set(), poll=0.005)

    def reader():
        seen.extend(entry.data for entry in entries)

    t = threading.Thread(target=reader)
    t.start()
    for i in range(10):
        w.write("stdout", f"msg {i}\n".encode())
        time.sleep(0.05)
    w.close()
    time.sleep(0.1)
    done.set()
    t.join(5)
    assert seen == [f"msg {i}\n".encode() for i in range(10)]


def test_what_is_written_between_the_past_and_the_follow_is_read_once(tmp_path):
    """The race `docker run` through the SDK met (logs --follow right after start, the
    container done at once): an entry written after the past was read, and the writer done
    before the follower first asks whether to go on, still comes out, once; so does a line
    the writer was halfway through when the past was read."""
    path = tmp_path / "f.log"
    line = lambda text: b'{"log":"%s\\n","stream":"stdout","time":"2026-12-06T00:00:00Z"}\n' % text
    path.write_bytes(line(b"early") + line(b"torn")[:20])
    reading = LogReading(str(path), 1)
    assert [entry.data for entry in reading.past()] == [b"early\n"]
    with open(path, "ab") as f:
        f.write(line(b"torn")[20:] + line(b"late"))
    assert [entry.data for entry in reading.follow(keep_going=lambda: False)] == [b"torn\n", b"late\n"]


def test_the_follower_reads_once_more_after_the_writer_is_done(tmp_path):
    """What the container wrote after the follower's last empty read, just before it exited
    (the follower then sees keep_going() fail), still comes out."""
    path = tmp_path / "f.log"
    path.write_bytes(b"")
    reading = LogReading(str(path), 1)
    assert list(reading.past()) == []

    def writes_then_stops() -> bool:
        with open(path, "ab") as f:
            f.write(b'{"log":"last\\n","stream":"stdout","time":"2026-12-06T00:00:00Z"}\n')
        return False

    assert [entry.data for entry in reading.follow(keep_going=writes_then_stops, poll=0)] == [b"last\n"]


def test_a_rotation_while_the_past_is_read_reads_nothing_twice(tmp_path):
    path = str(tmp_path / "f.log")
    w = JsonFileWriter(path, max_size=200, max_files=2)
    w.write("stdout", b"one\n")
    reading = LogReading(path, 2)
    for i in range(6):  # rotates: f.log becomes f.log.1, twice over
        w.write("stdout", f"later {i}\n".encode())
    w.close()
    seen = [entry.data for entry in reading.past()]
    seen += [entry.data for entry in reading.follow(keep_going=lambda: False)]
    # the file opened at the start is read to its end (the entries it got before it was
    # renamed), then the current one: in order, none twice (what rotated out between is gone)
    assert seen[:2] == [b"one\n", b"later 0\n"] and seen[-1] == b"later 5\n" and len(set(seen)) == len(seen)
    reading.close()


def test_a_log_that_is_not_there_reads_empty(tmp_path):
    reading = LogReading(str(tmp_path / "missing.log"), 3)
    assert list(reading.past()) == [] and list(reading.follow(keep_going=lambda: True)) == []


def test_tail_0_then_follow_gives_only_what_comes_after(tmp_path):
    """`docker logs -f --tail 0`: nothing of the past, then the new entries."""
    path = str(tmp_path / "f.log")
    w = JsonFileWriter(path, max_size=1 << 20, max_files=1)
    w.write("stdout", b"old 1\nold 2\n")
    reading = LogReading(path, 1)
    assert select(reading.past(), tail=0) == []
    w.write("stdout", b"new\n")
    w.close()
    assert [entry.data for entry in reading.follow(keep_going=lambda: False)] == [b"new\n"]
    reading.close()


def test_close_leaves_no_file_open_even_mid_follow_after_a_rotation(tmp_path):
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    path = str(tmp_path / "f.log")
    before = open_fds()
    w = JsonFileWriter(path, max_size=300, max_files=3)  # three entries a file
    for i in range(5):
        w.write("stdout", f"entry {i}\n".encode())
    reading = LogReading(path, 3)
    assert len(list(reading.past())) == 5
    deadline = time.monotonic() + 10
    follower = reading.follow(keep_going=lambda: time.monotonic() < deadline, poll=0.001)
    for i in range(5, 8):  # rotates under the follower: it reopens the log's path
        w.write("stdout", f"entry {i}\n".encode())
    assert [next(follower).data for _ in range(3)] == [b"entry 5\n", b"entry 6\n", b"entry 7\n"]
    reading.close()  # the client left mid-stream
    w.close()
    assert open_fds() == before
