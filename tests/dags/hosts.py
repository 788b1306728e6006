"""Hosts of their own for Airflow's Celery workers, on this one machine: each in a network
namespace (and a UTS namespace: its own hostname) joined to the machine by a veth pair with a
private /30 of 10.231.0.0/16, loopback up inside. The services a worker needs listen on
127.0.0.1 (the embedded PostgreSQL on a Unix socket only), out of its reach; so relays on the
machine's side of its veth (its `gateway`) forward to them, and the worker's settings name
those relays: the databases (connections, metadata database, Celery result backend), Redis
(the broker) and the API server (the execution API). Needs root and iproute2's `ip`;
`made(...)` raises Unavailable, with the reason, where namespaces cannot be made.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

from tests.reliability.relay import Relay

from sluice.airflow import local
from sluice.airflow.components import Component
from sluice.airflow.deployment import Deployment
from sluice.core.urls import DbUrl

NETWORK = ipaddress.ip_network("10.231.0.0/16")


class Unavailable(Exception):
    """Namespaces cannot be made here; the message says why."""


@dataclass
class Host:
    namespace: str  # also its hostname
    veth: str  # the machine's end of its veth pair
    gateway: str  # the machine's address on that veth: where the host finds the services
    address: str  # the host's own address
    relays: list[Relay] = field(default_factory=list)

    @property
    def prefix(self) -> tuple[str, ...]:
        """The command that runs a program on this host: in its network namespace, in a UTS
        namespace of its own named after it (each step execs the next: one process)."""
        return ("ip", "netns", "exec", self.namespace, "unshare", "--uts",
                "sh", "-c", 'hostname "$0" && exec "$@"', self.namespace)  # fmt: skip

    def relay(self, host: str, port: int, unix_path: str | None = None) -> int:
        """A relay on the gateway to `host`:`port` (or `unix_path`); its port."""
        self.relays.append(Relay(host, port, unix_path, listen=self.gateway))
        return self.relays[-1].port

    def reach(self, server: DbUrl, d: Deployment) -> tuple[DbUrl, Deployment]:
        """`server`, and `d` with its API server and broker, at the relays this host uses."""
        u = server.url
        folder = u.query.get("host")
        port = u.port or 5432
        if isinstance(folder, str) and folder.startswith("/"):
            db_port = self.relay("127.0.0.1", port, f"{folder}/.s.PGSQL.{port}")
        else:
            db_port = self.relay(u.host or "127.0.0.1", port)
        moved = DbUrl(u.difference_update_query(["host"]).set(host=self.gateway, port=db_port))
        broker = urlsplit(d.broker_url)
        redis_port = self.relay(broker.hostname or "127.0.0.1", broker.port or 6379)
        netloc = broker.netloc.rpartition("@")[0]
        netloc = f"{netloc}@" if netloc else ""
        broker_url = urlunsplit(broker._replace(netloc=f"{netloc}{self.gateway}:{redis_port}"))
        api_port = self.relay("127.0.0.1", d.port)
        return moved, replace(d, host=self.gateway, port=api_port, broker_url=broker_url)

    def worker(self, c: Component, server: DbUrl, d: Deployment, **where) -> Component:
        """Worker `c` on this host: the settings that differ from the machine's when its
        services are at this host's relays (as `local.environment` writes them), its
        command prefixed to run here."""
        here = local.environment(server, d, **where)
        there = local.environment(*self.reach(server, d), **where)
        moved = {k: v for k, v in there.items() if here.get(k) != v}
        return replace(c, env={**c.env, **moved}, prefix=self.prefix)

    def run(self, *cmd: str, timeout: float = 20) -> subprocess.CompletedProcess:
        """`cmd` run on this host."""
        return subprocess.run(["ip", "netns", "exec", self.namespace, *cmd],
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _ip(*args: str) -> None:
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        raise Unavailable(f"`ip {' '.join(args)}` failed: {out.stderr.strip()}")


def _free_subnet(taken: set) -> ipaddress.IPv4Network:
    """A /30 of NETWORK that no address of this machine is in (runs side by side differ)."""
    used = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True)
    for word in used.stdout.split():
        with contextlib.suppress(ValueError):
            taken.add(ipaddress.ip_interface(word).ip)
    subnets = list(NETWORK.subnets(new_prefix=30))
    while True:
        subnet = random.choice(subnets)
        if not any(a in subnet for a in taken):
            taken.update(subnet)
            return subnet


@contextlib.contextmanager
def made(count: int) -> Iterator[list[Host]]:
    """`count` hosts, removed afterwards (their relays closed) even when the caller fails."""
    if os.geteuid() != 0:
        raise Unavailable("not root: network namespaces need root")
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        raise Unavailable("no `ip` (iproute2) or no `unshare` (util-linux)")
    run = uuid.uuid4().hex[:6]  # names unique to this run: ip link names <= 15 characters
    hosts: list[Host] = []
    taken: set = set()
    try:
        for n in range(1, count + 1):
            subnet = _free_subnet(taken)
            gateway, address = (str(a) for a in subnet.hosts())
            host = Host(f"sluice-{run}-w{n}", f"sl{run}h{n}", gateway, address)
            _ip("netns", "add", host.namespace)
            hosts.append(host)
            inside = f"sl{run}w{n}"
            _ip("link", "add", host.veth, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", host.namespace)
            _ip("addr", "add", f"{gateway}/30", "dev", host.veth)
            _ip("link", "set", host.veth, "up")
            for step in (("addr", "add", f"{address}/30", "dev", inside),
                         ("link", "set", inside, "up"), ("link", "set", "lo", "up")):  # fmt: skip
                _ip("-n", host.namespace, *step)
        yield hosts
    finally:
        for host in hosts:
            for r in host.relays:
                r.close()
            subprocess.run(["ip", "link", "del", host.veth], capture_output=True)
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)
