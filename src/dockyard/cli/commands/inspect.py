"""`dockyard inspect [-f FORMAT] [-s] [--type container|image|network|volume] NAME...`."""

from __future__ import annotations

import json
import sys

from dockyard.cli.client import path_id
from dockyard.cli.flags import Parser
from dockyard.errors import NotFound

ENDPOINTS = {
    "container": "/containers/{}/json",
    "image": "/images/{}/json",
    "network": "/networks/{}",
    "volume": "/volumes/{}",
}
MISSING = {
    "container": "No such container",
    "image": "No such image",
    "network": "No such network",
    "volume": "No such volume",
}


def fetch(client, ref: str, kind: str | None, size: bool) -> dict:
    """Inspect one object by kind, or try each kind in docker's order."""
    for candidate in [kind] if kind else list(ENDPOINTS):
        query = {"size": True} if size and candidate == "container" else None
        try:
            return client.get(ENDPOINTS[candidate].format(path_id(ref)), query)
        except NotFound:
            continue
    raise NotFound(f"{MISSING[kind]}: {ref}" if kind else f"No such object: {ref}")


def print_objects(objects: list[dict], fmt: str | None) -> None:
    """JSON array with 4-space indent, or the template once per object."""
    if not fmt:
        text = json.dumps(objects, indent=4, ensure_ascii=False) if objects else "[]"
        sys.stdout.write(text + "\n")
        return
    from dockyard.cli.formatting import Template, to_json

    template = Template(fmt.replace("\\t", "\t").replace("\\n", "\n")) if fmt != "json" else None
    for obj in objects:
        sys.stdout.write((template.render(obj) if template else to_json(obj)) + "\n")


def inspect_main(ctx, argv: list[str], kind: str | None) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on objects")
    parser.add_argument("-f", "--format")
    parser.add_argument("-s", "--size", action="store_true")
    if kind is None:
        parser.add_argument("--type", choices=list(ENDPOINTS))
    parser.add_argument("names", nargs="+")
    ns = parser.parse(argv)
    kind = kind or ns.type
    objects, failed = [], False
    for ref in ns.names:
        try:
            objects.append(fetch(ctx.client, ref, kind, ns.size))
        except NotFound as exc:
            sys.stderr.write(f"Error: {exc}\n" if kind is None else f"Error response from daemon: {exc}\n")
            failed = True
    if objects or not ns.format:
        print_objects(objects, ns.format)
    return 1 if failed else 0


def main(ctx, argv: list[str]) -> int:
    return inspect_main(ctx, argv, None)


def container(ctx, argv: list[str]) -> int:
    return inspect_main(ctx, argv, "container")


def image(ctx, argv: list[str]) -> int:
    return inspect_main(ctx, argv, "image")
