"""One module per dockyard verb: parse flags, call the client, print."""
