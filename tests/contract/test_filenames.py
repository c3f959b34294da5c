from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.contract.filenames import (
    month_from_sheet,
    period_from_name,
    revision_from_name,
    snapshot_date_from_name,
    year_from_name,
)


@pytest.mark.parametrize(
    ("name", "period"),
    [
        ("2024-03.xlsx", (2024, 3)),
        ("2024年3月.xlsx", (2024, 3)),
        ("2024年03月.xls", (2024, 3)),
        ("202403.csv", (2024, 3)),
        ("2024.3.xlsx", (2024, 3)),
        ("2024_03.xlsx", (2024, 3)),
        ("执法检查台账2024年3月（修订）.xlsx", (2024, 3)),
        ("2024-03_v2.xlsx", (2024, 3)),
        ("2024-03（修订）.xlsx", (2024, 3)),
        ("西吉县执法检查台账（2024年12月）.xlsx", (2024, 12)),
        ("２０２４年３月.xlsx", (2024, 3)),
        ("2024 年 3 月.xlsx", (2024, 3)),
        ("2024-03-05.xlsx", (2024, 3)),
        ("20240331报送.xlsx", (2024, 3)),
        # An explicit month wins over the date the file was sent on.
        ("执法检查台账2024年3月（20240405报送）.xlsx", (2024, 3)),
        ("执法检查台账20240405报送（2024-03）.xlsx", (2024, 3)),
        # No month, or no possible one.
        ("2024年执法检查台账.xlsx", None),
        ("执法检查台账.xlsx", None),
        ("2024-13.xlsx", None),
        ("202400.xlsx", None),
        ("20241399.xlsx", None),  # not yyyymm + 99: an impossible 8-digit date
        ("1202403.xlsx", None),
        ("2024035.xlsx", None),
        ("1999-03.xlsx", None),
        ("2024-2025.xlsx", None),
    ],
)
def test_period_from_name(name, period):
    assert period_from_name(name) == period


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("2024年执法检查台账.xlsx", 2024),
        ("执法人员名录2024.xlsx", 2024),
        ("执法人员名录20241231.xlsx", 2024),
        ("2023-12.xlsx", 2023),
        ("执法人员名录.xlsx", None),
        ("12345.xlsx", None),
    ],
)
def test_year_from_name(name, year):
    assert year_from_name(name) == year


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("执法人员名录2024-12-31.xlsx", date(2024, 12, 31)),
        ("执法人员名录20241231.xlsx", date(2024, 12, 31)),
        ("执法人员名录2024年12月31日.xlsx", date(2024, 12, 31)),
        ("执法人员名录2024.12.31.xlsx", date(2024, 12, 31)),
        ("执法人员名录2024_6_1.xlsx", date(2024, 6, 1)),
        ("执法人员名录2024-12.xlsx", None),
        ("执法人员名录2024-02-30.xlsx", None),
        ("执法人员名录2024-12.31.xlsx", None),  # mixed separators
        ("2024.xlsx", None),
    ],
)
def test_snapshot_date_from_name(name, day):
    assert snapshot_date_from_name(name) == day


@pytest.mark.parametrize(
    ("name", "revision"),
    [
        ("2024-03.xlsx", 0),
        ("2024-03（修订）.xlsx", 1),
        ("2024-03更正.xlsx", 1),
        ("2024-03修订2.xlsx", 2),
        ("2024-03（第二次修订）.xlsx", 2),
        ("2024-03_v2.xlsx", 2),
        ("2024-03-V3.xlsx", 3),
        ("2024-03 v10.xlsx", 10),
        ("review2.xlsx", 0),
        ("2024-03_v2（修订3）.xlsx", 3),
    ],
)
def test_revision_from_name(name, revision):
    assert revision_from_name(name) == revision


def test_revision_ranks_marked_after_unmarked_and_higher_after_lower():
    names = ["2024-03.xlsx", "2024-03_v3.xlsx", "2024-03（修订）.xlsx", "2024-03_v2.xlsx"]
    ranked = sorted(names, key=revision_from_name)
    assert ranked == ["2024-03.xlsx", "2024-03（修订）.xlsx", "2024-03_v2.xlsx", "2024-03_v3.xlsx"]


@pytest.mark.parametrize(
    ("sheet", "month"),
    [
        ("1月", 1),
        ("12月", 12),
        ("01", 1),
        ("12", 12),
        ("3", 3),
        ("2024年3月", 3),
        ("3月份", 3),
        (" 3 月 ", 3),
        ("三月", 3),
        ("十二月", 12),
        ("Sheet1", None),
        ("13月", None),
        ("0", None),
        ("汇总", None),
        ("", None),
    ],
)
def test_month_from_sheet(sheet, month):
    assert month_from_sheet(sheet) == month


def _render_period(year: int, month: int) -> list[str]:
    return [
        f"{year}-{month:02d}",
        f"{year}年{month}月",
        f"{year}年{month:02d}月",
        f"{year}{month:02d}",
        f"{year}.{month}",
        f"{year}_{month:02d}",
    ]


@given(
    st.integers(2000, 2099),
    st.integers(1, 12),
    st.sampled_from(["", "执法检查台账", "西吉县", "台账-"]),
    st.sampled_from(["", "（修订）", "_v2", "更正"]),
    st.sampled_from([".xlsx", ".xls", ".csv"]),
)
def test_periods_round_trip(year, month, prefix, suffix, ext):
    for form in _render_period(year, month):
        name = f"{prefix}{form}{suffix}{ext}"
        assert period_from_name(name) == (year, month), name
        assert year_from_name(name) == year


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_snapshot_dates_round_trip(day):
    for form in (
        f"{day:%Y-%m-%d}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
    ):
        assert snapshot_date_from_name(f"执法人员名录{form}.xlsx") == day
        assert period_from_name(f"执法人员名录{form}.xlsx") == (day.year, day.month)


@given(st.integers(1, 12), st.sampled_from(["{m}月", "{m:02d}", "{m}", "2024年{m}月", "{m}月份"]))
def test_sheet_months_round_trip(month, form):
    assert month_from_sheet(form.format(m=month)) == month


@given(st.text(max_size=30))
def test_arbitrary_names_never_crash(name):
    period = period_from_name(name)
    if period is not None:
        assert 2000 <= period[0] <= 2099 and 1 <= period[1] <= 12
    assert revision_from_name(name) >= 0
    month = month_from_sheet(name)
    assert month is None or 1 <= month <= 12
