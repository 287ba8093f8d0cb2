"""Unpacked layers keyed by chain ID, and container root filesystems as overlay mounts."""
