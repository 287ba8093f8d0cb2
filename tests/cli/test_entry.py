"""The `dockyard` command's entry: the CLI, the daemon and the registry are separate programs,
and the CLI never imports the other two (nor the engine)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import SRC, run_cli

SERVER_SIDE = ("dockyard.daemon", "dockyard.engine", "dockyard.registry")
_LOADED = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('LOADED ' + ' '.join(sorted(m for m in sys.modules"
    f" if m.startswith({SERVER_SIDE!r}))) + '\\n'))\n"
)


def _python(code: str, *argv: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": SRC}
    environ.pop("DOCKYARD_HOST", None)
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=environ, timeout=60)


def test_no_cli_module_imports_the_daemon_engine_or_registry() -> None:
    code = (
        "import pkgutil, sys\n"
        "import dockyard.cli.main, dockyard.cli.commands\n"
        "for package in (dockyard.cli, dockyard.cli.commands):\n"
        "    for info in pkgutil.iter_modules(package.__path__, package.__name__ + '.'):\n"
        "        __import__(info.name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({SERVER_SIDE!r})))\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_no_cli_source_names_them_even_in_a_function() -> None:
    """Lazy imports inside a verb count too: the CLI hands over to no server-side code."""
    offenders = []
    for path in sorted((Path(SRC) / "dockyard" / "cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(SERVER_SIDE)]
    assert offenders == []


def test_a_cli_verb_through_the_entry_loads_no_server_side_module() -> None:
    code = _LOADED + "from dockyard.__main__ import main\nmain()\n"
    done = _python(code, "-H", "unix:///nonexistent/d.sock", "version")
    assert done.returncode == 1 and "Cannot connect to the dockyard daemon" in done.stderr, done.stderr
    assert "LOADED \n" in done.stderr


def test_the_entry_runs_the_registry_and_the_daemon_by_their_verbs() -> None:
    code = _LOADED + "from dockyard.__main__ import main\nmain()\n"
    done = _python(code, "registry", "--help")
    assert done.returncode == 0 and "dockyard registry" in done.stdout
    assert "dockyard.registry.cli" in done.stderr.split("LOADED ")[1]
    done = _python(code, "-H", "tcp://127.0.0.1:2375", "daemon")
    assert done.returncode == 1 and "only unix:// sockets are supported" in done.stderr
    assert "dockyard.daemon" in done.stderr.split("LOADED ")[1]
    assert _python(code, "daemon", "--no-such-flag").returncode == 125


def test_help_still_names_the_daemon_and_the_registry() -> None:
    done = run_cli(["--help"])
    assert done.returncode == 0
    assert b"daemon" in done.stdout and b"registry" in done.stdout


def test_the_hot_verbs_import_only_what_they_use() -> None:
    """`run -d` sends no stream and `ps` none at all: neither pays for the attachment's
    modules, and no verb pays for contextlib (~1-3 ms of every command, decision 0083)."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('LOADED ' + ' '.join(sorted(m for m in sys.modules"
        " if m in ('contextlib', 'dockyard.cli.attachment'))) + '\\n'))\n"
        "from dockyard.__main__ import main\nmain()\n"
    )
    for verb in (["run", "-d", "busybox", "true"], ["ps"], ["run", "busybox", "true"]):
        done = _python(code, "-H", "unix:///nonexistent/d.sock", *verb)
        assert "Cannot connect to the dockyard daemon" in done.stderr, done.stderr
        loaded = done.stderr.split("LOADED ")[1].split()
        assert loaded == ([] if "-d" in verb or verb == ["ps"] else ["dockyard.cli.attachment"]), verb
