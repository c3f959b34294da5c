"""Shared fixtures: an inbox and a warehouse in a temporary folder, and a way to run and query."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# A key as strong as tally demands (32+ characters, not one repeated): a test of its own sets another.
os.environ.setdefault("TALLY_HASH_KEY", "tally-tests-0f3a9c2e7b5d4186a1c9e2f7b3d5a8c6")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Prefect keeps its state here, never in ~/.prefect; nothing starts until a test asks for it.
os.environ.setdefault("PREFECT_HOME", str(Path(tempfile.gettempdir()) / f"tally-tests-prefect-{os.getuid()}"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# A loaded machine must never fail a property test on time: no deadline anywhere in the suite,
# and no health check that measures time (`too_slow`: generating examples took long).
hypothesis_settings.register_profile("tally", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("tally")


class Workspace:
    """An inbox folder and a warehouse file, with helpers to load and query."""

    def __init__(self, root: Path) -> None:
        self.inbox = root / "inbox"
        self.inbox.mkdir()
        self.warehouse = root / "warehouse" / "tally.duckdb"

    def path(self, rel: str) -> Path:
        return self.inbox / rel

    def run(self, **kwargs):
        from flows.run.stages import run_ingest

        return run_ingest(self.inbox, self.warehouse, **kwargs)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params: list | None = None):
        rows = self.query(sql, params)
        assert len(rows) == 1, rows
        return rows[0] if len(rows[0]) > 1 else rows[0][0]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


@pytest.fixture(scope="session")
def prefect_harness():
    """Run Prefect's temporary server for the whole session, started by the first test that asks."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def _default_submission_rules():
    """Reading a tally.toml puts its deadline rule in use for the process: each test starts from the defaults."""
    from flows.transform.submissions import SubmissionRules, use_rules

    use_rules(SubmissionRules())
    yield
    use_rules(SubmissionRules())
