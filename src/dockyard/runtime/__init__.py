"""OCI runtime spec in, isolated running process out; one shim per process."""
