"""Image verbs as the engine serves them: pull, push, commit, import, save, load, prune."""
