"""structlog set-up: the one home of global logging state.

Logs go to stderr (journald captures it under systemd); stdout is kept for what a command
answers. Secrets are masked by a processor before any renderer sees the event.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

#: Keys whose values are never written, whatever logs them.
SECRET_KEYS = frozenset({"password", "passwd", "secret", "token", "authorization", "api_key"})
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@", re.I)

#: Libraries that would print bodies or every SQL statement at lower levels.
_QUIET_LOGGERS = {
    "zeep": logging.WARNING,
    "zeep.transports": logging.WARNING,
    "urllib3": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
    "alembic": logging.WARNING,
    "apscheduler": logging.INFO,
    # Every run of every job at INFO; the daemon logs what matters about its jobs itself.
    "apscheduler.executors.default": logging.WARNING,
    "apscheduler.scheduler": logging.ERROR,
}
#: syslog priorities journald reads from a ``<N>`` line prefix (sd-daemon(3)).
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


#: Passwords shorter than this are accepted with a warning: masking them wherever they
#: appear in a line (as every configured secret is) mangles the line and hints at the secret.
MIN_ADVISED_SECRET = 8


class Redactor:
    """Masks secret keys, known secret values and ``user:pass@`` in URLs, at any depth."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, logger: Any, method: str, event_dict: EventDict) -> EventDict:
        cleaned: EventDict = self._clean(event_dict)
        return cleaned

    def _clean(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: "********" if str(key).lower() in SECRET_KEYS else self._clean(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._clean(item) for item in value]
        if isinstance(value, str):
            return self.scrub(value)
        return value

    def scrub(self, text: str) -> str:
        text = _URL_CREDENTIALS.sub(r"\g<scheme>***:***@", text)
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text


class JournalFormatter(structlog.stdlib.ProcessorFormatter):
    """Prefixes each line with ``<N>``, so ``journalctl -p warning`` selects by level."""

    def format(self, record: logging.LogRecord) -> str:
        priority = next((p for level, p in _PRIORITIES if record.levelno >= level), 7)
        return f"<{priority}>" + super().format(record)


def stderr_is_journal(journal_stream: str | None) -> bool:
    """Whether stderr is the stream systemd names in ``$JOURNAL_STREAM`` ("device:inode")."""
    if not journal_stream:
        return False
    try:
        status = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return journal_stream == f"{status.st_dev}:{status.st_ino}"


def _json_renderers() -> list[Processor]:
    """One JSON object per line, its text under ``message`` (what Loki, Elastic and Vector
    read as the line's text) rather than structlog's ``event``."""
    return [structlog.processors.EventRenamer("message"), structlog.processors.JSONRenderer()]


def _console_renderers(no_color: bool) -> list[Processor]:
    return [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty() and not no_color)]


def configure(
    level: str = "info",
    fmt: str = "auto",
    secrets: Iterable[str] = (),
    journal_stream: str | None = None,
    no_color: bool = False,
) -> None:
    """Route structlog and stdlib logging (zeep, SQLAlchemy, APScheduler) to one stderr stream.

    Exceptions are rendered as plain tracebacks (``format_exc_info``), never with frame locals,
    and pass the redactor like any other value. JSON lines to the journal carry a priority.
    """
    redact = Redactor(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    journal = as_json and stderr_is_journal(journal_stream)
    formatter = (JournalFormatter if journal else structlog.stdlib.ProcessorFormatter)(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            *(_json_renderers() if as_json else _console_renderers(no_color)),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, quiet in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
