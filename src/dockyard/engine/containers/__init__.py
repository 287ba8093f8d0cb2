"""Containers: lifecycle, inspection, the record and its store, spec generation."""
