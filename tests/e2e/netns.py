"""Hosts of a test's own in Linux network namespaces, for network-partition tests.

A `Network` is one bridge in the root namespace (the "switch") with an address of its own
(the gateway, where the test's clients and TCP forwarders live) and one namespace per host,
each plugged into the bridge by a veth pair. The addresses come from a private /24 that
nothing else on the machine uses; there is no default route in the namespaces and the root
namespace does not forward, so no packet of these hosts leaves the machine.

    with Network("w1", "w2", "r") as net:
        redis = NetnsRedis(net.hosts["r"]).start()
        net.hosts["w1"].cut()       # pull the host's cable at the switch
        net.hosts["w1"].restore()   # plug it back in

`Host.cut()` sets the switch side of the host's veth down: the host keeps its address and
routes, every packet it sends or that is sent to it is dropped (no FIN, no RST: open TCP
connections stall and retransmit), new connections fail with "No route to host" after ARP
gives up. That is a host losing its network: its database, its Redis and its clients all
become unreachable at once. `restore()` sets it up again; stalled connections resume.

Everything is torn down on `close()` (namespaces, veths, the bridge), also on failure;
leftovers of a killed earlier run (its process gone) are removed when a new network is made.
Needs root and `ip` (iproute2); a missing capability fails the test, it never skips it.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

from tests.e2e.servers import DAPHNE, REPO, Deployment, Worker

PREFIX = "collab-t"  # namespace names: collab-t<pid>-<role>
_STALE = re.compile(r"^(?:collab-t|cbt|cvt)(\d+)")


class NetnsError(AssertionError):
    """The environment cannot run this test (no root, no `ip netns`, no veth): a failure."""


def ip(*args: str, check: bool = True) -> str:
    try:
        done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    except FileNotFoundError as exc:
        raise NetnsError("`ip` (iproute2) is not installed; this test needs it") from exc
    if check and done.returncode != 0:
        raise NetnsError(f"`ip {' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def remove_stale() -> None:
    """Delete namespaces and links that a killed earlier run of this helper left behind."""
    for line in ip("netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        match = _STALE.match(name)
        if match and not _pid_alive(int(match.group(1))):
            ip("netns", "del", name, check=False)
    for line in ip("-o", "link", "show").splitlines():
        parts = line.split(":")
        if len(parts) < 2:
            continue
        name = parts[1].strip().split("@")[0]
        match = _STALE.match(name)
        if match and not _pid_alive(int(match.group(1))):
            ip("link", "del", name, check=False)


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.213.0.0/16 that no address or route of the root namespace touches."""
    used: list[ipaddress.IPv4Network] = []
    for line in ip("-4", "-o", "addr", "show").splitlines() + ip("-4", "route", "show").splitlines():
        for word in line.split():
            with contextlib.suppress(ValueError):
                if "/" in word or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", word):
                    used.append(ipaddress.IPv4Network(word, strict=False))
    start = os.getpid() % 250
    for offset in range(250):
        candidate = ipaddress.ip_network(f"10.213.{(start + offset) % 250}.0/24")
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    raise NetnsError("no free /24 in 10.213.0.0/16 for the test's hosts")


class Host:
    """One network namespace with one address on the test's bridge."""

    def __init__(self, network: Network, role: str, address: str) -> None:
        self.network = network
        self.role = role
        self.namespace = f"{PREFIX}{os.getpid()}-{role}"
        self.address = address
        self.link = f"cvt{os.getpid()}{role}"[:15]  # the switch side of the host's veth
        self.is_cut = False

    def create(self) -> None:
        ip("netns", "add", self.namespace)
        ip("link", "add", self.link, "type", "veth", "peer", "name", "eth0", "netns", self.namespace)
        ip("link", "set", self.link, "master", self.network.bridge, "up")
        ip(
            "-n",
            self.namespace,
            "addr",
            "add",
            f"{self.address}/{self.network.subnet.prefixlen}",
            "dev",
            "eth0",
        )
        ip("-n", self.namespace, "link", "set", "eth0", "up")
        ip("-n", self.namespace, "link", "set", "lo", "up")

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Run `argv` on this host. `ip netns exec` execs it: the Popen's pid is the program's."""
        return subprocess.Popen(["ip", "netns", "exec", self.namespace, *argv], **kwargs)

    def cut(self) -> None:
        """The host loses its network (see the module docstring)."""
        ip("link", "set", self.link, "down")
        self.is_cut = True

    def restore(self) -> None:
        ip("link", "set", self.link, "up")
        self.is_cut = False

    def destroy(self) -> None:
        # Deleting the namespace deletes its end of the veth, which deletes the pair.
        ip("netns", "del", self.namespace, check=False)
        ip("link", "del", self.link, check=False)


class Network:
    """A bridge, a gateway address in the root namespace and one namespace per role."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles
        self.bridge = f"cbt{os.getpid()}"
        self.subnet: ipaddress.IPv4Network = ipaddress.ip_network("10.213.0.0/24")
        self.gateway = ""
        self.hosts: dict[str, Host] = {}

    def create(self) -> Network:
        if os.geteuid() != 0:
            raise NetnsError("network namespaces need root (CAP_NET_ADMIN); run the test as root")
        remove_stale()
        self.subnet = _free_subnet()
        addresses = [str(address) for address in self.subnet.hosts()]
        self.gateway = addresses[0]
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
            for index, role in enumerate(self.roles):
                host = Host(self, role, addresses[10 + index])
                self.hosts[role] = host
                host.create()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for host in self.hosts.values():
            host.destroy()
        ip("link", "del", self.bridge, check=False)

    def __enter__(self) -> Network:
        return self.create()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def stop_processes(*processes: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM each (once, all at the same time), then SIGKILL whatever is left after `timeout`."""
    running = [process for process in processes if process is not None and process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    stop_processes(process, timeout=timeout)


class NetnsRedis:
    """A redis-server of the test's own on a host of the network (never the machine's Redis)."""

    PORT = 6390

    def __init__(self, host: Host, log_dir: Path) -> None:
        self.host = host
        self.log_path = log_dir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host.address}:{self.PORT}/0"

    def start(self, timeout: float = 15.0) -> NetnsRedis:
        command = ["redis-server", "--port", str(self.PORT), "--bind", self.host.address]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no"]
        with self.log_path.open("ab") as log:
            self.process = self.host.popen(command, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise NetnsError(f"redis-server exited early: {self.log_path.read_text(errors='replace')}")
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.process)


class NetnsWorker(Worker):
    """A daphne worker on a host of the network, reached at the host's address."""

    PORT = 8000

    def __init__(self, deployment: Deployment, log_dir: Path, host: Host, **env: str) -> None:
        super().__init__(deployment, log_dir, **env)
        self.host = host
        self.port = self.PORT  # every host has its own port space
        self.log_path = log_dir / f"daphne-{host.role}.log"

    @property
    def http_base(self) -> str:
        return f"http://{self.host.address}:{self.port}"

    @property
    def ws_docs(self) -> str:
        return f"ws://{self.host.address}:{self.port}/ws/docs"

    def ws_chat(self, room_id: int, **query: Any) -> str:
        params = "&".join(f"{name}={value}" for name, value in query.items())
        return f"ws://{self.host.address}:{self.port}/ws/chat/{room_id}?{params}"

    def launch(self) -> NetnsWorker:
        """Start daphne on the host without waiting (start several, then `wait_healthy` each)."""
        with self.log_path.open("ab") as log:
            self.process = self.host.popen(
                [DAPHNE, "-b", "0.0.0.0", "-p", str(self.port), "asgi:application"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_healthy(self, timeout: float = 30.0) -> NetnsWorker:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early; see {self.log_path}:\n{self.log_tail()}")
            try:
                status, _ = self.request("GET", "/healthz", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daphne did not become healthy; see {self.log_path}:\n{self.log_tail()}")

    def start(self, timeout: float = 30.0) -> NetnsWorker:
        return self.launch().wait_healthy(timeout)

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None, timeout: float = 30
    ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(self.host.address, self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        if response.getheader("Content-Type", "").startswith("application/json") and raw:
            return response.status, json.loads(raw)
        return response.status, raw
