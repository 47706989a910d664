"""A real Flower deployment on 127.0.0.1: private CA, TLS SuperLink with SuperNode authentication, SuperNodes.

For tests, benchmarks and trying a federation on one machine, the way hospitals run it across
many: every process is a real ``flower-superlink`` / ``flower-supernode`` started in its own
process group, every wait is bounded, and ``stop`` (or leaving the ``with`` block) kills them all.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from federation.supernode import supernode_args

START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_tls(out: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it; return (ca, cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    out.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    valid = {"not_valid_before": now - datetime.timedelta(minutes=5),
             "not_valid_after": now + datetime.timedelta(days=2)}
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MoME Hub loopback CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(valid["not_valid_before"])
          .not_valid_after(valid["not_valid_after"])
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid["not_valid_before"]).not_valid_after(valid["not_valid_after"])
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = out / "ca.crt", out / "server.pem", out / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections; ``TimeoutError`` (or the process's exit) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[0]} exited with {process.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(1.0)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout:g} s")


@dataclass
class LoopbackDeployment:
    """A TLS SuperLink with SuperNode authentication on 127.0.0.1 and the SuperNodes started against it."""

    work: Path
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ca, self.cert, self.key = make_tls(self.work / "tls")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - the child writes it until stop()
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, **(env or {})}, cwd=self.work)
        log.close()
        self.processes[name] = proc
        return proc

    def start_superlink(self, *, timeout: float = START_TIMEOUT) -> None:
        """Start ``flower-superlink`` (TLS, SuperNode auth, in-memory state) and wait until it listens."""
        proc = self._start("superlink", [
            "flower-superlink", "--ssl-ca-certfile", str(self.ca), "--ssl-certfile", str(self.cert),
            "--ssl-keyfile", str(self.key), "--enable-supernode-auth", "--port", str(self.port),
            "--disable-runtime-dependency-installation"], env={"FLWR_HOME": str(self.work / "superlink-home")})
        wait_for_port(self.port, timeout=timeout, process=proc)

    def start_supernode(self, name: str, *, center: str, model: Path, data: Path, key: Path, shots: int,
                        timeout: float = START_TIMEOUT) -> None:
        """Start a ``flower-supernode`` for one site with its own key, node config and runtime port."""
        port = free_port()
        args = supernode_args(superlink=self.address, center=center, model=model, data=data, key=key,
                              root_certificates=self.ca, shots=shots, runtime_port=port)
        proc = self._start(name, [*args, "--max-wait-time", str(int(timeout))],
                           env={"FLWR_HOME": str(self.work / f"{name}-home")})
        wait_for_port(port, timeout=timeout, process=proc)

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.is_file() else ""

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM every process group, then SIGKILL what is left after ``grace`` seconds."""
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=grace)
        self.processes.clear()

    def __enter__(self) -> LoopbackDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
