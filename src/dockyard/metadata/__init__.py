"""The SQLite database of images, tags, containers, networks and volumes."""
