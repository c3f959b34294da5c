"""The sample inbox: deterministic, complete, messy in every allowed way, with known figures."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from flows.contract.ledgers import LEDGERS, ledger_for_folder
from flows.privacy.masking import valid_resident_id, valid_uscc
from flows.sample import (
    agrees,
    compute_figures,
    published_figures,
    truth_frames,
    write_sample_inbox,
)
from flows.sample.inbox import FOLDERS
from flows.sample.messy import to_full_width, with_thousands
from flows.sample.truth import split_total
from flows.sample.workdays import nth_workday_after


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    out = tmp_path_factory.mktemp("inbox-2024")
    return write_sample_inbox(2024, out)


def hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_csv_grid(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return [row for row in csv.reader(io.StringIO(text))]


def read_grids(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet of a file as rows of text cells ("" for empty); a CSV is one sheet named ""."""
    if path.suffix == ".csv":
        return {"": read_csv_grid(path)}
    reader = fastexcel.read_excel(path)
    grids = {}
    for name in reader.sheet_names:
        frame = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
        grids[name] = [["" if v is None else v for v in row] for row in frame.rows()]
    return grids


def all_cells(root: Path) -> set[str]:
    cells: set[str] = set()
    for path in root.rglob("*"):
        if path.is_file():
            for grid in read_grids(path).values():
                cells.update(c for row in grid for c in row if c)
    return cells


def same_value(cell: str, raw: str) -> bool:
    cell = cell.removesuffix(" 00:00:00")
    if cell == raw:
        return True
    try:
        return float(cell) == float(raw)
    except ValueError:
        return False


# ---------------------------------------------------------------- determinism and layout


def test_same_year_and_seed_give_identical_bytes(tmp_path):
    a = write_sample_inbox(2024, tmp_path / "a")
    write_sample_inbox(2024, tmp_path / "b")
    first, second = hashes(tmp_path / "a"), hashes(tmp_path / "b")
    assert first == second
    assert len(first) == len(a.files)
    write_sample_inbox(2024, tmp_path / "c", seed=7)
    assert hashes(tmp_path / "c") != first


def test_every_ledger_has_a_folder_named_by_code_or_chinese_name(inbox):
    folders = {p.name for p in inbox.out.iterdir() if p.is_dir()}
    assert folders == set(FOLDERS.values())
    assert {ledger_for_folder(f).code for f in folders} == set(LEDGERS)
    assert folders & set(LEDGERS) and folders & {ledger.name_zh for ledger in LEDGERS.values()}


def test_period_ledgers_have_twelve_months_and_the_roster_a_dated_snapshot(inbox):
    for code in LEDGERS:
        periods = {f.period for f in inbox.files if f.ledger == code}
        if code == "study_sessions":
            assert periods == {"2024"}
        elif code == "staff":
            assert periods == {"2024-12-31"}
            assert (inbox.out / "执法人员名录" / "执法人员名录2024-12-31.xlsx").is_file()
        elif code == "safety_incidents":  # two zero reports never sent: missing months
            assert periods == {f"2024-{m:02d}" for m in range(1, 13) if m not in (7, 10)}
        else:
            assert periods == {f"2024-{m:02d}" for m in range(1, 13)}, code


def test_file_names_use_every_period_form(inbox):
    names = [Path(f.path).stem for f in inbox.files]
    for pattern in (
        r"2024-\d\d",
        r"2024年[1-9]月",
        r"2024年0\d月",
        r"2024(0\d|1[0-2])$",
        r"2024\.\d+$",
    ):
        assert any(re.search(pattern, n) for n in names), pattern
    assert {"2024-06", "2024-06（修订）"} <= {Path(f.path).stem for f in inbox.files}


# ---------------------------------------------------------------- figures


def test_2024_figures_agree_with_the_published_report(inbox):
    published = published_figures(2024)
    for code, printed in published.items():
        assert agrees(printed, inbox.expected[code]), (code, printed, inbox.expected[code])
    exact = {
        "market_campaigns": 12, "joint_spot_checks": 4, "joint_spot_check_venues": 8,
        "inspector_person_times": 1776, "venue_inspections": 888, "relic_patrols": 109,
        "books_confiscated": 684, "books_removed": 6032, "cases_filed": 31, "fines_yuan": 13650,
        "confiscated_yuan": 7050, "hotline_tickets": 48, "safety_accidents": 0,
        "publicity_events": 153, "posters": 72460, "leaflets": 31000, "banners": 114,
        "wechat_posts": 226, "people_reached": 81200, "penalty_disclosures": 31,
        "xi_law_studies": 21, "xi_law_trainings": 3, "rule_of_law_meetings": 6,
        "spot_check_disclosure_rate": 100, "certified_officer_rate": 100,
        "qualified_legal_reviewers": 1, "reconsiderations": 0, "litigations": 0,
    }  # fmt: skip
    assert {k: inbox.expected[k] for k in exact} == exact
    assert 40 <= inbox.expected["online_patrols"] <= 80
    assert (
        inbox.expected["theme_day_events"] > 0 and inbox.expected["warning_education_sessions"] > 0
    )


def test_rows_outside_the_year_do_not_count():
    frames = truth_frames(2024)
    insp = frames["inspections"]
    assert insp.filter(pl.col("inspection_date") == dt.date(2023, 12, 30))["_month"].to_list() == [
        1
    ]
    assert len(insp.filter(pl.col("inspection_type") != "网上巡查")) == 889
    assert frames["hotline"].filter(pl.col("received_on").dt.year() == 2023).height == 1
    assert compute_figures(frames, 2023)["venue_inspections"] == 1


def test_other_years_differ_plausibly():
    base = compute_figures(truth_frames(2024), 2024)
    for year in (2023, 2025):
        other = compute_figures(truth_frames(year), year)
        for code in (
            "venue_inspections",
            "publicity_events",
            "wechat_posts",
            "posters",
            "cases_filed",
        ):
            ratio = other[code] / base[code]
            assert 0.7 <= ratio <= 1.3 and ratio != 1, (year, code, ratio)


def test_personal_ids_carry_valid_check_digits_except_the_planted_one():
    cases = truth_frames(2024)["cases"]
    for party_id, tag in cases.select("party_id", "_tag").rows():
        right = (
            valid_resident_id(party_id[:17])
            if party_id[:17].isdigit()
            else valid_uscc(party_id[:17])
        )
        assert (right == party_id) == (tag != "id_check_digit")


def test_cases_are_decided_within_90_days_and_published_within_7_working_days():
    cases = truth_frames(2024)["cases"]
    for filed, decided, disclosed, closed, tag in cases.select(
        "filed_on", "decided_on", "disclosed_on", "closed_on", "_tag"
    ).rows():
        assert filed <= decided <= closed <= dt.date(2024, 12, 31)
        assert (decided - filed).days <= 90
        assert (disclosed <= nth_workday_after(decided, 7)) == (tag != "disclosure_late")


# ---------------------------------------------------------------- mistakes


def test_mistakes_point_at_real_cells(inbox):
    assert 8 <= len(inbox.mistakes) <= 14
    rules = {m.rule for m in inbox.mistakes}
    assert {"date", "integer", "enum", "duplicate_key", "officer_not_certified", "case_not_found",
            "total_mismatch", "disclosure_late", "id_check_digit", "url", "outside_period"} <= rules  # fmt: skip
    for m in inbox.mistakes:
        grid = read_grids(inbox.out / m.path)[m.sheet]
        above = grid[: m.row - 1]
        col = next(
            (j for row in reversed(above) for j, cell in enumerate(row) if cell == m.header), None
        )
        assert col is not None, m
        assert same_value(grid[m.row - 1][col], m.raw_value), (m, grid[m.row - 1][col])


def test_the_correction_replaces_the_june_file_with_different_rows(inbox):
    june = read_grids(inbox.out / "inspections" / "2024-06.xlsx")["执法检查台账"]
    fixed = read_grids(inbox.out / "inspections" / "2024-06（修订）.xlsx")["执法检查台账"]
    assert len(fixed) == len(june) + 1 and fixed != june


# ---------------------------------------------------------------- messy forms


def test_every_messy_form_appears(inbox):
    cells = all_cells(inbox.out)
    for token in (
        "出动\n人次", "宣传品发放", "海报（张）", "折页（份）", "横幅（条）", "序号", "所属乡镇",
        "合计", "填表人：马丽", "本月无", "日期", "出动人数", "场所名称", "处理结果", "违法行为",
        "覆盖群众（人次）", "检查　日期", "罚款金额（万元）", "双随机", "联合检查", "KTV", "ＫＴＶ",
        "书店", "景区", "4·23", "宪法日", "现场", "网上", "进学校", "没收", "撤架", "自然人",
        "个体工商户", "县保", "培训", "-", "—", "/", "是", "否", "Y", "N", "√", "×", "有", "无",
        "TRUE", "FALSE", "1", "0",
    ):  # fmt: skip
        assert token in cells, token
    title = re.compile(r"^西吉县文化旅游广电局执法检查台账（2024年\d+月）$")
    assert any(title.match(c) for c in cells)
    assert any(c.startswith("填报单位：") for c in cells)
    date_forms = [
        r"^2024-\d\d-\d\d 00:00:00$", r"^45\d{3}(\.0)?$", r"^2024-\d\d-\d\d$", r"^2024/\d{1,2}/\d{1,2}$",
        r"^2024\.\d{1,2}\.\d{1,2}$", r"^2024年\d{1,2}月\d{1,2}日$", r"^2024\d{4}$", r"^\d{1,2}月\d{1,2}日$",
        r"^1?\d\.[1-3]?\d$",
    ]  # fmt: skip
    number_forms = [
        r"^[０-９]+$", r"^\d+人$", r"^\d+次$", r"^\d+本$", r"^\d{1,3}(,\d{3})+$", r"^\d+元$",
        r"^0\.\d+万元$", r"^\d+\.0$", r"^2\.5$",
    ]  # fmt: skip
    for pattern in date_forms + number_forms:
        assert any(re.match(pattern, c) for c in cells), pattern


def test_sheets_files_and_encodings(inbox):
    root = inbox.out
    feb = fastexcel.read_excel(root / "inspections" / "执法检查台账2024年2月.xlsx")
    assert [feb.load_sheet(i, header_row=None).visible for i in range(2)] == ["hidden", "visible"]
    assert fastexcel.read_excel(root / "inspections" / "202403.xlsx").sheet_names[0] == "说明"
    study = fastexcel.read_excel(root / "学法培训台账" / "2024年学法培训台账.xlsx")
    assert study.sheet_names == [f"{m}月" for m in range(1, 13)]
    empty = [s for s, g in read_grids(root / "学法培训台账" / "2024年学法培训台账.xlsx").items()
             if not any(re.match(r"^\d+$", row[-1]) for row in g)]  # fmt: skip
    assert empty, "some months are zero reports"
    assert list(root.rglob("*.xls"))
    csvs = [p.read_bytes() for p in root.rglob("*.csv")]
    assert any(b.startswith(b"\xef\xbb\xbf") for b in csvs)
    plain_utf8 = [b for b in csvs if not b.startswith(b"\xef\xbb\xbf")]

    def is_utf8(b: bytes) -> bool:
        try:
            b.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False

    assert any(is_utf8(b) for b in plain_utf8)
    assert any(not is_utf8(b) for b in plain_utf8), "GBK/GB18030 files"
    # Real Excel dates in some files, serial numbers in a text-formatted column in another.
    january = fastexcel.read_excel(root / "inspections" / "2024-01.xlsx").load_sheet(
        0, header_row=3).to_polars()  # fmt: skip
    assert january.schema["检查日期"] in (pl.Date, pl.Datetime("ms"))
    may = fastexcel.read_excel(root / "inspections" / "2024年05月.xlsx").load_sheet(
        0, header_row=3).to_polars()  # fmt: skip
    assert may.schema["检查　日期"] == pl.Float64
    assert b'formatCode="@"' in _zip_member(
        root / "inspections" / "2024年05月.xlsx", "xl/styles.xml"
    )


def _zip_member(path: Path, name: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read(name)


def test_totals_add_up_except_the_planted_one(inbox):
    planted = {(m.path, m.row) for m in inbox.mistakes if m.rule == "total_mismatch"}
    checked = 0
    for f in inbox.files:
        for sheet, grid in read_grids(inbox.out / f.path).items():
            for r, row in enumerate(grid):
                if row and row[0] == "合计":
                    header = next(i for i, g in enumerate(grid) if g and g[0] == "序号")
                    data = [g for g in grid[header + 1 : r] if g and re.match(r"^\d+$", g[0] or "")]
                    j = next(j for j, c in enumerate(row) if j and c)
                    total = sum(float(re.sub(r"[^\d.]", "", g[j]) or 0) for g in data)
                    assert (float(row[j]) == total) == ((f.path, r + 1) not in planted), (
                        f.path,
                        sheet,
                    )
                    checked += 1
    assert checked >= 4


def test_registers_grow_month_by_month(inbox):
    grids = {f.period: read_grids(inbox.out / f.path) for f in inbox.files if f.ledger == "cases"}
    first_case = "西文旅罚〔2024〕1号"

    def row_of(period: str) -> list[str]:
        grid = next(iter(grids[period].values()))
        return next(r for r in grid if r and r[0] == first_case)

    jan, dec = row_of("2024-01"), row_of("2024-12")
    assert sum(1 for c in jan if c) < sum(1 for c in dec if c)


def test_cli_writes_an_inbox(tmp_path):
    from flows.cli import app

    result = CliRunner().invoke(app, ["sample", "--year", "2024", "--out-dir", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "i" / "inspections" / "2024-06（修订）.xlsx").is_file()


# ---------------------------------------------------------------- properties


@given(st.integers(min_value=0, max_value=10**9))
def test_thousands_and_full_width_forms_keep_the_number(value):
    frame = pl.DataFrame({"v": [value]})
    text = frame.select(with_thousands(pl.col("v"))).item()
    assert int(text.replace(",", "")) == value
    assert all(len(part) == 3 for part in text.split(",")[1:])
    wide = frame.select(to_full_width(pl.col("v").cast(pl.Utf8))).item()
    assert int(wide.translate({0xFF10 + i: str(i) for i in range(10)})) == value


@given(st.integers(0, 10**6), st.integers(1, 200), st.sampled_from([1, 10, 50, 100]))
def test_split_total_hits_the_total_exactly(total, n, step):
    import numpy as np

    total = total // step * step
    minimum = step
    if n * minimum > total:
        total = n * minimum
    parts = split_total(np.random.default_rng(1), total, n, minimum, step)
    assert parts.sum() == total and (parts >= minimum).all() and (parts % step == 0).all()
