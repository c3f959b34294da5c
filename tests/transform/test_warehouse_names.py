"""One name per entity from raw to mart, typed periods and zoned times; a warehouse of the previous
release (the old mart names and facts columns) opens and is migrated by its next run."""

from __future__ import annotations

from pathlib import Path

import duckdb
from analystinbox import build

from flows.run.pipeline import run_pipeline

RENAMED = {"hotline_tickets": "hotline", "roster": "staff", "incidents": "safety_incidents", "posts": "wechat_posts"}
# How each renamed mart is stored now (the row-level marts of dated events are views)
STORED = {"hotline": "table", "staff": "table", "safety_incidents": "view", "wechat_posts": "view"}
FIGURES = "SELECT code, value FROM indicators WHERE year = 2024 AND value IS NOT NULL ORDER BY code"


def kinds(con) -> dict[str, str]:
    return dict(con.execute(
        "SELECT table_name, 'table' FROM duckdb_tables() WHERE schema_name = 'main' "
        "UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
    ).fetchall())  # fmt: skip


def columns(con, table: str) -> dict[str, str]:
    return dict(con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchall())  # fmt: skip


def test_marts_are_named_by_their_ledger_and_the_old_names_are_views(tmp_path: Path) -> None:
    warehouse = build(tmp_path, second_run=False)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = kinds(con)
        for old, new in RENAMED.items():
            assert (found[new], found[old]) == (STORED[new], "view")
            assert con.execute(f"SELECT count(*) FROM {old}").fetchone() == con.execute(
                f"SELECT count(*) FROM {new}").fetchone()  # fmt: skip
        # every relation that stores a period has its first day as a DATE beside the text
        with_period = [t for (t,) in con.execute(
            "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'period'").fetchall()]  # fmt: skip
        assert {"file_versions", "current_versions", "stg_cases", "inspections", "problem_log",
                "indicator_series_monthly", "indicator_series_quarterly"} <= set(with_period)  # fmt: skip
        assert {t: columns(con, t).get("period_start") for t in with_period} == dict.fromkeys(with_period, "DATE")
        # every stored time is a TIMESTAMPTZ (an instant), never a local time without its zone
        times = con.execute(
            "SELECT DISTINCT data_type FROM duckdb_columns() WHERE data_type LIKE 'TIMESTAMP%'").fetchall()  # fmt: skip
        assert times == [("TIMESTAMP WITH TIME ZONE",)]
        facts = columns(con, "indicator_facts")
        assert {"distinct_value", "meets_condition"} <= facts.keys()
        assert not {"distinct_key", "in_numerator", "register_period_start"} & (
            facts.keys() | columns(con, "cases").keys() | columns(con, "hotline").keys())  # fmt: skip


def test_a_warehouse_of_the_previous_release_opens_and_its_next_run_migrates_it(tmp_path: Path) -> None:
    warehouse = build(tmp_path, second_run=False)
    with duckdb.connect(str(warehouse)) as con:
        figures = con.execute(FIGURES).fetchall()
        # Make it what the previous release left: the marts under their old names as tables
        # with build records, and the facts' totals with their old column names.
        for old, new in RENAMED.items():
            con.execute(f"DROP VIEW {old}")
            con.execute(f"CREATE TABLE {old} AS SELECT * FROM {new}")
            con.execute(f"DROP {STORED[new].upper()} {new}")
            con.execute("UPDATE model_builds SET model = ? WHERE model = ?", [old, new])
        con.execute("ALTER TABLE indicator_totals RENAME distinct_value TO distinct_key")
        con.execute("ALTER TABLE indicator_totals RENAME numerator_count TO numerator_rows")
        con.execute("UPDATE model_builds SET fingerprint = 'previous release', definition = NULL")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(FIGURES).fetchall() == figures  # readers open it as it is
        assert kinds(con)["roster"] == "table"
    # nothing new in the inbox: the run still builds, for the warehouse lacks the new marts
    run_pipeline(tmp_path / "inbox", warehouse, checks=())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = kinds(con)
        assert {old: found[old] for old in RENAMED} == dict.fromkeys(RENAMED, "view")
        assert {new: found[new] for new in RENAMED.values()} == STORED
        assert "distinct_value" in columns(con, "indicator_totals")
        # the old tables' build records are gone (the views of those names record their own)
        assert con.execute("SELECT count(*) FROM model_builds WHERE model IN ('roster', 'posts') "
                           "AND fingerprint = 'previous release'").fetchone() == (0,)
        assert con.execute(FIGURES).fetchall() == figures
