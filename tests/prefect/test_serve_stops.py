"""`tally serve` stops cleanly: Ctrl+C at its terminal or SIGTERM ends it, and its local Prefect server."""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.prefect

TALLY = str(Path(sys.executable).with_name("tally"))
# A guard against a hang, not a measure of speed: starting a Prefect server on a loaded
# machine can take a minute; the time a stop takes is printed, and the README states it.
HANG_GUARD_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_until(fd: int, marker: bytes, limit_s: float) -> bytes:
    """Read the terminal's output until `marker` appears (or the child exits, or the guard runs out)."""
    seen = b""
    end = time.monotonic() + limit_s
    while marker not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def wait_exit(pid: int, limit_s: float) -> tuple[int | None, float]:
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), time.monotonic() - start
        time.sleep(0.2)
    return None, time.monotonic() - start


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def site(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "tally.toml").write_text('inbox = "inbox"\nwarehouse = "warehouse/tally.duckdb"\n', encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("how", ["ctrl_c", "sigterm"])
def test_serve_stops_on_ctrl_c_and_sigterm_with_its_server(site, how):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(site / "prefect-home")
    env["COLUMNS"] = "200"
    reaped = False
    pid, fd = pty.fork()
    if pid == 0:  # the child: `tally serve` with the pty as its controlling terminal
        os.chdir(site)
        os.execve(TALLY, [TALLY, "serve", "--port", str(port)], env)
    try:
        banner = read_until(fd, b"Ctrl+C to stop", HANG_GUARD_S)
        assert b"Ctrl+C to stop" in banner, banner.decode(errors="replace")[-2000:]
        read_until(fd, b"\x00never", 3)  # let the runner start polling
        if how == "ctrl_c":
            os.write(fd, b"\x03")  # the terminal sends SIGINT to the foreground group
        else:
            os.kill(pid, signal.SIGTERM)
        tail = b""
        code, took = None, 0.0
        start = time.monotonic()
        while time.monotonic() - start < HANG_GUARD_S and code is None:
            tail += read_until(fd, b"\x00never", 1)
            code, _ = wait_exit(pid, 0.5)
        took = time.monotonic() - start
        tail += read_until(fd, b"\x00never", 1)  # what it wrote while exiting
        reaped = code is not None
        assert code is not None, f"still running {took:.0f} s after {how}: {tail.decode(errors='replace')[-1500:]}"
        print(f"tally serve stopped {took:.1f} s after {how}, exit {code}")
        # What it printed on the way out is not asserted: a pty may drop the last output of a
        # process that has exited. The exit status and the server's port say it all.
        assert code == 0, tail.decode(errors="replace")[-1500:]
        for _ in range(60):  # the server is stopped by serve itself, not left behind
            if port_closed(port):
                break
            time.sleep(0.5)
        assert port_closed(port), f"the local Prefect server on {port} outlived tally serve"
    finally:
        if not reaped:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
