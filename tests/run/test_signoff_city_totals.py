"""A city's county totals read each signed county's signed totals (the latest sign-off) and the
current totals of the others, marked 未签核; the roll-up adds them up as it adds current ones."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import polars as pl

from flows.run import signoff
from flows.transform.rollup import rollup

SIGNED_AT = [datetime(2025, 1, 10, 2, 0, tzinfo=UTC), datetime(2025, 1, 20, 2, 0, tzinfo=UTC)]


def totals(county: str, people: int, rows: int, disclosed: int) -> list[dict]:
    """Two indicators of 2024 in the roll-up's shape: people out (a sum) and the disclosure rate."""
    return [
        {"county": county, "year": 2024, "code": "inspector_person_times", "aggregation": "sum", "row_count": rows,
         "numerator_count": 0, "amount_sum": Decimal(people), "distinct_count": 0},
        {"county": county, "year": 2024, "code": "spot_check_disclosure_rate", "aggregation": "rate",
         "row_count": rows, "numerator_count": disclosed, "amount_sum": None, "distinct_count": 0},
    ]


def signed_lake() -> duckdb.DuckDBPyConnection:
    """The sign-off tables (as on the lake, here in memory) with 西吉县 signed twice: 9 people, then 10."""
    con = duckdb.connect()
    for ddl in signoff.SIGNOFF_DDL:
        con.execute(ddl)
    for n, (people, snapshot) in enumerate(((9, 7), (10, 12))):
        con.execute("INSERT INTO signoffs VALUES (?, '640422', 2024, ?, ?, '张三', ?)",
                    [f"s{n}", snapshot, SIGNED_AT[n], f"s{n - 1}" if n else None])
        for row in totals("640422", people, 3, 1):
            con.execute("INSERT INTO signed_totals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true)",
                        [f"s{n}", row["county"], 2024, row["code"], row["aggregation"], row["row_count"],
                         row["numerator_count"], row["amount_sum"], row["distinct_count"], row["amount_sum"]])
    return con


def test_the_latest_signoff_is_read_and_unsigned_counties_keep_their_current_totals():
    con = signed_lake()
    signed = signoff.signed_totals(con, 2024, ["640422", "640423"])
    assert signed.select("county", "code", "amount_sum", "snapshot_id").rows() == [
        ("640422", "inspector_person_times", Decimal("10.00"), 12),
        ("640422", "spot_check_disclosure_rate", None, 12)]
    assert signed["signed_at"].to_list() == [SIGNED_AT[1]] * 2
    assert signoff.signed_totals(con, 2023).is_empty() and signoff.signed_totals(con, 2024, ["640423"]).is_empty()

    # Today 西吉县 has 11 people out (a correction since it was signed); 隆德县 was never signed.
    current = pl.DataFrame([*totals("640422", 11, 2, 2), *totals("640423", 12, 3, 1)],
                           schema=signoff.TOTALS_SCHEMA)
    chosen = signoff.prefer_signed(current, signed)
    assert chosen.select("county", "code", "amount_sum", "row_count", "signoff").rows() == [
        ("640422", "inspector_person_times", Decimal("10.00"), 3, "已签核"),
        ("640422", "spot_check_disclosure_rate", None, 3, "已签核"),
        ("640423", "inspector_person_times", Decimal("12.00"), 3, "未签核"),
        ("640423", "spot_check_disclosure_rate", None, 3, "未签核")]
    assert chosen.filter(pl.col("signoff") == "未签核")["snapshot_id"].null_count() == 2

    # The city's roll-up adds the chosen totals: 10 + 12 people; 2 of 6 disclosed, recomputed.
    figures, late = rollup(chosen.select(signoff.TOTALS_COLUMNS), "640400")
    city = dict(figures.filter((pl.col("org") == "640400") & pl.col("code").is_in(["inspector_person_times", "spot_check_disclosure_rate"]))
                .select("code", "value").rows())
    assert late == ["640402", "640424", "640425"]
    assert city == {"inspector_person_times": Decimal("22.00"), "spot_check_disclosure_rate": Decimal("33.30")}


def test_nothing_signed_leaves_every_county_unsigned():
    con = duckdb.connect()
    assert signoff.signed_totals(con, 2024).is_empty()  # no sign-off table at all: nothing signed
    current = pl.DataFrame(totals("640423", 12, 3, 1), schema=signoff.TOTALS_SCHEMA)
    chosen = signoff.prefer_signed(current, signoff.signed_totals(con, 2024))
    assert chosen["signoff"].to_list() == ["未签核", "未签核"] and chosen.height == 2
