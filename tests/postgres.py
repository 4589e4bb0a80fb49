"""A throwaway PostgreSQL server for tests: Debian's binaries, a cluster in a temporary folder, trust
authentication, listening on 127.0.0.1 only. Nothing is left behind after `stop`."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

MISSING = "PostgreSQL server binaries not found: apt-get install postgresql"
_SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The newest installed major version that has both initdb and pg_ctl."""
    candidates = [Path(found) for found in glob.glob("/usr/lib/postgresql/*/bin")]
    usable = [path for path in candidates if (path / "initdb").exists() and (path / "pg_ctl").exists()]
    return max(usable, key=lambda path: _version(path.parent.name), default=None)


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        # Not pytest's tmp_path: its parents are 0700 root, which the postgres user could not enter.
        self.root = Path(tempfile.mkdtemp(prefix="gensandbox-pg-"))
        self.data = self.root / "data"
        self.port = 0
        # initdb refuses to run as root, so the cluster belongs to the postgres user when we are root.
        self._as_owner = ["runuser", "-u", _SUPERUSER, "--"] if os.geteuid() == 0 else []
        if self._as_owner:
            shutil.chown(self.root, _SUPERUSER, _SUPERUSER)

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", _SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-locale",
                  "--no-sync")
        self.port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=50"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w",
                  "-t", "60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [*self._as_owner, str(self.bin_dir / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{self.log_tail()}")
