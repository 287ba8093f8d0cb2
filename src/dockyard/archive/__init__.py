"""Layer tars: compression, whiteouts, the safety filter, safe extraction and writing."""

from dockyard.archive.compression import Compression, compressed_writer, decompressed_chunks, detect
from dockyard.archive.extract import apply_layer
from dockyard.archive.safety import layer_filter
from dockyard.archive.tarformat import EntryType, Member
from dockyard.archive.whiteouts import Keep, Opaque, Remove, classify
from dockyard.archive.writer import write_diff, write_tar

__all__ = [
    "Compression",
    "EntryType",
    "Keep",
    "Member",
    "Opaque",
    "Remove",
    "apply_layer",
    "classify",
    "compressed_writer",
    "decompressed_chunks",
    "detect",
    "layer_filter",
    "write_diff",
    "write_tar",
]
