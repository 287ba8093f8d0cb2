"""Local volumes: records in the metadata database, directories under volumes/<name>/_data,
the local driver's mount options, and the copy-up of image content into a new volume."""
