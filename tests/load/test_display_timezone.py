"""Timestamps are stored in UTC (TIMESTAMPTZ) and shown in the bureau's time zone from tally.toml."""

from datetime import UTC, datetime
from pathlib import Path

from flows.load import warehouse
from flows.run.settings import load_settings


def test_a_connection_shows_times_in_the_zone_tally_toml_names(tmp_path: Path) -> None:
    config = tmp_path / "tally.toml"
    config.write_text('timezone = "America/New_York"\n', encoding="utf-8")
    try:
        load_settings(config)
        con = warehouse.connect(tmp_path / "wh" / "tally.duckdb")
        try:
            assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "America/New_York"
            con.execute("CREATE TABLE t (seen TIMESTAMPTZ)")
            con.execute("INSERT INTO t VALUES ('2024-03-01 02:00:00+00')")
            # 02:00 UTC is the evening before in New York: its day is the 29th of February
            assert con.execute("SELECT CAST(seen AS DATE)::VARCHAR FROM t").fetchone()[0] == "2024-02-29"
            assert con.execute("SELECT seen FROM t").fetchone()[0].astimezone(UTC) == datetime(2024, 3, 1, 2, tzinfo=UTC)
        finally:
            con.close()
    finally:
        warehouse.use_timezone("Asia/Shanghai")


def test_the_default_zone_is_the_bureaus_asia_shanghai(tmp_path: Path) -> None:
    con = warehouse.connect(tmp_path / "tally.duckdb")
    try:
        assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "Asia/Shanghai"
    finally:
        con.close()
