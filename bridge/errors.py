"""One root for every error the bridge raises on purpose, and the exit code each one means.

    BridgeError                      exit code
    ├── ConfigError                  CONFIG      (bridge.config)
    │   └── HandlerLoadError         CONFIG      (bridge.handlers.registry)
    ├── InputError                   CONFIG      (bridge.outbox.input)
    ├── IdConflict                   CONFIG      (bridge.outbox.id_rules)
    ├── MappingFileError             CONFIG      (bridge.outbox.id_rules)
    ├── NotMapped                    CONFIG      (bridge.outbox.idmap)
    ├── NotStored                    CONFIG      (bridge.store.lookups)
    ├── LockHeld                     LOCKED      (bridge.store.lock)
    ├── LockLost, LockFileError      DATABASE    (bridge.store.lock)
    ├── DatabaseFileError            DATABASE    (bridge.store.engine)
    ├── StoreGone                    DATABASE    (bridge.store.engine)
    ├── QueueStalled                 PARTIAL     (bridge.inbox.drain)
    ├── ReadOnlyApp                  INTERNAL    (bridge.app; a bug: a read-only App asked to act)
    └── CentraError                  CENTRA_ERROR (bridge.centra.errors, with its own tree)

A handler's ``PermanentError`` (``bridge.handlers.base``) is not among them: it is a handler's
verdict on one event, never seen by a command. The command line turns a ``BridgeError`` into
one line on stderr and its exit code in one place (``bridge.cli.main``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, one per kind of trouble, so scripts and systemd can tell them apart."""

    #: Everything asked for was done (for drain-events: the queue is empty).
    OK = 0
    #: A bug or an error nobody foresaw; the traceback is in the log.
    INTERNAL = 1
    #: The command line or the configuration file is wrong; nothing was done.
    CONFIG = 2
    #: Centra refused the username or password.
    AUTH = 3
    #: Centra could not be reached, timed out or answered 5xx.
    UNAVAILABLE = 4
    #: Centra answered, but with a Fault or something that breaks the contract.
    CENTRA_ERROR = 5
    #: Some work was done and some was not (a stopped drain, a check that failed).
    PARTIAL = 6
    #: The bridge's own database could not be opened or written.
    DATABASE = 7
    #: Another process already polls this store (``run`` without ``--standby``, or a drain).
    LOCKED = 8
    #: ``status --max-age``: the last successful poll is older than allowed, or there was none.
    STALE = 9
    #: Stopped by SIGINT before anything could be finished (the shell's convention, 128 + 2).
    INTERRUPTED = 130
    #: The reader of the answer went away (``… | head``); as if killed by SIGPIPE (128 + 13).
    BROKEN_PIPE = 141


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose; ``exit_code`` says what it means."""

    #: The exit code of a command that ends with this error.
    exit_code: ExitCode = ExitCode.INTERNAL

    def details(self) -> list[str]:
        """Lines shown before the summary (one per bad input line, say); none by default."""
        return []

    def summary(self) -> str:
        """The one line a person reads on stderr."""
        text = str(self).strip()
        return text.splitlines()[0] if text else type(self).__name__
