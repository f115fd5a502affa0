"""Run Debian's nginx as a foreground subprocess serving a directory on 127.0.0.1, for tests.

Every file nginx touches (pid, logs, temp dirs) lives in a work directory, so it
runs as root or as a user without touching /etc or /var. The access log records
``METHOD "URI" STATUS "RANGE" BYTES`` per request, which tests use to count
requests. If the binary is missing, install it with ``apt-get install -y
nginx-light``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AccessLogEntry", "NginxServer", "find_nginx"]

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def find_nginx() -> str | None:
    """Path of the nginx binary, or ``None``."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class AccessLogEntry:
    method: str
    uri: str
    status: int
    range: str
    bytes_sent: int


class NginxServer:
    """nginx serving ``root``; ``start()`` returns once it accepts connections (bounded)."""

    def __init__(self, root: Path, workdir: Path, binary: str) -> None:
        self.root, self.workdir, self.binary = root.resolve(), workdir, binary
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        user_line = "user root;" if os.geteuid() == 0 else ""
        text = TEMPLATE.read_text()
        for placeholder, value in {
            "@USER_LINE@": user_line,
            "@WORKDIR@": str(self.workdir),
            "@ROOT@": str(self.root),
            "@PORT@": str(self.port),
        }.items():
            text = text.replace(placeholder, value)
        config = self.workdir / "nginx.conf"
        config.write_text(text)
        return config

    def start(self) -> NginxServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = _free_port()
            config = self._write_config()
            command = [self.binary, "-p", str(self.workdir), "-c", str(config), "-e", str(self.workdir / "error.log")]
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    break
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return self
                except OSError:
                    time.sleep(0.05)
            last_error = self._stop_process()
        raise RuntimeError(f"nginx did not start: {last_error}")

    def _stop_process(self) -> str:
        process, self._process = self._process, None
        if process is None:
            return ""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        log = self.workdir / "error.log"
        return (stderr + (log.read_text(errors="replace")[-2000:] if log.exists() else "")).strip()

    def stop(self) -> None:
        self._stop_process()

    def access_log(self) -> list[AccessLogEntry]:
        """Every request logged so far (nginx writes one line per request, unbuffered)."""
        path = self.workdir / "access.log"
        if not path.exists():
            return []
        entries = []
        for line in path.read_text().splitlines():
            method, rest = line.split(" ", 1)
            uri, rest = rest[1:].split('" ', 1)
            status, rest = rest.split(" ", 1)
            range_text, sent = rest.rsplit(" ", 1)
            entries.append(AccessLogEntry(method, uri, int(status), range_text.strip('"'), int(sent)))
        return entries
