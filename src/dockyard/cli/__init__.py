"""The `dockyard` command line: a client of the Engine API, like the docker CLI."""
