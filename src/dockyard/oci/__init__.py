"""Typed OCI objects: digests, descriptors, manifests, indexes, configs, references. No I/O."""
