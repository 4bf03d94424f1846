"""The command line's parser: help on everything, exit codes and examples, options anywhere."""

from __future__ import annotations

import argparse
import re

import pytest

from bridge.cli.main import build_parser, subparsers


def every_parser() -> list[argparse.ArgumentParser]:
    parser = build_parser()
    return [parser, *subparsers(parser)]


def test_every_argument_and_command_has_help_text() -> None:
    """No option, positional argument or command shows up in --help without saying what it is."""
    missing = []
    for parser in every_parser():
        for action in parser._actions:
            if not action.help:
                missing.append(f"{parser.prog}: {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                missing += [
                    f"{parser.prog} {choice.dest}"
                    for choice in action._choices_actions
                    if not choice.help
                ]
    assert missing == []


def test_every_help_ends_with_examples_and_exit_codes() -> None:
    """Each --help shows how the command is called and what each exit code it can end with means."""
    for parser in every_parser():
        text = parser.format_help()
        assert re.search(r"\nexamples:\n  .*centra-bridge ", text), parser.prog
        assert "exit codes:\n    0  " in text, parser.prog
        assert "    2  bad command line or configuration" in text, parser.prog


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "a.toml", "--log-level", "debug", "status"],
        ["status", "--config", "a.toml", "--log-level", "debug"],
        ["--config", "a.toml", "status", "--log-level", "debug"],
        ["--log-level", "debug", "ids", "list", "--config", "a.toml"],
    ],
)
def test_global_options_before_or_after_the_command(argv: list[str]) -> None:
    """--config and --log-level mean the same wherever they stand."""
    args = build_parser().parse_args(argv)
    assert args.config == "a.toml"
    assert args.log_level == "debug"
    assert args.log_format is None


def test_a_global_option_given_before_is_kept_when_absent_after() -> None:
    """An option left out after the command does not reset what was given before it."""
    args = build_parser().parse_args(["--config", "before.toml", "db", "upgrade"])
    assert args.config == "before.toml"
