"""Images: records, tags, import, save/load, pull/push, built on content and snapshots."""
