"""Content-addressed blobs, verified before they become visible."""
