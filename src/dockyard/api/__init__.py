"""The Docker Engine API over HTTP/1.1 on a unix socket.

ApiServer(backends, socket_path)   bind the socket (0660); serve_forever(); shutdown()
Backends(containers, execs, images, system, networks=None, volumes=None)
                                   the engine objects, each implementing a Protocol of
                                   dockyard.api.backend

server.py      the socket, the selector loop for idle connections, the worker pool (pool.py)
connection.py  one client connection: read-ahead and the body's deadlines
http1.py       request heads and response heads, as pure functions over bytes
exchange.py    one request: body framing, routing, the three response kinds, hijack hand-off
schema.py      the JSON types of request bodies, checked before the engine sees them
routing.py     route table, `/v1.NN/` prefixes, version negotiation
routers/       one module per resource: decode, call one backend method, encode
versions.py    requests from older API versions brought to the current shape
errors.py      the one table from dockyard.errors classes to HTTP statuses
streams.py     multiplex frames, JSON lines, Content-Length bodies (chunked: dockyard.chunked)
hijack.py      splice a hijacked connection with an AttachStream
"""

from dockyard.api.backend import Backends
from dockyard.api.server import ApiServer

__all__ = ["ApiServer", "Backends"]
