"""Image builds: the Dockerfile builder run on the engine's images and containers."""
