"""`docker exec`: processes started inside running containers."""
