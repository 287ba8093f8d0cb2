"""Block I/O controller: `resources.blockIO` weight and per-device throttles.

OCI field                  v1 file (blkio)                      v2 file (io)
weight                     blkio.weight                         io.weight (`default N`)
throttleReadBpsDevice      blkio.throttle.read_bps_device       io.max `M:m rbps=N`
throttleWriteBpsDevice     blkio.throttle.write_bps_device      io.max `M:m wbps=N`
throttleReadIOPSDevice     blkio.throttle.read_iops_device      io.max `M:m riops=N`
throttleWriteIOPSDevice    blkio.throttle.write_iops_device     io.max `M:m wiops=N`
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

THROTTLES = {
    "throttleReadBpsDevice": ("read_bps_device", "rbps"),
    "throttleWriteBpsDevice": ("write_bps_device", "wbps"),
    "throttleReadIOPSDevice": ("read_iops_device", "riops"),
    "throttleWriteIOPSDevice": ("write_iops_device", "wiops"),
}


def requested(resources: dict[str, Any]) -> bool:
    block = resources.get("blockIO", {})
    return bool(block.get("weight")) or any(block.get(name) for name in THROTTLES)


def settings(resources: dict[str, Any], version: int) -> list[tuple[str, str]]:
    block = resources["blockIO"]
    result = []
    if block.get("weight"):
        result.append(
            ("blkio.weight", str(block["weight"])) if version == 1 else ("io.weight", f"default {block['weight']}")
        )
    for name, (v1_file, v2_key) in THROTTLES.items():
        for device in block.get(name) or ():
            where = f"{device['major']}:{device['minor']}"
            if version == 1:
                result.append((f"blkio.throttle.{v1_file}", f"{where} {device['rate']}"))
            else:
                result.append(("io.max", f"{where} {v2_key}={device['rate']}"))
    return result
