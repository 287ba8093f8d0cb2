"""`GET /system/df`: what images, containers and volumes take on the data root.

Figures are bytes on the data root as `du -sb` counts them, so that they add up: `LayersSize`
(which the docker CLI prints as the Images row's size) is the image store, `layers/` and
`blobs/` together; an image's `Size` is its footprint there, its unpacked layers' directories
plus its blobs (manifest, config, layer blobs), and `SharedSize` the part of it that another
image also holds, so Reclaimable is what removing the unused images would free. (Docker
counts an image's uncompressed layers only, so its figures do not add up to its disk.)
A container's `SizeRw` is its upper dir's files, a volume's `UsageData.Size` its data
directory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def image_usage(summaries: list[dict], parts: dict[str, dict[str, int]], users: Iterable[str]) -> list[dict]:
    """The df entry of each image: its summary with Size, SharedSize and Containers.

    `parts` maps each image id to the bytes of each piece it holds (a layer, a blob), keyed
    by a name that is the same for every image holding that piece; `users` is the image id
    of every container.
    """
    using = Counter(users)
    holders = Counter(key for image_parts in parts.values() for key in image_parts)
    entries = []
    for summary in summaries:
        own = parts.get(summary["Id"], {})
        shared = sum(size for key, size in own.items() if holders[key] > 1)
        entries.append({**summary, "Size": sum(own.values()), "SharedSize": shared, "Containers": using[summary["Id"]]})
    return entries
