"""One typed, frozen settings tree built from a TOML file and the environment.

Only this module reads the environment. Every error names the file, the key and what is wrong,
so a typo in ``/etc/centra-bridge/config.toml`` is a one-line fix, not a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "CENTRA_BRIDGE_CONFIG"
PASSWORD_ENV = "CENTRA_BRIDGE_PASSWORD"  # noqa: S105 (a variable name)
#: Name of the systemd credential (``LoadCredential=centra_password:…``) holding the password.
PASSWORD_CREDENTIAL = "centra_password"  # noqa: S105 (a file name)

FLAVORS = ("soap", "navision-soap", "navision-api")
#: Event kinds Centra's ``type`` filter accepts (centra-soap.md §2.1).
EVENT_TYPES = (
    "all", "account", "customer", "invoice", "market", "order",
    "paymentterm", "pricelist", "salesrep", "shippingterm", "size", "warehouse",
)
#: How the login travels on ``navision/api``, which Centra's docs leave open.
NAVISION_API_LOGINS = ("basic", "body")

DEFAULT_TIMEOUT_S = 30.0
#: Far above a real page of 100 events, far below what would hurt memory.
DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
DEFAULT_DATABASE_URL = "sqlite:///centra-bridge.db"
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_RETRY_BASE_S = 30.0
DEFAULT_RETRY_MAX_S = 3600.0


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and key."""


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value; call it only where the secret is sent, never where it is printed."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class CentraSettings:
    """Where Centra is and how to talk to it."""

    endpoint: str
    username: str
    password: Secret
    flavor: str = "soap"
    timeout_s: float = DEFAULT_TIMEOUT_S
    event_type: str = "all"
    markets: tuple[str, ...] = ()
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: Only for flavor "navision-api": "basic" (HTTP Basic auth) or "body" (a <login> element).
    navision_api_login: str = "basic"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str = DEFAULT_DATABASE_URL


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """Which code handles which event type, and how failures are retried."""

    #: Event type → dotted path ("package.module:callable") replacing the built-in handler.
    custom: Mapping[str, str] = field(default_factory=dict)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_base_s: float = DEFAULT_RETRY_BASE_S
    retry_max_s: float = DEFAULT_RETRY_MAX_S


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = "info"
    #: "auto" (console on a terminal, JSON otherwise), "json" or "console".
    format: str = "auto"


@dataclass(frozen=True, slots=True)
class Settings:
    centra: CentraSettings
    database: DatabaseSettings = DatabaseSettings()
    handlers: HandlerSettings = HandlerSettings()
    logging: LoggingSettings = LoggingSettings()
    #: The file these settings came from, for messages.
    source: str = "<defaults>"


def config_path(explicit: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """The config file: ``--config`` wins over ``CENTRA_BRIDGE_CONFIG``."""
    chosen = explicit or environ.get(CONFIG_ENV)
    if not chosen:
        raise ConfigError(f"no configuration: pass --config FILE or set {CONFIG_ENV}")
    return Path(chosen)


def load(path: Path, environ: Mapping[str, str] = os.environ) -> Settings:
    """Read and check ``path``; raise ConfigError with file and key on any problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_mapping(data, source=str(path), base_dir=path.parent, environ=environ)


def from_mapping(
    data: Mapping[str, Any],
    *,
    source: str = "<config>",
    base_dir: Path = Path(),
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    """Build Settings from parsed TOML; relative file paths resolve against ``base_dir``."""
    reader = _Reader(source)
    reader.only_sections(data, ("centra", "database", "handlers", "logging"))
    centra = reader.section(data, "centra", required=True)
    database = reader.section(data, "database")
    handlers = reader.section(data, "handlers")
    logging_ = reader.section(data, "logging")
    return Settings(
        centra=_centra(reader, centra, base_dir, environ),
        database=_database(reader, database, base_dir),
        handlers=_handlers(reader, handlers),
        logging=_logging(reader, logging_),
        source=source,
    )


def _centra(
    r: _Reader, t: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]
) -> CentraSettings:
    r.only_keys(t, "centra", (
        "endpoint", "flavor", "username", "password", "password_file", "timeout",
        "event_type", "markets", "max_response_bytes", "navision_api_login",
    ))
    endpoint = r.string(t, "centra", "endpoint", required=True)
    if not endpoint.startswith(("http://", "https://")):
        r.fail("centra", "endpoint", f"must be an http:// or https:// URL, got {endpoint!r}")
    if "@" in endpoint.split("//", 1)[1].split("/", 1)[0]:
        r.fail("centra", "endpoint", "must not carry credentials; use username and password")
    markets = r.get(t, "centra", "markets", list, [])
    if not all(isinstance(m, str) and m for m in markets):
        r.fail("centra", "markets", "must be a list of non-empty market id strings")
    return CentraSettings(
        endpoint=endpoint,
        username=r.string(t, "centra", "username", required=True),
        password=_password(r, t, base_dir, environ),
        flavor=r.choice(t, "centra", "flavor", FLAVORS, "soap"),
        timeout_s=r.positive(t, "centra", "timeout", DEFAULT_TIMEOUT_S),
        event_type=r.choice(t, "centra", "event_type", EVENT_TYPES, "all"),
        markets=tuple(markets),
        max_response_bytes=int(
            r.positive(t, "centra", "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)
        ),
        navision_api_login=r.choice(
            t, "centra", "navision_api_login", NAVISION_API_LOGINS, "basic"
        ),
    )


def _password(
    r: _Reader, t: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]
) -> Secret:
    """The first of: password, password_file, $CENTRA_BRIDGE_PASSWORD, a systemd credential."""
    if "password" in t and "password_file" in t:
        r.fail("centra", "password", "give either password or password_file, not both")
    if "password" in t:
        return Secret(r.string(t, "centra", "password", required=True))
    if "password_file" in t:
        path = base_dir / r.string(t, "centra", "password_file", required=True)
        return Secret(_read_secret_file(r, path, "password_file"))
    if environ.get(PASSWORD_ENV):
        return Secret(environ[PASSWORD_ENV])
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / PASSWORD_CREDENTIAL).is_file():
        return Secret(_read_secret_file(r, Path(credentials) / PASSWORD_CREDENTIAL, "password"))
    r.fail(
        "centra", "password",
        f"missing: set password or password_file, or the environment variable {PASSWORD_ENV}",
    )
    raise AssertionError("unreachable")


def _read_secret_file(r: _Reader, path: Path, key: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        r.fail("centra", key, f"cannot read {path}: {exc.strerror}")
    if not value:
        r.fail("centra", key, f"{path} is empty")
    return value


def _database(r: _Reader, t: Mapping[str, Any], base_dir: Path) -> DatabaseSettings:
    r.only_keys(t, "database", ("url",))
    url = r.string(t, "database", "url") or DEFAULT_DATABASE_URL
    if not url.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        r.fail("database", "url", "must start with sqlite:// or postgresql+psycopg://")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        url = prefix + str(base_dir / url[len(prefix):])
    return DatabaseSettings(url=url)


def _handlers(r: _Reader, t: Mapping[str, Any]) -> HandlerSettings:
    r.only_keys(t, "handlers", ("custom", "max_attempts", "retry_base", "retry_max"))
    custom = r.get(t, "handlers", "custom", dict, {})
    for event_type, target in custom.items():
        if not isinstance(target, str) or ":" not in target:
            r.fail("handlers", f"custom.{event_type}", "must be 'package.module:callable'")
    max_attempts = r.get(t, "handlers", "max_attempts", int, DEFAULT_MAX_ATTEMPTS)
    if max_attempts < 1:
        r.fail("handlers", "max_attempts", f"must be at least 1, got {max_attempts}")
    base = r.positive(t, "handlers", "retry_base", DEFAULT_RETRY_BASE_S)
    cap = r.positive(t, "handlers", "retry_max", DEFAULT_RETRY_MAX_S)
    if cap < base:
        r.fail("handlers", "retry_max", f"must be at least retry_base ({base}), got {cap}")
    return HandlerSettings(
        custom=dict(custom), max_attempts=max_attempts, retry_base_s=base, retry_max_s=cap
    )


def _logging(r: _Reader, t: Mapping[str, Any]) -> LoggingSettings:
    r.only_keys(t, "logging", ("level", "format"))
    return LoggingSettings(
        level=r.choice(t, "logging", "level", ("debug", "info", "warning", "error"), "info"),
        format=r.choice(t, "logging", "format", ("auto", "json", "console"), "auto"),
    )


class _Reader:
    """Typed look-ups that fail with ``file: [section] key: problem``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, section: str, key: str, problem: str) -> None:
        raise ConfigError(f"{self.source}: [{section}] {key}: {problem}")

    def only_sections(self, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for name in data:
            if name not in allowed:
                raise ConfigError(
                    f"{self.source}: [{name}]: unknown section (known: {', '.join(allowed)})"
                )

    def section(
        self, data: Mapping[str, Any], name: str, *, required: bool = False
    ) -> Mapping[str, Any]:
        if name not in data:
            if required:
                raise ConfigError(f"{self.source}: [{name}]: section missing")
            return {}
        value = data[name]
        if not isinstance(value, dict):
            raise ConfigError(f"{self.source}: {name}: must be a [{name}] table")
        return value

    def only_keys(self, t: Mapping[str, Any], section: str, allowed: tuple[str, ...]) -> None:
        for key in t:
            if key not in allowed:
                self.fail(section, key, f"unknown key (known: {', '.join(allowed)})")

    def get(self, t: Mapping[str, Any], section: str, key: str, kind: type, default: Any) -> Any:
        if key not in t:
            return default
        value = t[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(section, key, f"must be {_KIND_NAMES[kind]}, got {value!r}")
        return value

    def string(
        self, t: Mapping[str, Any], section: str, key: str, *, required: bool = False
    ) -> str:
        value = self.get(t, section, key, str, "")
        if required and not value.strip():
            self.fail(section, key, "missing" if key not in t else "must not be empty")
        return value

    def choice(
        self, t: Mapping[str, Any], section: str, key: str, allowed: tuple[str, ...], default: str
    ) -> str:
        value = self.get(t, section, key, str, default)
        if value not in allowed:
            self.fail(section, key, f"must be one of {', '.join(allowed)}; got {value!r}")
        return value

    def positive(self, t: Mapping[str, Any], section: str, key: str, default: float) -> float:
        value = t.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(section, key, f"must be a positive number, got {value!r}")
        return float(value)


_KIND_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "a table"}
