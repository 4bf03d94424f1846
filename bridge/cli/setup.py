"""Commands for setting the bridge up: ``config check`` and ``completion``."""

from __future__ import annotations

import argparse
from typing import Any

from argcomplete.shell_integration import shellcode

from bridge.app import close_sinks, load_site_code
from bridge.cli.common import epilog, load_settings
from bridge.errors import ExitCode
from bridge.store import schema
from bridge.store.engine import database_name

#: Shells ``completion`` writes a script for.
SHELLS = ("bash", "zsh", "fish", "tcsh", "powershell")


def add_commands(commands: Any) -> None:
    """Register ``config check`` and ``completion``."""
    config = commands.add_parser(
        "config",
        help="check the configuration",
        epilog=epilog("centra-bridge config check --config /etc/centra-bridge/config.toml"),
    )
    actions = config.add_subparsers(
        dest="config_command", metavar="ACTION", required=True, help="what to do"
    )
    actions.add_parser(
        "check",
        help="load the whole configuration (password and handlers included), contact nothing",
        description="Loads the configuration as run would: every key, the password from its "
        "source, the custom handlers' and sinks' code. Prints which file, database and password "
        "source (never the password). Contacts neither Centra nor a sink; creates nothing.",
        epilog=epilog(
            "centra-bridge config check --config /etc/centra-bridge/config.toml",
            "CREDENTIALS_DIRECTORY=/tmp/creds centra-bridge config check",
            codes=[ExitCode.DATABASE],
            meanings={
                ExitCode.OK: "the configuration loads",
                ExitCode.DATABASE: "the database named is there but cannot be read",
            },
        ),
    ).set_defaults(run=_config_check)

    completion = commands.add_parser(
        "completion",
        help="print a shell completion script",
        epilog=epilog(
            'eval "$(centra-bridge completion bash)"            # in ~/.bashrc',
            "centra-bridge completion fish > ~/.config/fish/completions/centra-bridge.fish",
        ),
    )
    completion.add_argument(
        "shell", choices=SHELLS, nargs="?", default="bash", help="the shell (default: bash)"
    )
    completion.set_defaults(run=_completion)


def _config_check(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    _, sinks = load_site_code(settings)
    close_sinks(sinks)
    custom = settings.handlers.custom
    lines = {
        "configuration": settings.source,
        "database": f"{database_name(settings.database.url)}: "
        + schema.database_state(settings.database.url),
        "password": f"from {settings.centra.password_source}",
        "centra": f"{settings.centra.endpoint} as {settings.centra.username} "
        f"({settings.centra.flavor})",
        "handlers": ", ".join(f"{t}={target}" for t, target in sorted(custom.items()))
        or "built-in only",
        "sinks": ", ".join(f"{t}={sink.kind}" for t, sink in sorted(settings.sinks.items()))
        or "none",
    }
    print("\n".join(f"{key:<14} {value}" for key, value in lines.items()))
    print("ok: the configuration loads")
    return ExitCode.OK


def _completion(args: argparse.Namespace) -> int:
    print(shellcode(["centra-bridge"], shell=args.shell), end="")
    return ExitCode.OK
