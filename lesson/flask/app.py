"""The lesson's Flask app: answers on port 5000.

As PID 1 in its container, python would ignore the SIGTERM of `stop` (and be killed after
the 10 s timeout): it exits on SIGTERM instead.
"""

import signal
import sys

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello from a container!\n"


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app.run(host="0.0.0.0", port=5000)
