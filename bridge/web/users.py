"""Who may use the web console: a users file of ``name:role:argon2 hash`` lines.

The file is written by hand with ``centra-bridge web hash-password``; it lives in
``[web] users_file`` or in the systemd credential ``centra_web_users``. Passwords are never
kept, only argon2id hashes (argon2-cffi), checked in constant time by the library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bridge.config import WEB_USERS_CREDENTIAL, ConfigError, WebSettings


class Role(StrEnum):
    """``read`` sees every page; ``operate`` also retries, skips and replays."""

    READ = "read"
    OPERATE = "operate"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    password_hash: str

    @property
    def may_operate(self) -> bool:
        return self.role is Role.OPERATE


_HASHER = PasswordHasher()
#: Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` for the users file."""
    if not password:
        raise ConfigError("web hash-password: the password is empty")
    return _HASHER.hash(password)


def user_line(name: str, role: Role, password: str) -> str:
    """One line of the users file."""
    _check_name(name, "web hash-password")
    return f"{name}:{role}:{hash_password(password)}"


@dataclass(frozen=True, slots=True)
class Users:
    """The console's users, by name."""

    by_name: Mapping[str, User]
    #: Where they were read from, for messages.
    source: str

    def check(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else None (unknown name included)."""
        user = self.by_name.get(name)
        try:
            _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    @classmethod
    def parse(cls, text: str, source: str) -> Users:
        """Read ``name:role:hash`` lines (``#`` comments and blank lines allowed)."""
        users: dict[str, User] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{source}: line {number}"
            name, _, rest = line.partition(":")
            role, _, password_hash = rest.partition(":")
            _check_name(name, where)
            if role not in tuple(Role):
                raise ConfigError(f"{where}: role must be read or operate, got {role!r}")
            if not password_hash.startswith("$argon2"):
                raise ConfigError(
                    f"{where}: not an argon2 hash (make one with centra-bridge web hash-password)"
                )
            if name in users:
                raise ConfigError(f"{where}: user {name!r} is listed twice")
            users[name] = User(name, Role(role), password_hash)
        if not users:
            raise ConfigError(f"{source}: no users (add one with centra-bridge web hash-password)")
        return cls(users, source)


def load_users(settings: WebSettings, environ: Mapping[str, str] = os.environ) -> Users:
    """The users of ``[web] users_file``, else of the systemd credential; ConfigError when
    neither is there or the file is not right."""
    path = settings.users_file
    if path is None:
        credentials = environ.get("CREDENTIALS_DIRECTORY")
        if not credentials or not (Path(credentials) / WEB_USERS_CREDENTIAL).is_file():
            raise ConfigError(
                "[web] users_file: missing: set it, or hand the file over as the systemd "
                f"credential {WEB_USERS_CREDENTIAL}"
            )
        path = Path(credentials) / WEB_USERS_CREDENTIAL
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"[web] users_file: cannot read {path}: {exc.strerror}") from None
    return Users.parse(text, str(path))


def _check_name(name: str, where: str) -> None:
    if not name or ":" in name or name != name.strip() or not name.isprintable():
        raise ConfigError(f"{where}: user name must be printable, without ':' or spaces around")
