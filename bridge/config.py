"""One typed, frozen settings tree built from a TOML file and the environment.

Only this module reads the environment. Every error names the file, the key and what is wrong,
so a typo in ``/etc/centra-bridge/config.toml`` is a one-line fix, not a traceback.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import BridgeError, ExitCode

CONFIG_ENV = "CENTRA_BRIDGE_CONFIG"
PASSWORD_ENV = "CENTRA_BRIDGE_PASSWORD"  # noqa: S105 (a variable name)
#: Name of the systemd credential (``LoadCredential=centra_password:…``) holding the password.
PASSWORD_CREDENTIAL = "centra_password"  # noqa: S105 (a file name)
TOKEN_ENV = "CENTRA_BRIDGE_TOKEN"  # noqa: S105 (a variable name)
#: Name of the systemd credential (``LoadCredential=centra_token:…``) holding the API token.
TOKEN_CREDENTIAL = "centra_token"  # noqa: S105 (a file name)

#: The SOAP endpoints, and "graphql": the GraphQL Integration API's events.
FLAVORS = ("soap", "navision-soap", "navision-api", "graphql")
GRAPHQL = "graphql"
#: Event kinds Centra's ``type`` filter accepts (centra-soap.md §2.1).
EVENT_TYPES = (
    "all",
    "account",
    "customer",
    "invoice",
    "market",
    "order",
    "paymentterm",
    "pricelist",
    "salesrep",
    "shippingterm",
    "size",
    "warehouse",
)
#: How the login travels on ``navision/api``, which Centra's docs leave open.
NAVISION_API_LOGINS = ("basic", "body")

DEFAULT_TIMEOUT_S = 30.0
#: Event dates without an offset are read in this zone unless ``[centra] timezone`` says otherwise.
DEFAULT_TIMEZONE = "UTC"
#: Far above a real page of 100 events, far below what would hurt memory.
DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024
DEFAULT_DATABASE_URL = "sqlite:///centra-bridge.db"
DEFAULT_CENTRA_ATTEMPTS = 5
DEFAULT_CENTRA_RETRY_BASE_S = 1.0
DEFAULT_CENTRA_RETRY_MAX_S = 30.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_RETRY_BASE_S = 30.0
DEFAULT_RETRY_MAX_S = 3600.0


class ConfigError(BridgeError):
    """The configuration or the command line cannot be used; the message names the key."""

    exit_code = ExitCode.CONFIG


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
    #: SOAP flavors only: the login sent with every call.
    username: str
    password: Secret
    flavor: str = "soap"
    #: Flavor "graphql" only: the Integration API token (``Authorization: Bearer``).
    token: Secret = field(default_factory=lambda: Secret(""))
    #: Flavor "graphql": object types listened to besides those the handlers and sinks need
    #: (Centra's names: "Return", "Shipment"…).
    listen: tuple[str, ...] = ()
    #: Flavor "graphql": the day the token expires, as AMS showed it when the token was made
    #: (Centra's API does not report it); ``status`` and the metrics count the days left.
    token_expires: date | None = None
    #: Flavor "graphql": the integration name the token must belong to (AMS, API tokens);
    #: its queue is the integration's, so another name means another system's events.
    integration: str = ""
    timeout_s: float = DEFAULT_TIMEOUT_S
    event_type: str = "all"
    markets: tuple[str, ...] = ()
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: The merchant's time zone (IANA name): event dates sent without an offset are in it.
    timezone: str = DEFAULT_TIMEZONE
    #: Only for flavor "navision-api": "basic" (HTTP Basic auth) or "body" (a <login> element).
    navision_api_login: str = "basic"
    #: Tries per SOAP call when Centra is unreachable, times out or answers 5xx/429.
    max_attempts: int = DEFAULT_CENTRA_ATTEMPTS
    retry_base_s: float = DEFAULT_CENTRA_RETRY_BASE_S
    retry_max_s: float = DEFAULT_CENTRA_RETRY_MAX_S
    #: Where the password was read from ("systemd credential …"), for ``config check``;
    #: ``PASSWORD_NOT_READ`` when the command needs none.
    password_source: str = ""


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
class ScheduleSettings:
    """How often the daemon (``centra-bridge run``) does each job; seconds, fractions allowed."""

    poll_s: float = 10.0
    #: Each poll starts up to this much later, so many bridges do not hit Centra in step.
    poll_jitter_s: float = 1.0
    retry_s: float = 30.0
    push_s: float = 30.0
    housekeeping_s: float = 3600.0
    #: Handled, ignored and superseded events are deleted this long after handling.
    retention_days: float = 30.0
    #: Polls that fail on an unreachable Centra back off, doubling up to this.
    backoff_max_s: float = 300.0
    #: After Centra refused the login, the next try waits this long.
    auth_retry_s: float = 300.0
    #: No poll finished (or page stored) for this long: systemd's watchdog is no longer fed.
    stall_after_s: float = 600.0


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """Prometheus metrics over HTTP; port 0 (the default) serves none."""

    host: str = "127.0.0.1"
    port: int = 0


#: Seconds a web console login lasts.
DEFAULT_WEB_SESSION_S = 8 * 3600.0
#: Name of the systemd credential (``LoadCredential=centra_web_users:…``) holding the
#: web console's users file.
WEB_USERS_CREDENTIAL = "centra_web_users"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """The operators' web console; port 0 (the default) serves none."""

    host: str = "127.0.0.1"
    port: int = 0
    #: The users and their argon2 hashes; None: the systemd credential ``centra_web_users``.
    users_file: Path | None = None
    #: A login lasts this long (seconds), then the console asks again.
    session_s: float = DEFAULT_WEB_SESSION_S


#: Records per products_Update / customers_Update call.
DEFAULT_OUTBOX_BATCH_SIZE = 50
#: A pushed field is expected back in an event for this long (seconds); see bridge.outbox.echo.
DEFAULT_ECHO_WINDOW_S = 86400.0
#: Seconds a drop file must be unchanged before it is taken.
DEFAULT_SETTLE_S = 2.0
SINK_KINDS = ("directory", "database", "python")
SINK_FORMATS = ("json", "xml")


@dataclass(frozen=True, slots=True)
class OutboxSettings:
    """How ERP updates reach Centra: batch size, the drop directory, retries, echoes."""

    batch_size: int = DEFAULT_OUTBOX_BATCH_SIZE
    #: Watched for ``*.jsonl`` files; None: no drop directory.
    directory: Path | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_base_s: float = DEFAULT_RETRY_BASE_S
    retry_max_s: float = DEFAULT_RETRY_MAX_S
    echo_window_s: float = DEFAULT_ECHO_WINDOW_S
    #: A drop file is taken once it has been unchanged this long (an ERP writing in place).
    settle_s: float = DEFAULT_SETTLE_S


@dataclass(frozen=True, slots=True)
class OrdersSettings:
    """What the bridge does on its own for orders."""

    #: Queue a lock for each order once its event reached the ERP's sink, so Centra hands
    #: the order over to the ERP (no more edits in Centra's admin).
    lock_on_import: bool = False


@dataclass(frozen=True, slots=True)
class SinkSettings:
    """Where the events of one type are delivered to the ERP, behind its handler."""

    kind: str
    #: directory: the folder files are written to.
    path: Path | None = None
    #: directory: "json" (the parsed object) or "xml" (the ``<event>`` as Centra sent it).
    format: str = "json"
    #: database: SQLAlchemy URL of the ERP's staging database, and the table (centra_<type>).
    url: str = ""
    table: str = ""
    #: python: "package.module:callable", called with the event.
    target: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    centra: CentraSettings
    database: DatabaseSettings = DatabaseSettings()
    handlers: HandlerSettings = HandlerSettings()
    logging: LoggingSettings = LoggingSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    metrics: MetricsSettings = MetricsSettings()
    web: WebSettings = WebSettings()
    outbox: OutboxSettings = OutboxSettings()
    orders: OrdersSettings = OrdersSettings()
    #: Event type → its delivery sink.
    sinks: Mapping[str, SinkSettings] = field(default_factory=dict)
    #: The file these settings came from, for messages.
    source: str = "<defaults>"


#: ``[schedule]`` keys and the ScheduleSettings attribute each one sets.
_SCHEDULE_KEYS = {
    "poll": "poll_s",
    "poll_jitter": "poll_jitter_s",
    "retry": "retry_s",
    "push": "push_s",
    "housekeeping": "housekeeping_s",
    "retention_days": "retention_days",
    "backoff_max": "backoff_max_s",
    "auth_retry": "auth_retry_s",
    "stall_after": "stall_after_s",
}

#: Every key each section accepts: the loader refuses any other, and a test holds
#: ``config/example.toml`` to the same list, so the example never falls behind.
SECTION_KEYS: Mapping[str, tuple[str, ...]] = {
    "centra": (
        "endpoint",
        "flavor",
        "username",
        "password",
        "password_file",
        "token",
        "token_file",
        "token_expires",
        "integration",
        "listen",
        "timeout",
        "event_type",
        "markets",
        "timezone",
        "max_response_bytes",
        "navision_api_login",
        "max_attempts",
        "retry_base",
        "retry_max",
    ),
    "database": ("url",),
    "handlers": ("custom", "max_attempts", "retry_base", "retry_max"),
    "logging": ("level", "format"),
    "schedule": tuple(_SCHEDULE_KEYS),
    "metrics": ("host", "port"),
    "web": ("host", "port", "users_file", "session"),
    "outbox": (
        "batch_size",
        "directory",
        "max_attempts",
        "retry_base",
        "retry_max",
        "echo_window",
        "settle",
    ),
    "orders": ("lock_on_import",),
}
#: The keys of a ``[sinks.<event type>]`` table besides ``kind``, by kind.
SINK_KEYS: Mapping[str, tuple[str, ...]] = {
    "directory": ("path", "format"),
    "database": ("url", "table"),
    "python": ("target",),
}
#: ``password_source`` of settings loaded without the password (read-only commands).
PASSWORD_NOT_READ = "not read (this command needs none)"  # noqa: S105 (a message)


def config_path(explicit: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """The config file: ``--config`` wins over ``CENTRA_BRIDGE_CONFIG``."""
    chosen = explicit or environ.get(CONFIG_ENV)
    if not chosen:
        raise ConfigError(f"no configuration: pass --config FILE or set {CONFIG_ENV}")
    return Path(chosen)


def load_settings(path: str | Path | None = None, *, read_password: bool = True) -> Settings:
    """The settings of ``path``, or of the file ``CENTRA_BRIDGE_CONFIG`` names: what the
    commands and a site's own script start from.

    ``read_password=False`` is for work that never calls Centra (``status``, listings): the
    password source is then neither looked for nor read, so a missing or unreadable one
    does not stand in the way, and ``centra.password`` is empty.
    """
    return load(config_path(None if path is None else str(path)), read_password=read_password)


def no_color(environ: Mapping[str, str] = os.environ) -> bool:
    """``$NO_COLOR`` set and not empty: no colours on a terminal either (https://no-color.org)."""
    return bool(environ.get("NO_COLOR"))


def journal_stream(environ: Mapping[str, str] = os.environ) -> str | None:
    """``$JOURNAL_STREAM`` ("device:inode"): systemd's sign of where it connected stderr."""
    return environ.get("JOURNAL_STREAM") or None


def load(
    path: Path, environ: Mapping[str, str] = os.environ, *, read_password: bool = True
) -> Settings:
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
    return from_mapping(
        data,
        source=str(path),
        base_dir=path.parent,
        environ=environ,
        read_password=read_password,
    )


def from_mapping(
    data: Mapping[str, Any],
    *,
    source: str = "<config>",
    base_dir: Path = Path(),
    environ: Mapping[str, str] = os.environ,
    read_password: bool = True,
) -> Settings:
    """Build Settings from parsed TOML; relative file paths resolve against ``base_dir``."""
    reader = _Reader(source)
    reader.only_sections(data, (*SECTION_KEYS, "sinks"))
    centra = reader.section(data, "centra", required=True)
    database = reader.section(data, "database")
    handlers = reader.section(data, "handlers")
    logging_ = reader.section(data, "logging")
    return Settings(
        centra=_centra(reader, centra, base_dir, environ if read_password else None),
        database=_database(reader, database, base_dir),
        handlers=_handlers(reader, handlers),
        logging=_logging(reader, logging_),
        schedule=_schedule(reader, reader.section(data, "schedule")),
        metrics=_metrics(reader, reader.section(data, "metrics")),
        web=_web(reader, reader.section(data, "web"), base_dir),
        outbox=_outbox(reader, reader.section(data, "outbox"), base_dir),
        orders=_orders(reader, reader.section(data, "orders")),
        sinks=_sinks(reader, reader.section(data, "sinks"), base_dir),
        source=source,
    )


def _centra(
    r: _Reader, t: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str] | None
) -> CentraSettings:
    """``environ`` None: the password is not wanted, so it is neither looked for nor read."""
    r.only_keys(t, "centra", SECTION_KEYS["centra"])
    endpoint = r.string(t, "centra", "endpoint", required=True)
    url = urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        r.fail("centra", "endpoint", f"must be an http:// or https:// URL, got {endpoint!r}")
    if url.username or url.password:
        r.fail("centra", "endpoint", "must not carry credentials; use username and password")
    flavor = r.choice(t, "centra", "flavor", FLAVORS, "soap")
    timezone = r.string(t, "centra", "timezone") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail(
            "centra",
            "timezone",
            f"unknown time zone {timezone!r} (an IANA name, e.g. Europe/Stockholm)",
        )
    graphql = flavor == GRAPHQL
    return CentraSettings(
        endpoint=endpoint,
        username=r.string(t, "centra", "username", required=not graphql),
        **({"password": Secret("")} if graphql else _password(r, t, base_dir, environ)),
        flavor=flavor,
        token=_token(r, t, base_dir, environ) if graphql and environ is not None else Secret(""),
        listen=_listen(r, t) if graphql else (),
        token_expires=_token_expires(r, t) if graphql else None,
        integration=r.string(t, "centra", "integration") if graphql else "",
        timeout_s=r.positive(t, "centra", "timeout", DEFAULT_TIMEOUT_S),
        event_type=r.choice(t, "centra", "event_type", EVENT_TYPES, "all"),
        markets=_market_ids(r, t),
        timezone=timezone,
        max_response_bytes=int(
            r.positive(t, "centra", "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)
        ),
        navision_api_login=r.choice(
            t, "centra", "navision_api_login", NAVISION_API_LOGINS, "basic"
        ),
        **_retry_keys(
            r,
            t,
            "centra",
            (DEFAULT_CENTRA_ATTEMPTS, DEFAULT_CENTRA_RETRY_BASE_S, DEFAULT_CENTRA_RETRY_MAX_S),
        ),
    )


def _market_ids(r: _Reader, t: Mapping[str, Any]) -> tuple[str, ...]:
    """Market ids as Centra takes them (text); whole numbers are read as a person writes
    them (``markets = [1, 2]`` is ``["1", "2"]``)."""
    markets = r.get(t, "centra", "markets", list, [])
    ids = [
        str(m) if isinstance(m, int) and not isinstance(m, bool) and m >= 0 else m for m in markets
    ]
    if not all(isinstance(m, str) and m.strip() for m in ids):
        r.fail(
            "centra", "markets", f"must be a list of market ids (numbers or text), got {markets!r}"
        )
    return tuple(ids)


def _password(
    r: _Reader, t: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str] | None
) -> dict[str, Any]:
    """The first of: password, password_file, $CENTRA_BRIDGE_PASSWORD, a systemd credential;
    with where it came from (never the password itself)."""
    if "password" in t and "password_file" in t:
        r.fail("centra", "password", "give either password or password_file, not both")
    if environ is None:
        return {"password": Secret(""), "password_source": PASSWORD_NOT_READ}
    if "password" in t:
        secret, source = r.string(t, "centra", "password", required=True), "[centra] password"
    elif "password_file" in t:
        file = base_dir / r.string(t, "centra", "password_file", required=True)
        secret, source = _read_secret_file(r, file, "password_file"), f"password_file {file}"
    elif environ.get(PASSWORD_ENV):
        secret, source = environ[PASSWORD_ENV], f"environment variable {PASSWORD_ENV}"
    elif (credential := _credential(environ)) is not None:
        secret = _read_secret_file(r, credential, "password")
        source = f"systemd credential {credential}"
    else:
        r.fail(
            "centra",
            "password",
            "missing: set password or password_file, or the environment variable "
            f"{PASSWORD_ENV}, or the systemd credential {PASSWORD_CREDENTIAL}",
        )
        raise AssertionError("unreachable")
    return {"password": Secret(secret), "password_source": source}


def _credential(environ: Mapping[str, str]) -> Path | None:
    """``$CREDENTIALS_DIRECTORY/centra_password`` when systemd handed it over (LoadCredential=)."""
    directory = environ.get("CREDENTIALS_DIRECTORY")
    path = Path(directory) / PASSWORD_CREDENTIAL if directory else None
    return path if path is not None and path.is_file() else None


def _token(r: _Reader, t: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]) -> Secret:
    """The first of: token, token_file, $CENTRA_BRIDGE_TOKEN, a systemd credential."""
    if "token" in t and "token_file" in t:
        r.fail("centra", "token", "give either token or token_file, not both")
    if "token" in t:
        return Secret(r.string(t, "centra", "token", required=True))
    if "token_file" in t:
        path = base_dir / r.string(t, "centra", "token_file", required=True)
        return Secret(_read_secret_file(r, path, "token_file"))
    if environ.get(TOKEN_ENV):
        return Secret(environ[TOKEN_ENV])
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / TOKEN_CREDENTIAL).is_file():
        return Secret(_read_secret_file(r, Path(credentials) / TOKEN_CREDENTIAL, "token"))
    r.fail(
        "centra",
        "token",
        f'missing for flavor "graphql": set token or token_file, or the environment '
        f"variable {TOKEN_ENV}",
    )
    raise AssertionError("unreachable")


def _listen(r: _Reader, t: Mapping[str, Any]) -> tuple[str, ...]:
    """Extra GraphQL object types to listen to, as Centra names them ("Return")."""
    names = r.get(t, "centra", "listen", list, [])
    if not all(isinstance(n, str) and n.isidentifier() for n in names):
        r.fail(
            "centra", "listen", f'must be a list of Centra object types ("Return"), got {names!r}'
        )
    return tuple(names)


def _token_expires(r: _Reader, t: Mapping[str, Any]) -> date | None:
    """``token_expires = 2027-01-31`` (a TOML date, or the same as text)."""
    value = t.get("token_expires")
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    r.fail("centra", "token_expires", f"must be a date like 2027-01-31, got {value!r}")
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
    r.only_keys(t, "database", SECTION_KEYS["database"])
    url = r.string(t, "database", "url") or DEFAULT_DATABASE_URL
    if not url.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        r.fail("database", "url", "must start with sqlite:// or postgresql+psycopg://")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
        url = prefix + str(base_dir / url[len(prefix) :])
    return DatabaseSettings(url=url)


def _handlers(r: _Reader, t: Mapping[str, Any]) -> HandlerSettings:
    r.only_keys(t, "handlers", SECTION_KEYS["handlers"])
    custom = r.get(t, "handlers", "custom", dict, {})
    for event_type, target in custom.items():
        if not isinstance(target, str) or ":" not in target:
            r.fail("handlers", f"custom.{event_type}", "must be 'package.module:callable'")
    return HandlerSettings(
        custom=dict(custom),
        **_retry_keys(
            r, t, "handlers", (DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BASE_S, DEFAULT_RETRY_MAX_S)
        ),
    )


def _retry_keys(
    r: _Reader, t: Mapping[str, Any], section: str, defaults: tuple[int, float, float]
) -> dict[str, Any]:
    """``max_attempts``, ``retry_base`` and ``retry_max`` of one section, checked together."""
    max_attempts = r.get(t, section, "max_attempts", int, defaults[0])
    if max_attempts < 1:
        r.fail(section, "max_attempts", f"must be at least 1, got {max_attempts}")
    base = r.positive(t, section, "retry_base", defaults[1])
    cap = r.positive(t, section, "retry_max", defaults[2])
    if cap < base:
        r.fail(section, "retry_max", f"must be at least retry_base ({base}), got {cap}")
    return {"max_attempts": max_attempts, "retry_base_s": base, "retry_max_s": cap}


def _logging(r: _Reader, t: Mapping[str, Any]) -> LoggingSettings:
    r.only_keys(t, "logging", SECTION_KEYS["logging"])
    return LoggingSettings(
        level=r.choice(t, "logging", "level", ("debug", "info", "warning", "error"), "info"),
        format=r.choice(t, "logging", "format", ("auto", "json", "console"), "auto"),
    )


def _schedule(r: _Reader, t: Mapping[str, Any]) -> ScheduleSettings:
    r.only_keys(t, "schedule", SECTION_KEYS["schedule"])
    defaults = ScheduleSettings()
    values: dict[str, float] = {}
    for key, attribute in _SCHEDULE_KEYS.items():
        if key == "poll_jitter" and t.get(key) == 0:
            values[attribute] = 0.0  # the one interval that may be zero
            continue
        values[attribute] = r.positive(t, "schedule", key, getattr(defaults, attribute))
    return ScheduleSettings(**values)


def _metrics(r: _Reader, t: Mapping[str, Any]) -> MetricsSettings:
    r.only_keys(t, "metrics", SECTION_KEYS["metrics"])
    port = r.get(t, "metrics", "port", int, 0)
    if not 0 <= port <= 65535:
        r.fail("metrics", "port", f"must be 0 (off) to 65535, got {port}")
    return MetricsSettings(host=r.string(t, "metrics", "host") or "127.0.0.1", port=port)


def _web(r: _Reader, t: Mapping[str, Any], base_dir: Path) -> WebSettings:
    r.only_keys(t, "web", SECTION_KEYS["web"])
    port = r.get(t, "web", "port", int, 0)
    if not 0 <= port <= 65535:
        r.fail("web", "port", f"must be 0 (off) to 65535, got {port}")
    users = r.string(t, "web", "users_file")
    return WebSettings(
        host=r.string(t, "web", "host") or "127.0.0.1",
        port=port,
        users_file=base_dir / users if users else None,
        session_s=r.positive(t, "web", "session", DEFAULT_WEB_SESSION_S),
    )


def _outbox(r: _Reader, t: Mapping[str, Any], base_dir: Path) -> OutboxSettings:
    r.only_keys(t, "outbox", SECTION_KEYS["outbox"])
    batch_size = r.get(t, "outbox", "batch_size", int, DEFAULT_OUTBOX_BATCH_SIZE)
    if batch_size < 1:
        r.fail("outbox", "batch_size", f"must be at least 1, got {batch_size}")
    directory = r.string(t, "outbox", "directory", required="directory" in t)
    return OutboxSettings(
        batch_size=batch_size,
        directory=base_dir / directory if directory else None,
        echo_window_s=r.positive(t, "outbox", "echo_window", DEFAULT_ECHO_WINDOW_S),
        settle_s=r.non_negative(t, "outbox", "settle", DEFAULT_SETTLE_S),
        **_retry_keys(
            r, t, "outbox", (DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BASE_S, DEFAULT_RETRY_MAX_S)
        ),
    )


def _orders(r: _Reader, t: Mapping[str, Any]) -> OrdersSettings:
    r.only_keys(t, "orders", SECTION_KEYS["orders"])
    return OrdersSettings(lock_on_import=r.get(t, "orders", "lock_on_import", bool, False))


def _sinks(r: _Reader, t: Mapping[str, Any], base_dir: Path) -> dict[str, SinkSettings]:
    """``[sinks.<event type>]`` tables: ``kind`` and the keys that kind needs."""
    sinks: dict[str, SinkSettings] = {}
    for event_type, table in t.items():
        section = f"sinks.{event_type}"
        if not isinstance(table, dict):
            raise ConfigError(f"{r.source}: {section}: must be a [{section}] table")
        kind = r.choice(table, section, "kind", SINK_KINDS, "")
        r.only_keys(table, section, ("kind", *SINK_KEYS[kind]))
        sinks[event_type] = _sink(r, table, section, kind, base_dir)
    return sinks


def _sink(
    r: _Reader, t: Mapping[str, Any], section: str, kind: str, base_dir: Path
) -> SinkSettings:
    if kind == "directory":
        return SinkSettings(
            kind=kind,
            path=base_dir / r.string(t, section, "path", required=True),
            format=r.choice(t, section, "format", SINK_FORMATS, "json"),
        )
    if kind == "database":
        url = r.string(t, section, "url", required=True)
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            url = prefix + str(base_dir / url[len(prefix) :])
        return SinkSettings(kind=kind, url=url, table=r.string(t, section, "table"))
    target = r.string(t, section, "target", required=True)
    if ":" not in target:
        r.fail(section, "target", "must be 'package.module:callable'")
    return SinkSettings(kind=kind, target=target)


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
        value: str = self.get(t, section, key, str, "")
        if required and not value.strip():
            self.fail(section, key, "missing" if key not in t else "must not be empty")
        return value

    def choice(
        self, t: Mapping[str, Any], section: str, key: str, allowed: tuple[str, ...], default: str
    ) -> str:
        value: str = self.get(t, section, key, str, default)
        if value not in allowed:
            self.fail(section, key, f"must be one of {', '.join(allowed)}; got {value!r}")
        return value

    def non_negative(self, t: Mapping[str, Any], section: str, key: str, default: float) -> float:
        value = t.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            self.fail(section, key, f"must be 0 or a positive number, got {value!r}")
        return float(value)

    def positive(self, t: Mapping[str, Any], section: str, key: str, default: float) -> float:
        value = t.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            self.fail(section, key, f"must be a positive number, got {value!r}")
        return float(value)


_KIND_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}
