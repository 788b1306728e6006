"""The `sluice` command line: thin, one module per command; each parses its options, calls
one library function and prints with rich. `main` builds the parser and dispatches.

May import: every other sluice package (it is the top layer).
"""

from sluice.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
