"""The lake's tests run against a real PostgreSQL: a throwaway cluster for the session.

A test that needs it asks for `pg` (the cluster) or `catalog` (a fresh database of its own);
when no PostgreSQL server is installed it is skipped, saying so. `make install` and `.ci/run`
install Debian's `postgresql` package, so CI always runs them.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pgcluster


@pytest.fixture(scope="session")
def pg():
    """A PostgreSQL cluster started for the session (per pytest worker), stopped at its end."""
    if pgcluster.bindir() is None:
        pytest.skip("PostgreSQL 未安装，湖仓测试跳过 · no PostgreSQL server installed "
                    "(apt-get install postgresql; make install does it as root)")
    try:
        cluster = pgcluster.start()
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"PostgreSQL did not start: {exc.cmd}\n{exc.stdout}\n{exc.stderr}") from exc
    yield cluster
    cluster.stop()


@pytest.fixture
def catalog(pg, request) -> str:
    """A fresh, empty catalog database for one test; returns its libpq connection string."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:8]
    return pg.create_database(name)
