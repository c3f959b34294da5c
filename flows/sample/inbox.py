"""Write one year's sample inbox: every ledger, every month, in every form the templates allow.

The plan below decides, file by file, how each unit's clerk wrote it (the `Style`), where the
documented mistakes go, and how the registers grow month by month. `write_sample_inbox`
renders the plan, writes the files with fixed timestamps and returns a manifest that says
what was written, which figures the truth rows give and where each mistake sits.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.contract.ledgers import LEDGERS, Ledger
from flows.sample import writers
from flows.sample.figures import compute_figures
from flows.sample.messy import (
    Extra,
    Located,
    Mark,
    Sheet,
    Style,
    hidden_sheet,
    notes_sheet,
    render_sheet,
)
from flows.sample.truth import DEFAULT_SEED, Targets, truth_frames

BUREAU = "西吉县文化旅游广电局"

FOLDERS = {
    "inspections": "inspections", "relic_patrols": "不可移动文物巡查台账",
    "publications": "publications", "cases": "行政处罚案件台账", "hotline": "hotline",
    "safety_incidents": "安全生产事故台账", "publicity_events": "普法宣传活动台账",
    "wechat_posts": "wechat_posts", "study_sessions": "学法培训台账", "staff": "执法人员名录",
}  # fmt: skip

PERIOD_FORMS = {
    "dash": "{y}-{m:02d}", "cn": "{y}年{m}月", "cn0": "{y}年{m:02d}月", "compact": "{y}{m:02d}",
    "dot": "{y}.{m}",
}  # fmt: skip

# Truth rows that carry a documented mistake: the column it sits in, its rule and severity.
TAGGED = {
    "outside_period": ("outside_period", "warning"),
    "officer_not_on_roster": ("officer_not_certified", "warning"),
    "case_not_found": ("case_not_found", "warning"),
    "disclosure_late": ("disclosure_late", "warning"),
    "id_check_digit": ("id_check_digit", "warning"),
    "url": ("url", "warning"),
}
TAG_COLUMN = {
    "officer_not_on_roster": "officers",
    "case_not_found": "case_no",
    "disclosure_late": "disclosed_on",
    "id_check_digit": "party_id",
    "url": "url",
}


@dataclass(frozen=True)
class Mistake:
    """A deliberate clerk mistake: where it is (path relative to the inbox) and what it breaks."""

    path: str
    sheet: str  # "" for a CSV file
    row: int  # as the spreadsheet shows it, 1-based, title rows included
    header: str  # as written in that file
    raw_value: str
    rule: str
    severity: str  # error | warning


@dataclass(frozen=True)
class WrittenFile:
    """One file of the inbox."""

    path: str  # relative to the inbox
    ledger: str
    period: str  # 2024-03, a year for a yearly workbook, a date for a snapshot
    data_rows: int  # rows a loader reads as data (truth rows and extra rows)
    extra_rows: int  # rows beyond the truth set (each carries an error)


@dataclass
class SampleManifest:
    """What `write_sample_inbox` wrote and what a correct pipeline must make of it."""

    year: int
    seed: int
    out: Path
    files: list[WrittenFile] = field(default_factory=list)
    expected: dict[str, float | None] = field(default_factory=dict)
    mistakes: list[Mistake] = field(default_factory=list)
    truth_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class _Job:
    path: str
    ledger: Ledger
    period: str
    fmt: str
    encoding: str
    sheets: list[Sheet]
    located: list[Located]
    submitted: dt.datetime
    data_rows: int
    extra_rows: int


# ---------------------------------------------------------------- helpers


def end_of_month(year: int, month: int) -> dt.date:
    """Return the last day of a month."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def submitted_at(year: int, month: int, day: int = 3) -> dt.datetime:
    """Return when a month's file was handed in: early the next month, 09:00."""
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.datetime(y, m, day, 9, 0, 0)


def period_name(form: str, year: int, month: int) -> str:
    """Write a period the way a file name does (2024-03, 2024年3月, 202403 …)."""
    return PERIOD_FORMS[form].format(y=year, m=month)


def tag_marks(frame: pl.DataFrame, date_column: str) -> dict[int, Mark]:
    """Mark the truth rows of a file that carry a documented mistake."""
    marks: dict[int, Mark] = {}
    if "_tag" not in frame.columns:
        return marks
    for i, tag in enumerate(frame["_tag"].to_list()):
        if tag in TAGGED:
            column = TAG_COLUMN.get(tag, date_column)
            if frame[column][i] is not None:
                rule, severity = TAGGED[tag]
                marks[i] = Mark(column, rule, severity)
    return marks


def _job(
    ledger: Ledger,
    name: str,
    period: str,
    month: int,
    year: int,
    frame: pl.DataFrame,
    style: Style,
    extras: tuple[Extra, ...] = (),
    marks: dict[int, Mark] | None = None,
    submitted: dt.datetime | None = None,
) -> _Job:
    date_column = next(c.name for c in ledger.columns if c.type == "date")
    all_marks = tag_marks(frame, date_column) | (marks or {})
    sheet, located = render_sheet(ledger, frame, style, year, month, BUREAU, extras, all_marks)
    sheets = [sheet]
    if style.before == "hidden":
        sheets.insert(0, hidden_sheet(ledger))
    elif style.before == "notes":
        sheets.insert(0, notes_sheet(ledger))
    ext = {"xlsx": ".xlsx", "xls": ".xls", "csv": ".csv"}[style.fmt]
    path = f"{FOLDERS[ledger.code]}/{name}{ext}"
    return _Job(
        path,
        ledger,
        period,
        style.fmt,
        style.encoding,
        sheets,
        located,
        submitted or submitted_at(year, month),
        len(frame) + len(extras),
        len(extras),
    )


def _month_rows(frame: pl.DataFrame, month: int) -> pl.DataFrame:
    return frame.filter(pl.col("_month") == month)


# ---------------------------------------------------------------- the plan, ledger by ledger


def plan_inspections(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the enforcement unit's monthly inspection files (xlsx, every layout)."""
    ledger = LEDGERS["inspections"]
    base = Style(seq=True, signature=True, sheet="执法检查台账")
    aliases = {
        "inspection_type": {"双随机抽查": "双随机", "联合抽查": "联合检查"},
        "venue_type": {"歌舞娱乐场所": "KTV", "出版物经营单位": "书店", "A级旅游景区": "景区"},
    }
    styles = {
        1: ("dash", "", base),
        2: (
            "cn",
            "执法检查台账",
            base.but(
                before="hidden",
                aliases=aliases,
                headers={
                    "inspection_date": "日期",
                    "inspectors": "出动人数",
                    "venue_name": "场所名称",
                    "result": "处理结果",
                },
            ),
        ),
        3: (
            "compact",
            "",
            base.but(
                before="notes",
                extra="所属乡镇",
                total=True,
                blank_every=7,
                headers={
                    "inspectors": "出动\n人次",
                    "campaign": "专项行动\n名称",
                    "spot_check_task": "抽查任务\n编号",
                },
            ),
        ),
        4: ("dot", "", base.but(date_form="slash", int_form=("text", "suffix"))),
        5: (
            "cn0",
            "",
            base.but(
                date_form="serial_number",
                int_form=("float",),
                name_sep="，",
                aliases={"venue_type": {"歌舞娱乐场所": "ＫＴＶ"}},
                headers={"inspection_date": "检查　日期", "inspectors": "出动人次（人次）"},
            ),
        ),
        6: ("dash", "", base.but(date_form="iso")),
        7: (
            "dash",
            "",
            base.but(date_form="iso", name_sep=",", order=("venue_name", "venue_type")),
        ),
        8: (
            "cn",
            "",
            base.but(
                date_form="serial_text",
                headers={
                    "inspection_date": "检查时间",
                    "venue_name": "经营单位",
                    "inspectors": "执法人次",
                },
            ),
        ),
        9: ("compact", "执法检查台账", base.but(date_form="cn", before="hidden", aliases=aliases)),
        10: ("dot", "", base.but(date_form="compact", int_form=("fullwidth", "text"))),
        11: ("cn0", "", base.but(date_form="md_cn", total=True, title=False)),
        12: (
            "dash",
            "",
            base.but(
                date_form="md_dot",
                name_sep=" ",
                headers={"venue_name": "检查场所", "inspectors": "检查人次"},
            ),
        ),
    }
    jobs = []
    for month, (form, prefix, style) in styles.items():
        rows = _month_rows(frame, month)
        name = f"{prefix}{period_name(form, year, month)}"
        extras: tuple[Extra, ...] = ()
        if month == 4:  # an impossible date, on a row beyond the truth set
            extras = (Extra(3, "inspection_date", f"{year}-04-31", "date"),)
        if month == 6:
            jobs.append(_june_original(year, ledger, rows, style, name))
            name = f"{name}（修订）"
        jobs.append(
            _job(
                ledger,
                name,
                period_name("dash", year, month),
                month,
                year,
                rows,
                style,
                extras,
                submitted=submitted_at(year, month, 4 if month == 6 else 3),
            )
        )
    return jobs


def _june_original(year: int, ledger: Ledger, rows: pl.DataFrame, style: Style, name: str) -> _Job:
    """Plan June's first submission, which its correction replaces: a row missing, counts wrong."""
    wrong = rows.head(len(rows) - 1).with_columns(
        pl.when(pl.int_range(pl.len()).is_in([2, 9]))
        .then(pl.col("inspectors") + 1)
        .otherwise(pl.col("inspectors"))
        .alias("inspectors")
    )
    marks = {5: Mark("inspectors", "integer", "error", "2.5")}
    return _job(ledger, name, period_name("dash", year, 6), 6, year, wrong, style, (), marks)


def plan_relic_patrols(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the relic patrol files: old .xls early in the year, then xlsx and GBK CSV."""
    ledger = LEDGERS["relic_patrols"]
    levels = {
        "县级文物保护单位": "县保",
        "全国重点文物保护单位": "国保",
        "自治区级文物保护单位": "区保",
        "未定级不可移动文物": "未定级",
    }
    base = Style(sheet="文物巡查")
    styles = {
        1: ("cn", base.but(fmt="xls", date_form="dot")),
        2: ("cn", base.but(fmt="xls", aliases={"protection_level": levels})),
        3: ("cn", base.but(fmt="xls", zero_form="", date_form="excel")),
        4: ("cn0", base.but(fmt="xls", date_form="compact", title=False)),
        5: ("cn0", base.but(date_form="compact", aliases={"protection_level": levels})),
        6: ("dash", base.but(zero_form="", seq=True)),
        7: ("dash", base.but(date_form="cn")),
        8: ("dash", base.but(aliases={"protection_level": levels}, signature=True)),
        9: ("compact", base.but(zero_form="", date_form="slash")),
        10: ("compact", base),
        11: ("dot", base.but(fmt="csv", encoding="gbk", sheet="", date_form="iso")),
        12: (
            "dot",
            base.but(fmt="csv", encoding="gb18030", sheet="", date_form="md_cn", title=False),
        ),
    }
    jobs = []
    for month, (form, style) in styles.items():
        rows = _month_rows(frame, month)
        # After the second row; a smaller county's August may have one (org samples).
        extras = (Extra(min(1, len(rows) - 1), "protection_level", "市保", "enum"),) if month == 8 and len(rows) else ()
        jobs.append(
            _job(
                ledger,
                f"文物巡查{period_name(form, year, month)}",
                period_name("dash", year, month),
                month,
                year,
                rows,
                style,
                extras,
            )
        )
    return jobs


def plan_publications(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the publications files: CSV in every encoding, aliases, brackets, zero months."""
    ledger = LEDGERS["publications"]
    encodings = ["utf-8-sig", "gb18030", "gbk", "utf-8"]
    actions = {"action": {"收缴": "没收", "下架": "撤架"}}
    date_forms = ["cn", "md_dot", "compact", "slash", "iso", "dot"]
    jobs = []
    for month in range(1, 13):
        style = Style(
            fmt="csv",
            encoding=encodings[month % 4],
            sheet="",
            date_form=date_forms[month % 6],
            int_form=("text", "suffix", "thousands"),
            aliases=actions if month % 2 == 0 else {},
            brackets=["", "[]", "【】", "()"][month % 4],
            title=month % 3 != 0,
        )
        if month == 7:
            style = style.but(
                fmt="xlsx", sheet="违规出版物", date_form="excel", int_form=("plain",)
            )
        jobs.append(
            _job(
                ledger,
                f"违规出版物{period_name(['compact', 'dash'][month % 2], year, month)}",
                period_name("dash", year, month),
                month,
                year,
                _month_rows(frame, month),
                style,
            )
        )
    return jobs


def cases_as_of(frame: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Return the case register as it stood on a day: later facts still blank."""
    decided = pl.col("decided_on") <= day
    closed = pl.col("closed_on") <= day

    def keep(when: pl.Expr, name: str) -> pl.Expr:
        return pl.when(when).then(pl.col(name)).otherwise(None).alias(name)

    return frame.filter(pl.col("filed_on") <= day).with_columns(
        *[
            keep(decided, c)
            for c in (
                "decided_on",
                "fine_yuan",
                "confiscated_yuan",
                "legal_review",
                "collective_review",
            )
        ],
        keep(pl.col("disclosed_on") <= day, "disclosed_on"),
        keep(closed, "closed_on"),
        keep(closed, "reconsideration"),
        keep(closed, "litigation"),
    )


def plan_cases(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the case register, resubmitted monthly as it stands, in every money and yes/no form."""
    ledger = LEDGERS["cases"]
    bools: list[tuple[object, object]] = [
        ("是", "否"),
        ("Y", "N"),
        ("√", "×"),
        ("TRUE", "FALSE"),
        (1, 0),
        ("有", "无"),
        (True, False),
    ]
    money = {2: "yuan", 3: "thousands", 5: "wan", 8: "wan_header", 11: "yuan"}
    jobs = []
    for month in range(1, 13):
        style = Style(
            sheet="案件台账",
            bool_form=bools[month % len(bools)],
            money_form=money.get(month, "plain"),
            date_form=["excel", "iso", "cn", "slash"][month % 4],
            signature=month % 2 == 0,
        )
        if month == 8:
            style = style.but(headers={"fine_yuan": "罚款金额（万元）"})
        else:
            style = style.but(
                headers={"fine_yuan": "罚款金额（元）", "confiscated_yuan": "没收违法所得（元）"}
            )
        if month == 3:
            style = style.but(aliases={"party_type": {"个人": "自然人"}})
        if month == 6:
            style = style.but(aliases={"party_type": {"单位": "个体工商户"}}, seq=True)
        if month in (5, 10):
            style = style.but(headers={**style.headers, "violation": "违法行为"})
        if month == 4:
            style = style.but(
                fmt="csv",
                encoding="gb18030",
                sheet="",
                date_form="iso",
                bool_form=("TRUE", "FALSE"),
            )
        rows = cases_as_of(frame, end_of_month(year, month))
        extras = (
            (Extra(len(rows) // 2, "case_no", None, "duplicate_key"),)
            if month == 5 and len(rows)
            else ()
        )
        jobs.append(
            _job(
                ledger,
                f"行政处罚案件台账{period_name(['cn', 'dash', 'cn0'][month % 3], year, month)}",
                period_name("dash", year, month),
                month,
                year,
                rows,
                style,
                extras,
            )
        )
    return jobs


def plan_hotline(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the 12345 register, resubmitted monthly; odd months as UTF-8 CSV without BOM."""
    ledger = LEDGERS["hotline"]
    jobs = []
    for month in range(1, 13):
        day = end_of_month(year, month)
        closed = pl.col("closed_on") <= day
        rows = frame.filter(
            (pl.col("received_on") <= day)
            & ((pl.col("_tag") != "carried_over") | pl.col("_tag").is_null() | pl.lit(month <= 2))
        )
        rows = rows.with_columns(
            pl.when(pl.col("replied_on") <= day)
            .then(pl.col("replied_on"))
            .otherwise(None)
            .alias("replied_on"),
            pl.when(closed).then(pl.col("closed_on")).otherwise(None).alias("closed_on"),
            pl.when(closed).then(pl.col("satisfaction")).otherwise(None).alias("satisfaction"),
        )
        style = (
            Style(fmt="csv", encoding="utf-8", sheet="", date_form="iso", title=False)
            if month % 2
            else Style(sheet="12345工单", date_form="excel")
        )
        jobs.append(
            _job(
                ledger,
                f"12345热线工单{period_name(['dash', 'compact'][month % 2], year, month)}",
                period_name("dash", year, month),
                month,
                year,
                rows,
                style,
            )
        )
    return jobs


FORGOTTEN_SAFETY_MONTHS = (7, 10)  # zero reports the unit never sent


def plan_safety(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the safety incident files: mostly zero reports, some saying 本月无; two never sent.

    A unit that had nothing to report forgets its zero report now and then: July and October
    are missing (`tally completeness` says 未报), which changes no figure.
    """
    ledger = LEDGERS["safety_incidents"]
    jobs = []
    for month in range(1, 13):
        if month in FORGOTTEN_SAFETY_MONTHS:
            continue
        style = Style(sheet="安全生产事故", zero_row={3: "本月无", 9: "本月无", 6: "无"}.get(month))
        if month == 12:
            style = style.but(fmt="csv", encoding="utf-8-sig", sheet="")
        jobs.append(
            _job(
                ledger,
                f"安全生产事故台账{period_name('cn', year, month)}",
                period_name("dash", year, month),
                month,
                year,
                _month_rows(frame, month),
                style,
            )
        )
    return jobs


def plan_publicity(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the publicity files: two-row merged headers, theme aliases, dashes for nothing."""
    ledger = LEDGERS["publicity_events"]
    aliases = {
        "theme": {
            "世界读书日": "4·23",
            "国家宪法日": "宪法日",
            "国际禁毒日": "6·26",
            "文化和自然遗产日": "文化遗产日",
            "知识产权宣传周": "4·26",
        },
        "mode": {"线下": "现场", "线上": "网上"},
        "venue_kind": {"学校": "进学校", "机关": "进机关", "景区": "进景区"},
    }
    zeros = ["-", "—", "/", "", "-", "—"]
    jobs = []
    for month in range(1, 13):
        chosen = {k: v for k, v in aliases.items() if (k == "theme") == (month in (4, 6, 12))}
        style = Style(
            sheet="普法宣传",
            two_row=True,
            seq=True,
            zero_form=zeros[month % 6],
            aliases=chosen if month % 2 or month in (4, 6, 12) else {},
            headers={"reach": "覆盖群众（人次）"},
            int_form=("plain",) if month % 3 else ("thousands", "text"),
            total=month in (4, 7, 11),
            total_offset=100 if month == 11 else 0,
            date_form=["excel", "iso", "cn"][month % 3],
            signature=month in (4, 11),
        )
        if month in (5, 10):
            style = style.but(
                fmt="csv",
                encoding="gb18030" if month == 5 else "utf-8",
                sheet="",
                two_row=False,
                headers={"reach": "受众人次", "leaflets": "宣传折页"},
                total=False,
            )
        jobs.append(
            _job(
                ledger,
                f"{period_name(['cn', 'cn0', 'dash'][month % 3], year, month)}普法宣传活动台账",
                period_name("dash", year, month),
                month,
                year,
                _month_rows(frame, month),
                style,
            )
        )
    return jobs


def plan_wechat(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the WeChat post files; the default section left blank in some months."""
    ledger = LEDGERS["wechat_posts"]
    jobs = []
    for month in range(1, 13):
        style = Style(
            sheet="公众号推送",
            date_form=["excel", "dot", "iso"][month % 3],
            int_form=("plain",) if month % 4 else ("suffix", "thousands"),
            aliases={"section": {"其他": ""}} if month % 3 == 0 else {},
        )
        if month % 2:
            style = style.but(
                fmt="csv",
                encoding="utf-8-sig",
                sheet="",
                date_form="iso" if month % 3 == 1 else style.date_form,
            )
        jobs.append(
            _job(
                ledger,
                f"公众号推送{period_name(['dash', 'dot'][month % 2], year, month)}",
                period_name("dash", year, month),
                month,
                year,
                _month_rows(frame, month),
                style,
            )
        )
    return jobs


def plan_study(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the office's yearly study workbook: one sheet per month, empty months as zero reports."""
    ledger = LEDGERS["study_sessions"]
    sheets: list[Sheet] = []
    located: list[Located] = []
    for month in range(1, 13):
        style = Style(
            sheet=f"{month}月",
            title=month % 2 == 1,
            int_form=("plain",) if month % 3 else ("suffix",),
            aliases={"format": {"专题培训": "培训", "专题讲座": "讲座"}} if month % 2 == 0 else {},
            headers={"held_on": "学习日期"} if month in (4, 9) else {},
            date_form=["excel", "iso", "cn", "slash"][month % 4],
        )
        sheet, marks = render_sheet(ledger, _month_rows(frame, month), style, year, month, BUREAU)
        sheets.append(sheet)
        located += marks
    job = _Job(
        f"{FOLDERS['study_sessions']}/{year}年学法培训台账.xlsx",
        ledger,
        str(year),
        "xlsx",
        "",
        sheets,
        located,
        dt.datetime(year + 1, 1, 5, 9, 0),
        len(frame),
        0,
    )
    return [job]


def plan_staff(year: int, frame: pl.DataFrame) -> list[_Job]:
    """Plan the roster snapshot at the end of the year."""
    ledger = LEDGERS["staff"]
    style = Style(
        sheet="执法人员",
        bool_form=("是", ""),
        seq=True,
        title=False,
        headers={"cert_valid_until": "证件有效期至"},
    )
    job = _job(
        ledger,
        f"执法人员名录{year}-12-31",
        f"{year}-12-31",
        12,
        year,
        frame,
        style,
        submitted=dt.datetime(year, 12, 31, 17, 0),
    )
    return [job]


PLANS = {
    "inspections": plan_inspections, "relic_patrols": plan_relic_patrols,
    "publications": plan_publications, "cases": plan_cases, "hotline": plan_hotline,
    "safety_incidents": plan_safety, "publicity_events": plan_publicity,
    "wechat_posts": plan_wechat, "study_sessions": plan_study, "staff": plan_staff,
}  # fmt: skip


# ---------------------------------------------------------------- writing


def _write(job: _Job, out: Path) -> None:
    path = out / job.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if job.fmt == "xlsx":
        writers.write_xlsx(path, job.sheets, job.submitted, BUREAU)
    elif job.fmt == "xls":
        writers.write_xls(path, job.sheets)
    else:
        writers.write_csv(path, job.sheets[-1], job.encoding)
    # File times as if each was handed in on its day (UTC), so reruns give the same inbox.
    stamp = calendar.timegm(job.submitted.timetuple())
    os.utime(path, (stamp, stamp))


def write_sample_inbox(year: int, out: Path, seed: int = DEFAULT_SEED, *,
                       targets: Targets | None = None) -> SampleManifest:
    """Write a realistic inbox of one year's ledgers under `out` and say what it holds.

    `targets` gives another county's row counts and amounts (`flows.sample.org`); by default
    the year's own, which for 2024 are the published figures.
    """
    out = Path(out)
    frames = truth_frames(year, seed, targets=targets)
    manifest = SampleManifest(year, seed, out)
    for code, plan in PLANS.items():
        for job in plan(year, frames[code]):
            _write(job, out)
            manifest.files.append(
                WrittenFile(job.path, code, job.period, job.data_rows, job.extra_rows)
            )
            manifest.mistakes += [
                Mistake(job.path, m.sheet, m.row, m.header, m.raw_value, m.rule, m.severity)
                for m in job.located
            ]
    manifest.expected = compute_figures(frames, year)
    manifest.truth_rows = {code: len(frame) for code, frame in frames.items()}
    return manifest
