"""A throwaway PostgreSQL cluster for the lake's tests: Debian's server, on a unix socket only.

The lake's catalog lives in PostgreSQL (issue 17); its tests need a real one, not a mock, and
must not touch a server the machine may run. `start` makes a cluster in a fresh folder of
/tmp (a short path: a unix socket's path is limited to ~107 bytes), listens on no TCP port
(nothing else can reach it, and two pytest workers cannot collide on a port), and trusts local
connections: it lives only as long as the test session.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DB = "tally"
USER = "tally"


def bindir() -> Path | None:
    """Return the newest `/usr/lib/postgresql/N/bin` that has initdb and pg_ctl (Debian's layout), else None."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        folder = Path(initdb).parent
        if (folder / "pg_ctl").exists():
            found.append((int(folder.parent.name) if folder.parent.name.isdigit() else 0, folder))
    if not found:
        on_path = shutil.which("initdb")
        return Path(on_path).parent if on_path and shutil.which("pg_ctl") else None
    return max(found)[1]


@dataclass
class Cluster:
    """A running cluster: its data folder, its socket folder and a libpq connection string."""

    root: Path
    bin: Path
    run_as: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def dsn(self) -> str:
        """libpq key=value string for the tally database (host is the socket folder)."""
        return f"dbname={DB} user={USER} host={self.socket_dir}"

    def psql(self, sql: str, db: str = DB) -> str:
        """Run one statement with psql and return its unaligned output (for fixtures only)."""
        psql = self.bin / "psql"
        exe = str(psql) if psql.exists() else "psql"
        done = subprocess.run([*self.run_as, exe, "-XAtq", "-h", str(self.socket_dir), "-U", USER, "-d", db,
                               "-c", sql], capture_output=True, text=True, check=True)
        return done.stdout

    def create_database(self, name: str) -> str:
        """Create an empty database and return its connection string (one per test: no shared catalog)."""
        self.psql(f'CREATE DATABASE "{name}"', db="postgres")
        return f"dbname={name} user={USER} host={self.socket_dir}"

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def run_as_user() -> tuple[list[str], int | None, int | None]:
    """Return the command prefix to run the server as a non-root user, and that user's uid/gid.

    PostgreSQL refuses to run as root; as root, the Debian package's `postgres` system user runs
    it (through runuser), else `nobody`. A non-root user runs it as itself.
    """
    if os.geteuid() != 0:
        return [], None, None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", name, "--"], entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root with neither a postgres nor a nobody user to run PostgreSQL as")


OWNER_FILE = "owner.pid"  # the pid of the test process a cluster belongs to


def stop_orphans(bin_dir: Path, prefix: list[str]) -> None:
    """Stop and remove clusters whose test process is gone (a killed pytest never tears down)."""
    for root in Path("/tmp").glob("tpg-*"):
        try:
            owner = int((root / OWNER_FILE).read_text())
            os.kill(owner, 0)
            continue  # its test process still runs: not ours to stop
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # no owner recorded (or not readable): leave it alone
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def start() -> Cluster:
    """initdb and start a cluster in a fresh /tmp folder; return it (raise if PostgreSQL is absent).

    Errors: RuntimeError when no PostgreSQL server is installed; CalledProcessError when
    initdb or pg_ctl fail (their output is in the exception).
    """
    folder = bindir()
    if folder is None:
        raise RuntimeError("no PostgreSQL server installed (apt-get install postgresql)")
    prefix, uid, gid = run_as_user()
    stop_orphans(folder, prefix)
    root = Path(tempfile.mkdtemp(prefix="tpg-", dir="/tmp"))
    (root / OWNER_FILE).write_text(str(os.getpid()))
    if uid is not None:
        os.chown(root, uid, gid)
    os.chmod(root, 0o700)
    cluster = Cluster(root, folder, prefix)
    try:
        subprocess.run([*prefix, str(folder / "initdb"), "-D", str(cluster.data), "-U", USER, "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"], capture_output=True, text=True, check=True)
        options = f"-k {root} -c listen_addresses='' -c fsync=off -c max_connections=200"
        subprocess.run([*prefix, str(folder / "pg_ctl"), "-D", str(cluster.data), "-o", options,
                        "-l", str(root / "server.log"), "-w", "-t", "120", "start"],
                       capture_output=True, text=True, check=True)
        cluster.psql(f'CREATE DATABASE "{DB}"', db="postgres")
    except BaseException:
        cluster.stop()
        raise
    return cluster
