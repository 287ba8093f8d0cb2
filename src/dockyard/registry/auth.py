"""Access control: anonymous modes, htpasswd (bcrypt) basic auth, and bearer tokens with scopes.

    mode          credentials on /v2/...            challenge on 401
    anonymous     none                              (403 DENIED when the mode forbids the action)
    basic         Authorization: Basic (htpasswd)   Basic realm="<service>"
    token         Authorization: Bearer <token>     Bearer realm="<url>/token",service=..,scope=..

Tokens are HS256 JWTs signed with the config's secret and carry the granted access
(`[{"type": "repository", "name": ..., "actions": [...]}]`), like distribution's token auth:
the intersection of the scopes asked for and the caller's rights, never more.
A signed-in user has the rights the access rules give (registry/access.py; everything when
there are none); anonymous clients get what the `anonymous` mode allows, which is nothing
by default once htpasswd or tokens are configured, and read-only at most.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass

import bcrypt

from dockyard.errors import InvalidArgument
from dockyard.registry import access, errcodes
from dockyard.registry.config import Config
from dockyard.registry.errcodes import RegistryError

ALL_ACTIONS = frozenset({"pull", "push", "delete", "*"})
ANONYMOUS = {"read-write": ALL_ACTIONS, "read-only": frozenset({"pull"}), "none": frozenset()}


@dataclass(frozen=True, slots=True)
class Scope:
    """What one request needs: `repository:<name>:<action>` or `registry:catalog:*`."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, _, rest = text.partition(":")
        name, _, actions = rest.rpartition(":")
        if not kind or not name:
            raise InvalidArgument(f"invalid scope: {text}")
        return cls(kind, name, tuple(a for a in actions.split(",") if a))


def read_htpasswd(path: str) -> dict[str, bytes]:
    """`user:hash` lines; only bcrypt hashes ($2y$, $2b$, $2a$) are accepted."""
    users = {}
    with open(path, encoding="utf-8") as src:
        for line in src:
            user, sep, hashed = line.strip().partition(":")
            if not sep or not user:
                continue
            if not hashed.startswith(("$2y$", "$2b$", "$2a$")):
                raise InvalidArgument(f"htpasswd entry for {user} is not bcrypt (use htpasswd -B)")
            users[user] = hashed.encode()
    return users


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authorizer:
    """Decides whether a request may act on a scope, and issues tokens from `/token`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.users = read_htpasswd(config.htpasswd) if config.htpasswd else {}
        self.secret = (config.token_secret or secrets.token_hex(32)).encode()
        self.anonymous = ANONYMOUS[config.anonymous_access]
        self._verified: dict[tuple[str, bytes], bool] = {}
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return "token" if self.config.token else "basic" if self.config.htpasswd else "anonymous"

    def check_password(self, user: str, password: str) -> bool:
        """bcrypt check, remembered per (user, password hash) because bcrypt is slow on purpose."""
        key = (user, hashlib.sha256(password.encode()).digest())
        with self._lock:
            known = self._verified.get(key)
        if known is None:
            hashed = self.users.get(user)
            known = hashed is not None and bcrypt.checkpw(password.encode(), hashed.replace(b"$2y$", b"$2b$", 1))
            with self._lock:
                self._verified[key] = known
        return known

    def basic_user(self, header: str | None) -> str | None:
        """The user an `Authorization: Basic` header proves, None when absent. Raises UNAUTHORIZED when wrong."""
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", "-"
        if not user and not password:
            return None  # clients with no credentials send an empty pair after a Basic challenge
        if not self.check_password(user, password):
            raise RegistryError(errcodes.UNAUTHORIZED, None, "authentication required", self._challenge(None, None))
        return user

    def rights(self, user: str | None, scope: Scope) -> frozenset[str]:
        """Every action `user` (None: anonymous) may perform on the resource `scope` names."""
        if user is None:
            return self.anonymous
        if scope.type == "repository":
            return access.rights(user, scope.name, self.config.access, self.config.groups)
        if scope.type == "registry" and scope.name == "catalog":
            return frozenset({"*"})
        return frozenset()

    def granted(self, user: str | None, scope: Scope) -> tuple[str, ...]:
        """The actions of `scope` that `user` may perform (`*` asks for all of them)."""
        have = self.rights(user, scope)
        out: list[str] = []
        for action in scope.actions:
            if action in have:
                out.append(action)
            elif action == "*" and scope.type == "repository":
                out.extend(sorted(have & access.REPOSITORY_ACTIONS))
        return tuple(dict.fromkeys(out))

    # tokens

    def issue(self, user: str | None, scopes: list[Scope]) -> str:
        """A signed token granting each scope's permitted actions, valid for at least the TTL
        (`exp` rounded up: rounded down, a token issued late in a second lived up to a second
        less than the `expires_in` its client was told)."""
        issued = time.time()
        now = int(issued)
        access = [{"type": s.type, "name": s.name, "actions": list(self.granted(user, s))} for s in scopes]
        claims = {
            "iss": self.config.service,
            "aud": self.config.service,
            "sub": user or "",
            "iat": now,
            "nbf": now - 5,
            "exp": math.ceil(issued + self.config.token_ttl),
            "access": access,
        }
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims).encode())
        signature = hmac.new(self.secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(signature)}"

    def claims(self, token: str) -> dict | None:
        """The claims of a valid, unexpired token of ours, else None."""
        try:
            head, body, signature = token.split(".")
            expected = hmac.new(self.secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(signature)):
                return None
            claims = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            return None
        now = time.time()
        if claims.get("aud") != self.config.service or not claims.get("nbf", 0) <= now < claims.get("exp", 0):
            return None
        return claims

    # decisions

    def _challenge(self, scope: Scope | None, realm: str | None, error: str | None = None) -> list[tuple[str, str]]:
        if self.mode != "token":
            return [("www-authenticate", f'Basic realm="{self.config.service}"')]
        value = f'Bearer realm="{realm}",service="{self.config.service}"'
        if scope is not None:
            value += f',scope="{scope}"'
        if error:
            value += f',error="{error}"'
        return [("www-authenticate", value)]

    def _token_allows(self, header: str | None, scope: Scope | None, realm: str) -> str | None:
        if not header or not header.lower().startswith("bearer "):
            raise RegistryError(errcodes.UNAUTHORIZED, None, None, self._challenge(scope, realm))
        claims = self.claims(header[7:].strip())
        if claims is None:
            raise RegistryError(
                errcodes.UNAUTHORIZED, None, "invalid or expired token", self._challenge(scope, realm, "invalid_token")
            )
        user = claims.get("sub") or None
        if scope is None:
            return user
        for entry in claims.get("access", []):
            if (
                entry.get("type") == scope.type
                and entry.get("name") == scope.name
                and set(scope.actions) <= set(entry.get("actions", ()))
            ):
                return user
        raise RegistryError(
            errcodes.UNAUTHORIZED, None, "insufficient scope", self._challenge(scope, realm, "insufficient_scope")
        )

    def authorize(self, authorization: str | None, scope: Scope | None, realm: str) -> str | None:
        """Let the request through, returning its user (None: anonymous), or raise UNAUTHORIZED (with a
        challenge) or DENIED.

        `scope` None is the `/v2/` check: valid credentials pass; anonymous clients pass only
        when no credentials are configured (else the 401 tells them where to authenticate).
        """
        if self.mode == "token":
            return self._token_allows(authorization, scope, realm)
        user = self.basic_user(authorization)
        if scope is not None and set(scope.actions) <= set(self.granted(user, scope)):
            return user
        if user is None and self.mode == "basic":
            raise RegistryError(errcodes.UNAUTHORIZED, None, None, self._challenge(scope, realm))
        if scope is not None:
            raise RegistryError(errcodes.DENIED)
        return user

    def visible(self, user: str | None, repositories: list[str]) -> list[str]:
        """The repositories `user` may pull from (what the catalog shows them)."""
        if not self.config.access:
            return repositories
        return [name for name in repositories if "pull" in self.rights(user, Scope("repository", name, ("pull",)))]
