"""Per-repository access rules (pure): who may pull, push or delete which repositories.

A rule names repositories by pattern, the users and groups it applies to, and the actions
it grants; a user's rights on a repository are the union over every rule that matches both.

    pattern    `*` matches within one path component, `**` across components, anything else
               literally: `team/*` matches `team/app` but not `team/a/b`; `team/**` both.
    users      user names from htpasswd; `*` is every signed-in user
    groups     group names from the config's `[auth.groups]`

With no rules at all, a signed-in user may do everything (the registry of one team).
Anonymous access is never granted by a rule: it is the `anonymous` mode alone. With rules, the
catalog lists only the repositories the caller may pull.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from dockyard.errors import InvalidArgument

REPOSITORY_ACTIONS = frozenset({"pull", "push", "delete"})


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*)", pattern)
    regex = "".join("[^/]*" if p == "*" else ".*" if p == "**" else re.escape(p) for p in parts)
    return re.compile(rf"\A{regex}\Z")


def matches(pattern: str, name: str) -> bool:
    """Whether a repository `name` matches a rule's `pattern` (see the module docstring)."""
    return bool(_compile(pattern).match(name))


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Grants `actions` on repositories matching `repository` to `users` and members of `groups`."""

    repository: str
    actions: frozenset[str]
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def applies(self, user: str, member_of: frozenset[str], name: str) -> bool:
        who = "*" in self.users or user in self.users or bool(self.groups & member_of)
        return who and matches(self.repository, name)


def _names(doc: Mapping, key: str, where: str) -> frozenset[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidArgument(f"{where}.{key} must be a list of names")
    return frozenset(value)


def parse_rules(docs: object) -> tuple[AccessRule, ...]:
    """`[[auth.access]]` tables -> rules. Raises InvalidArgument naming the bad entry."""
    if not isinstance(docs, list):
        raise InvalidArgument("auth.access must be an array of tables ([[auth.access]])")
    rules = []
    for index, doc in enumerate(docs):
        where = f"auth.access[{index}]"
        if not isinstance(doc, dict):
            raise InvalidArgument(f"{where} must be a table")
        unknown = set(doc) - {"repository", "actions", "users", "groups"}
        if unknown:
            raise InvalidArgument(f"unknown config key: {where}.{sorted(unknown)[0]}")
        pattern = doc.get("repository")
        if not isinstance(pattern, str) or not pattern:
            raise InvalidArgument(f"{where}.repository must be a repository name pattern")
        actions = _names(doc, "actions", where)
        if not actions or not actions <= REPOSITORY_ACTIONS:
            raise InvalidArgument(f"{where}.actions must be some of pull, push, delete")
        users, groups = _names(doc, "users", where), _names(doc, "groups", where)
        if not users and not groups:
            raise InvalidArgument(f"{where} names no users or groups")
        rules.append(AccessRule(pattern, actions, users, groups))
    return tuple(rules)


def parse_groups(doc: object) -> Mapping[str, frozenset[str]]:
    """`[auth.groups]` (`name = ["user", ...]`) -> {group: members}. Raises InvalidArgument."""
    if not isinstance(doc, dict):
        raise InvalidArgument("auth.groups must be a table of name = [users]")
    return {name: _names(doc, name, "auth.groups") for name in doc}


def rights(user: str, name: str, rules: Iterable[AccessRule], groups: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The actions a signed-in `user` has on repository `name`."""
    rules = tuple(rules)
    if not rules:
        return REPOSITORY_ACTIONS
    member_of = frozenset(group for group, members in groups.items() if user in members)
    granted: set[str] = set()
    for rule in rules:
        if rule.applies(user, member_of, name):
            granted |= rule.actions
    return frozenset(granted)
