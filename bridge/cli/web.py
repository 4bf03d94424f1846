"""The ``web`` commands: serve the operators' console on its own, and make a user's hash."""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from typing import Any

from bridge.app import App
from bridge.cli.common import epilog, load_settings
from bridge.config import ConfigError
from bridge.daemon import signals
from bridge.errors import ExitCode
from bridge.web.users import Role, user_line

#: The port ``centra-bridge web`` listens on when neither --port nor [web] port says.
DEFAULT_PORT = 8080


def add_commands(commands: Any) -> None:
    """Register ``web`` and ``web hash-password``."""
    web = commands.add_parser(
        "web",
        help="serve the operators' web console for this store, until SIGTERM or Ctrl-C",
        epilog=epilog(
            "centra-bridge --config /etc/centra-bridge/config.toml web --port 8080",
            "centra-bridge web hash-password ada --role operate >> /etc/centra-bridge/web-users",
            codes=[ExitCode.DATABASE],
            meanings={ExitCode.OK: "stopped by SIGTERM or SIGINT"},
        ),
    )
    web.add_argument("--host", help="address to listen on (default: [web] host, else 127.0.0.1)")
    web.add_argument(
        "--port",
        type=int,
        help=f"port to listen on (default: [web] port, else {DEFAULT_PORT}; 0 picks a free one)",
    )
    web.set_defaults(run=_serve)
    actions = web.add_subparsers(
        dest="web_command", metavar="ACTION", help="instead of serving (optional)"
    )
    hashing = actions.add_parser(
        "hash-password",
        help="print a users file line for USER: the password is read from stdin, never argv",
        epilog=epilog(
            "centra-bridge web hash-password ada --role operate >> web-users",
            "printf '%s\\n' \"$PASSWORD\" | centra-bridge web hash-password bob",
        ),
    )
    hashing.add_argument("user", metavar="USER", help="the user name to log in with")
    hashing.add_argument(
        "--role",
        choices=[str(role) for role in Role],
        default=str(Role.READ),
        help="read: every page; operate: also retry, skip and replay (default read)",
    )
    hashing.set_defaults(run=_hash_password)


def _serve(args: argparse.Namespace) -> int:
    # The actions change the store and a replay runs the handlers; Centra is never called.
    settings = load_settings(args, read_password=False)
    web = replace(
        settings.web,
        host=args.host or settings.web.host,
        port=args.port if args.port is not None else settings.web.port or DEFAULT_PORT,
    )
    with signals.handled() as control, App.open(settings) as app:
        from bridge.web.server import ConsoleServer  # only for this command: a large stack

        server = ConsoleServer(app, web).start()
        print(f"centra-bridge: web console at {server.url} for {app.store.name}", file=sys.stderr)
        try:
            control.stop.wait()
        finally:
            server.stop()
    return ExitCode.OK


def _hash_password(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.user}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("web hash-password: the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    print(user_line(args.user, Role(args.role), password))
    return ExitCode.OK
