"""The daemon describing itself: version, info, events, df."""
