"""The SQLite database (connection, schemas, one transaction per change); the tables
belong to the packages that use them (images/store.py, engine/containers/store.py, network/store.py)."""
