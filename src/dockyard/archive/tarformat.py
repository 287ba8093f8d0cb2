"""The tar format, pure: 512-byte ustar/GNU headers and PAX records to and from Members.

    offset size field              offset size field
    0      100  name               257    6    magic ("ustar\\0" POSIX, "ustar " GNU)
    100    8    mode               263    2    version
    108    8    uid                265    32   uname
    116    8    gid                297    32   gname
    124    12   size               329    8    devmajor
    136    12   mtime              337    8    devminor
    148    8    checksum           345    155  prefix (POSIX only)
    156    1    typeflag
    157    100  linkname

Numbers are octal text, or base-256 when the first byte has its high bit set (GNU).
Long names come as GNU `L`/`K` entries or PAX `path`/`linkpath`; xattrs as PAX
`SCHILY.xattr.<name>`. Names are str with surrogateescape for bytes that are not UTF-8.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.errors import InvalidArgument

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
XATTR_PREFIX = "SCHILY.xattr."


class EntryType(enum.Enum):
    """The typeflags that name a filesystem object."""

    REGULAR = b"0"
    HARDLINK = b"1"
    SYMLINK = b"2"
    CHAR = b"3"
    BLOCK = b"4"
    DIRECTORY = b"5"
    FIFO = b"6"


class MetaType(enum.Enum):
    """The typeflags that describe the next entry instead of being one."""

    PAX = b"x"
    PAX_GLOBAL = b"g"
    GNU_LONGNAME = b"L"
    GNU_LONGLINK = b"K"


_ALIASES = {b"\0": EntryType.REGULAR, b"7": EntryType.REGULAR}  # old regular, contiguous


@dataclass(frozen=True, slots=True)
class Member:
    """One tar entry, with every override from GNU and PAX headers applied."""

    name: str
    type: EntryType
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime_ns: int = 0
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RawHeader:
    """One decoded 512-byte block: an entry, or metadata (`meta`) for the next entry."""

    member: Member | None
    meta: MetaType | None
    size: int  # bytes of data that follow the block (before padding)


def padded(size: int) -> int:
    """Size rounded up to a whole number of blocks."""
    return -(-size // BLOCK) * BLOCK


def decode_text(raw: bytes) -> str:
    """A NUL-terminated header field as str (surrogateescape keeps non-UTF-8 bytes)."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(raw: bytes) -> int:
    if raw and raw[0] & 0x80:  # GNU base-256
        value = int.from_bytes(raw, "big", signed=raw[0] == 0xFF)
        return value if raw[0] == 0xFF else value & ~(0x80 << (8 * (len(raw) - 1)))
    text = raw.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise InvalidArgument(f"invalid tar header: bad number {raw!r}") from None


def _check_sum(block: bytes) -> None:
    stored = _number(block[148:156])
    unsigned = sum(block) - sum(block[148:156]) + 8 * 32
    if stored == unsigned:
        return
    high = sum(1 for b in block if b > 127) - sum(1 for b in block[148:156] if b > 127)
    signed = unsigned - 256 * high  # some old tars summed signed chars
    if stored != signed:
        raise InvalidArgument("invalid tar header: checksum mismatch")


def decode_header(block: bytes) -> RawHeader:
    """Decode one header block (not the zero end block).

    Raises:
        InvalidArgument: bad checksum, bad number or unknown typeflag.
    """
    _check_sum(block)
    size = _number(block[124:136])
    flag = block[156:157]
    if flag in (b"x", b"g", b"L", b"K"):
        return RawHeader(None, MetaType(flag), size)
    entry_type = _ALIASES.get(flag) or _entry_type(flag)
    name = decode_text(block[0:100])
    if block[257:263] == b"ustar\0" and block[345] != 0:
        name = decode_text(block[345:500]) + "/" + name
    if flag == b"\0" and name.endswith("/"):
        entry_type = EntryType.DIRECTORY  # pre-POSIX directories
    if entry_type is not EntryType.REGULAR:
        size = 0  # header-only types carry no data, whatever the field says
    member = Member(
        name=name,
        type=entry_type,
        mode=_number(block[100:108]) & 0o7777,
        uid=_number(block[108:116]),
        gid=_number(block[116:124]),
        size=size,
        mtime_ns=_number(block[136:148]) * 1_000_000_000,
        linkname=decode_text(block[157:257]),
        devmajor=_number(block[329:337]),
        devminor=_number(block[337:345]),
    )
    return RawHeader(member, None, size)


def _entry_type(flag: bytes) -> EntryType:
    try:
        return EntryType(flag)
    except ValueError:
        raise InvalidArgument(f"unhandled tar header type {flag!r}") from None


def parse_pax(data: bytes) -> dict[str, bytes]:
    """Parse PAX records (`<len> <key>=<value>\\n`); values stay bytes (xattrs are binary).

    Raises:
        InvalidArgument: a record is malformed.
    """
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos, pos + 20)
        try:
            length = int(data[pos:space]) if space > pos else 0
        except ValueError:
            length = 0
        record = data[space + 1 : pos + length]
        if length <= 0 or pos + length > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise InvalidArgument("invalid tar header: malformed PAX record")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value
        pos += length
    return records


def _pax_number(value: bytes) -> int:
    try:
        return int(value.decode())
    except ValueError:
        raise InvalidArgument(f"invalid tar header: bad PAX number {value!r}") from None


def _pax_time_ns(value: bytes) -> int:
    text = value.decode("ascii", "replace")
    sign = -1 if text.startswith("-") else 1
    seconds, _, fraction = text.lstrip("-").partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()) or len(seconds) > 18 or len(fraction) > 64:
        raise InvalidArgument(f"invalid tar header: bad PAX time {value!r}")
    return sign * (int(seconds) * 1_000_000_000 + int((fraction + "000000000")[:9]))


def apply_pax(member: Member, records: Mapping[str, bytes]) -> Member:
    """The member with PAX overrides (path, linkpath, size, uid, gid, mtime, xattrs) applied.

    Raises:
        InvalidArgument: a value is malformed, or the entry is a GNU sparse file.
    """
    if not records:
        return member
    if any(key.startswith("GNU.sparse.") for key in records):
        raise InvalidArgument("unhandled tar entry: GNU sparse file")
    changes: dict[str, object] = {}
    text = {"path": "name", "linkpath": "linkname"}
    numbers = {"size": "size", "uid": "uid", "gid": "gid"}
    for key, value in records.items():
        if key in text:
            changes[text[key]] = value.decode("utf-8", "surrogateescape")
        elif key in numbers:
            changes[numbers[key]] = _pax_number(value)
        elif key == "mtime":
            changes["mtime_ns"] = _pax_time_ns(value)
    xattrs = {key.removeprefix(XATTR_PREFIX): value for key, value in records.items() if key.startswith(XATTR_PREFIX)}
    if xattrs:
        changes["xattrs"] = {**member.xattrs, **xattrs}
    if member.type is not EntryType.REGULAR:
        changes.pop("size", None)
    return dataclasses.replace(member, **changes)  # type: ignore[arg-type]


_LIMITS = {"size": 1 << 62, "uid": 1 << 32, "gid": 1 << 32, "devmajor": 1 << 32, "devminor": 1 << 32}
_MAX_TIME_NS = 1 << 62


def check_ranges(member: Member) -> Member:
    """member, if its numbers fit the kernel's types.

    Raises:
        InvalidArgument: a negative or oversized size, id, device number or time.
    """
    for name, limit in _LIMITS.items():
        if not 0 <= getattr(member, name) < limit:
            raise InvalidArgument(f"invalid tar header: {name} out of range for {member.name!r}")
    if not -_MAX_TIME_NS < member.mtime_ns < _MAX_TIME_NS:
        raise InvalidArgument(f"invalid tar header: mtime out of range for {member.name!r}")
    return member


def _octal(value: int, width: int) -> bytes | None:
    """value as NUL-terminated octal in width bytes, or None when it does not fit."""
    if value < 0 or value >= 8 ** (width - 1):
        return None
    return b"%0*o\0" % (width - 1, value)


def _fit(value: int, width: int) -> int:
    """value if it fits a width-byte octal field, else 0 (a PAX record carries it)."""
    return value if 0 <= value < 8 ** (width - 1) else 0


def _split_name(name: bytes) -> tuple[bytes, bytes] | None:
    """(prefix, name) for the ustar fields, or None when only PAX can hold the name."""
    if len(name) <= 100:
        return b"", name
    cut = name.find(b"/", len(name) - 101, len(name) - 1)
    if 0 < cut <= 155:
        return name[:cut], name[cut + 1 :]
    return None


def _pax_record(key: str, value: bytes) -> bytes:
    body = b" %s=%s\n" % (key.encode("utf-8", "surrogateescape"), value)
    length = len(body) + len(str(len(body)))
    if len(str(length)) != len(str(len(body))):
        length += 1
    return str(length).encode() + body


def _plain_ustar(member: Member, name: bytes, link: bytes, seconds: int) -> bool:
    """Whether one ustar block holds all of member (the common case, checked cheaply)."""
    return (
        len(name) <= 100
        and len(link) <= 100
        and name.isascii()
        and link.isascii()
        and not member.xattrs
        and 0 <= member.uid < 0o10000000
        and 0 <= member.gid < 0o10000000
        and 0 <= member.size < 0o100000000000
        and 0 <= seconds < 0o100000000000
    )


def encode_member(member: Member) -> bytes:
    """The header block(s) of member: a PAX header first when ustar cannot hold it all."""
    name = member.name.encode("utf-8", "surrogateescape")
    link = member.linkname.encode("utf-8", "surrogateescape")
    seconds = member.mtime_ns // 1_000_000_000
    if _plain_ustar(member, name, link, seconds):
        return _block(member, (b"", name), link, seconds)
    pax: dict[str, bytes] = {}
    split = _split_name(name) if name.isascii() else None
    if split is None:
        pax["path"], split = name, (b"", name[-100:])
    if len(link) > 100 or not link.isascii():
        pax["linkpath"] = link
    numbers = {"uid": (member.uid, 8), "gid": (member.gid, 8), "size": (member.size, 12)}
    for key, (value, width) in numbers.items():
        if _octal(value, width) is None:
            pax[key] = str(value).encode()
    if _octal(seconds, 12) is None:
        pax["mtime"] = str(seconds).encode()
    for key in sorted(member.xattrs):
        pax[XATTR_PREFIX + key] = member.xattrs[key]
    header = _block(member, split, link[:100], seconds)
    if not pax:
        return header
    data = b"".join(_pax_record(key, value) for key, value in pax.items())
    pax_member = Member(name="././@PaxHeader", type=EntryType.REGULAR, size=len(data))
    pax_block = _block(pax_member, (b"", b"././@PaxHeader"), b"", 0, flag=b"x")
    return pax_block + data + bytes(padded(len(data)) - len(data)) + header


def _block(member: Member, split: tuple[bytes, bytes], link: bytes, seconds: int, flag: bytes = b"") -> bytes:
    prefix, name = split
    block = bytearray(
        b"%s%07o\0%07o\0%07o\0%011o\0%011o\0        %s%sustar\x0000%s%07o\0%07o\0%s%s"
        % (
            name.ljust(100, b"\0"),
            member.mode & 0o7777,
            _fit(member.uid, 8),
            _fit(member.gid, 8),
            _fit(member.size, 12),
            _fit(seconds, 12),
            flag or member.type.value,
            link.ljust(100, b"\0"),
            bytes(64),  # uname, gname: numeric ids only, as docker's layers
            _fit(member.devmajor, 8),
            _fit(member.devminor, 8),
            prefix.ljust(155, b"\0"),
            bytes(12),
        )
    )
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)
