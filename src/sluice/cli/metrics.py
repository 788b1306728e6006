"""--metrics-push, --metrics-port and --metrics-host of copy, verify and sync: where the run's
figures go (sluice.core.prometheus, docs/monitoring.md). The command itself knows nothing of
them: `exported` wraps whichever command takes these options."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from sluice.core.urls import from_env

PUSH_ENV = "SLUICE_METRICS_PUSH_URL"  # sluice.core.prometheus.PUSH_ENV, without importing it


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535, got {value}")
    return value


def add_metrics_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metrics-push", metavar="URL",
                   help=f"push the run's metrics to this Prometheus Pushgateway every 15s and "
                        f"at the end, grouped by job (the command) and run (default: "
                        f"${PUSH_ENV}); a failed push is logged and never fails the "
                        f"command")  # fmt: skip
    p.add_argument("--metrics-port", type=port_number, metavar="PORT",
                   help="serve the metrics on http://HOST:PORT/metrics while the command runs, "
                        "for Prometheus to scrape (0: a free port, named in the log)")  # fmt: skip
    p.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                   help="the address --metrics-port listens on (default 127.0.0.1: this machine "
                        "only; 0.0.0.0 for every interface, e.g. in a container)")  # fmt: skip


@contextlib.contextmanager
def exported(args: argparse.Namespace) -> Iterator[None]:
    """Run the command with its figures pushed and/or served, when it takes the options and
    one is given (the push URL also from the environment)."""
    if not hasattr(args, "metrics_port"):
        yield
        return
    push = from_env(PUSH_ENV, args.metrics_push)
    if not push and args.metrics_port is None:
        yield
        return
    from sluice.core.prometheus import exported as to_prometheus

    with to_prometheus(args.command, push, args.metrics_port, host=args.metrics_host):
        yield
