"""The command line: argument parsing and printing only; one module per group of commands."""

from bridge.cli.main import main

__all__ = ["main"]
