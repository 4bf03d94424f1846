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
#: Another process already polls this store (``run`` without ``--standby``, or ``drain-events``).
LOCKED = 8
#: ``status --max-age``: the last successful poll is older than allowed, or there was none.
STALE = 9
