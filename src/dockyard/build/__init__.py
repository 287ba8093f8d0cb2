"""Dockerfile builds: the language (parser, instructions, shell expansion, .dockerignore)."""
