"""A plain-Python reference computation of every indicator from clean ledger rows.

It follows the definitions of the indicator table word for word, row by row, so that it can
cross-check the SQL models: the two are written independently and must agree. The input is
what a loader should end up with: for period ledgers every loaded row, for registers the
latest row of each key, for the roster the latest snapshot of the year.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

import polars as pl

from flows.sample.workdays import nth_workday_after

THEME_DAYS = {"世界读书日", "知识产权宣传周", "文化和自然遗产日", "国际禁毒日", "国家宪法日"}
XI_STUDY_FORMATS = {"会前学法", "专题讲座", "集中学习"}


def _rows(frame: pl.DataFrame | None) -> list[dict]:
    return [] if frame is None else frame.to_dicts()


def _in_year(value: dt.date | None, year: int) -> bool:
    return value is not None and value.year == year


def _rate(numerator: int, denominator: int) -> float | None:
    if denominator == 0:
        return None
    return float(round(Decimal(100 * numerator) / Decimal(denominator), 1))


def _share(rows: list[dict], test) -> float | None:
    return _rate(sum(1 for r in rows if test(r)), len(rows))


def compute_figures(frames: dict[str, pl.DataFrame], year: int) -> dict[str, float | None]:
    """Compute every indicator of one year from clean ledger rows, by the letter of its definition."""
    end = dt.date(year, 12, 31)
    insp = [r for r in _rows(frames.get("inspections")) if _in_year(r["inspection_date"], year)]
    relic = [r for r in _rows(frames.get("relic_patrols")) if _in_year(r["patrol_date"], year)]
    pubs = [r for r in _rows(frames.get("publications")) if _in_year(r["action_date"], year)]
    cases = _rows(frames.get("cases"))
    filed = [r for r in cases if _in_year(r["filed_on"], year)]
    decided = [r for r in cases if _in_year(r["decided_on"], year)]
    disclosed = [r for r in decided if r["disclosed_on"] is not None]
    tickets = [r for r in _rows(frames.get("hotline")) if _in_year(r["received_on"], year)]
    incidents = [
        r for r in _rows(frames.get("safety_incidents")) if _in_year(r["occurred_on"], year)
    ]
    events = [r for r in _rows(frames.get("publicity_events")) if _in_year(r["event_date"], year)]
    posts = [r for r in _rows(frames.get("wechat_posts")) if _in_year(r["posted_on"], year)]
    study = [r for r in _rows(frames.get("study_sessions")) if _in_year(r["held_on"], year)]
    roster = _rows(frames.get("staff"))
    spot = [r for r in insp if r["inspection_type"] in ("双随机抽查", "联合抽查")]
    officers = [r for r in roster if r["role"] == "执法"]
    closed = [r for r in filed if r["closed_on"] is not None and r["closed_on"] <= end]

    def on_time(r: dict) -> bool:
        return r["disclosed_on"] <= nth_workday_after(r["decided_on"], 7)

    return {
        "market_campaigns": len(
            {r["campaign"] for r in insp if r["inspection_type"] == "专项检查"}
        ),
        "joint_spot_checks": len(
            {r["spot_check_task"] for r in insp if r["inspection_type"] == "联合抽查"}
        ),
        "joint_spot_check_venues": sum(1 for r in insp if r["inspection_type"] == "联合抽查"),
        "inspector_person_times": sum(r["inspectors"] for r in insp),
        "venue_inspections": sum(1 for r in insp if r["inspection_type"] != "网上巡查"),
        "online_patrols": sum(1 for r in insp if r["inspection_type"] == "网上巡查"),
        "spot_check_disclosure_rate": _share(spot, lambda r: r["disclosed_on"] is not None),
        "relic_patrols": len(relic),
        "books_confiscated": sum(r["quantity"] for r in pubs if r["action"] == "收缴"),
        "books_removed": sum(r["quantity"] for r in pubs if r["action"] == "下架"),
        "cases_filed": len(filed),
        "cases_closed": len(closed),
        "case_closure_rate": _rate(len(closed), len(filed)),
        "reconsiderations": sum(1 for r in filed if r["reconsideration"]),
        "litigations": sum(1 for r in filed if r["litigation"]),
        "fines_yuan": float(sum(r["fine_yuan"] or 0 for r in decided)),
        "confiscated_yuan": float(sum(r["confiscated_yuan"] or 0 for r in decided)),
        "hotline_tickets": len(tickets),
        "hotline_on_time_rate": _share(
            tickets, lambda r: r["replied_on"] is not None and r["replied_on"] <= r["due_on"]
        ),
        "hotline_closure_rate": _share(
            tickets, lambda r: r["closed_on"] is not None and r["closed_on"] <= end
        ),
        "safety_accidents": len(incidents),
        "publicity_events": len(events),
        "posters": sum(r["posters"] for r in events),
        "leaflets": sum(r["leaflets"] for r in events),
        "banners": sum(r["banners"] for r in events),
        "wechat_posts": len(posts),
        "people_reached": sum(r["reach"] for r in events),
        "theme_day_events": sum(1 for r in events if r["theme"] in THEME_DAYS),
        "penalty_disclosures": len(disclosed),
        "disclosure_on_time_rate": _share(disclosed, on_time),
        "legal_review_rate": _share(decided, lambda r: bool(r["legal_review"])),
        "recorded_rate": _share(decided, lambda r: bool(r["recorded"])),
        "certified_officer_rate": _share(
            officers, lambda r: r["cert_valid_until"] is not None and r["cert_valid_until"] >= end
        ),
        "xi_law_studies": sum(
            1 for r in study if r["topic"] == "习近平法治思想" and r["format"] in XI_STUDY_FORMATS
        ),
        "xi_law_trainings": sum(
            1 for r in study if r["topic"] == "习近平法治思想" and r["format"] == "专题培训"
        ),
        "rule_of_law_meetings": sum(1 for r in study if r["format"] == "法治政府建设会议"),
        "warning_education_sessions": sum(1 for r in study if r["format"] == "警示教育"),
        "qualified_legal_reviewers": sum(
            1 for r in roster if r["role"] == "法制审核" and r["bar_qualified"]
        ),
    }


# ---------------------------------------------------------------- the printed figures


@dataclass(frozen=True)
class Printed:
    """One figure as the published report printed it."""

    code: str
    printed: str
    number: float
    qualifier: str  # "", "余", "约" or "约余"


def published_figures(year: int = 2024) -> dict[str, Printed]:
    """Read the figures the bureau's report printed for a year (shipped as package data)."""
    text = resources.files("flows.contract").joinpath(f"data/published-{year}.csv").read_text("utf-8")
    rows: Iterable[dict] = csv.DictReader(text.splitlines())
    return {
        r["code"]: Printed(r["code"], r["printed"], float(r["number"]), r["qualifier"] or "")
        for r in rows
    }


def last_digit_unit(number: float) -> Decimal:
    """Return one unit of a number's last non-zero digit (72000 → 1000, 1.365 → 0.001)."""
    value = Decimal(str(number)).normalize()
    if value == 0:
        return Decimal(1)
    return Decimal(1).scaleb(value.as_tuple().exponent)


def agrees(printed: Printed, value: float | None) -> bool:
    """Say whether a computed value agrees with a printed figure under the report's rules."""
    if value is None:
        return False
    n, v = Decimal(str(printed.number)), Decimal(str(value))
    unit = last_digit_unit(printed.number)
    if printed.qualifier == "余":
        return n <= v < n + unit
    if printed.qualifier == "约":
        return n - unit / 2 <= v < n + unit / 2
    if printed.qualifier == "约余":
        return n - unit / 2 <= v < n + unit
    return v == n
