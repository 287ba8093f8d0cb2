"""Docker's `GET /events` filters as pure rules (moby's daemon/events/filter.go).

    type=container        the event's type, exact
    event=start           its action, exact; health_status, exec_create and exec_start also
                          match their `name: detail` forms
    scope=local           exact
    container=, daemon=, network=, volume=, plugin=, node=, service=, secret=, config=
                          the actor's ID or name attribute: equal to, or starting with, a value
                          (the key names no event type: `container=web` leaves out a network event
                          whose actor is not `web`)
    image=busybox         the image's ID or name, with or without its tag
    label=k[=v]           the actor's attributes, every one must hold

Every key must hold (one of its values); an unknown key is refused.
"""

from __future__ import annotations

from dockyard.engine.containers.rules import labels_match
from dockyard.errors import InvalidArgument
from dockyard.oci.reference import parse_reference

NAMED = ("container", "daemon", "network", "volume", "plugin", "node", "service", "secret", "config")
ACCEPTED = frozenset((*NAMED, "type", "event", "scope", "image", "label"))
_FUZZY_EVENTS = ("health_status", "exec_create", "exec_start")


def check_filters(filters: dict[str, list[str]]) -> None:
    """Refuse a filter key that `docker events` does not know. Raises InvalidArgument."""
    for key in filters:
        if key not in ACCEPTED:
            raise InvalidArgument(f"Invalid filter '{key}'")


def _fuzzy(values: list[str], source: str) -> bool:
    return any(source == v or source.startswith(v) for v in values)


def _action(event: dict, values: list[str]) -> bool:
    if any(v in _FUZZY_EVENTS for v in values):
        return _fuzzy(values, event["Action"])
    return event["Action"] in values


def _familiar_name(image: str) -> str:
    try:
        return parse_reference(image).familiar_name()
    except InvalidArgument:
        return image


def _image(event: dict, values: list[str]) -> bool:
    actor = event["Actor"]
    name = actor.get("Attributes", {}).get("name" if event["Type"] == "image" else "image", "")
    candidates = {actor["ID"], name, _familiar_name(actor["ID"]), _familiar_name(name)} if name else {actor["ID"]}
    return bool(candidates & set(values))


def matches(event: dict, filters: dict[str, list[str]]) -> bool:
    """Whether a `docker events` subscriber with these filters receives the event."""
    actor = event["Actor"]
    attrs = actor.get("Attributes", {})
    for key, values in filters.items():
        if key in NAMED:
            held = _fuzzy(values, actor["ID"]) or _fuzzy(values, attrs.get("name", ""))
        elif key == "type":
            held = event["Type"] in values
        elif key == "event":
            held = _action(event, values)
        elif key == "scope":
            held = event.get("scope", "local") in values
        elif key == "image":
            held = _image(event, values)
        else:  # label; check_filters refused any other key
            held = labels_match(attrs, values)
        if not held:
            return False
    return True
