"""Charts: PNGs of a sensible size with real content, and a missing CJK font only warns."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matplotlib.image import imread

from flows.report import charts
from flows.report.charts import (  # fmt: skip
    CJK_FONT_FILES,
    THIS_YEAR_COLOR,
    cjk_font,
    monthly_chart,
    save_charts,
    year_over_year_chart,
)


def monthly_frame() -> pl.DataFrame:
    rows = []
    for year, scale in ((2023, 1), (2024, 2)):
        for code, name, unit in (("inspector_person_times", "出动检查人次", "人次"),
                                 ("publicity_events", "线上线下宣传活动", "场")):  # fmt: skip
            rows += [{"year": year, "month": m, "code": code, "name_zh": name,
                      "value": float(scale * (m % 5)), "unit": unit} for m in range(1, 13)]  # fmt: skip
    return pl.DataFrame(rows)


def rows_frame() -> pl.DataFrame:
    return pl.DataFrame({
        "code": ["inspector_person_times", "publicity_events", "cases_filed"],
        "name_zh": ["出动检查人次", "线上线下宣传活动", "行政立案"], "unit": ["人次", "场", "件"],
        "value": [21.0, 2.0, None], "last_value": [4.0, None, 1.0],
        "value_text": ["21", "2", ""], "last_value_text": ["4", "", "1"],
    })  # fmt: skip


def pixels(png: bytes) -> np.ndarray:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return imread(io.BytesIO(png), format="png")


def ink_share(image: np.ndarray) -> float:
    """Share of pixels that are not (near) white."""
    return float((image[..., :3].min(axis=2) < 0.9).mean())


def has_color(image: np.ndarray, hex_color: str, tolerance: float = 0.05) -> bool:
    target = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return bool((np.abs(image[..., :3] - target).max(axis=2) < tolerance).any())


@pytest.fixture(scope="module")
def family():
    return cjk_font()


def test_monthly_chart_is_a_sized_non_blank_png(family):
    image = pixels(monthly_chart(monthly_frame(), 2024, family=family))
    height, width = image.shape[:2]
    assert width == 990 and 300 < height < 2000
    assert 0.01 < ink_share(image) < 0.6
    assert has_color(image, THIS_YEAR_COLOR)


def test_year_over_year_chart_skips_undefined_values(family):
    image = pixels(year_over_year_chart(rows_frame(), 2024, family=family))
    assert image.shape[1] == 990 and ink_share(image) > 0.01
    assert has_color(image, THIS_YEAR_COLOR)


def test_charts_draw_with_no_data_at_all(family):
    empty = monthly_frame().clear()
    assert pixels(monthly_chart(empty, 2024, family=family)).shape[1] == 990


def test_a_missing_font_is_a_warning_not_a_crash(tmp_path):
    with pytest.warns(UserWarning, match="未找到中文字体"):
        assert cjk_font((tmp_path / "no-such-font.ttc",)) is None
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font")
    with pytest.warns(UserWarning) as record:
        assert cjk_font((broken,)) is None
    messages = [str(w.message) for w in record]
    assert any("无法读取中文字体" in m for m in messages) and any(
        "未找到中文字体" in m for m in messages
    )
    with pytest.warns(UserWarning):  # glyphs missing, still a picture
        image = pixels(monthly_chart(monthly_frame(), 2024, family=None))
    assert ink_share(image) > 0.01


def test_the_font_named_in_the_environment_comes_first(monkeypatch, tmp_path):
    monkeypatch.setenv(charts.FONT_ENV, str(tmp_path / "mine.ttf"))
    assert charts.font_candidates()[0] == tmp_path / "mine.ttf"


@pytest.mark.skipif(
    not any(Path(p).is_file() for p in CJK_FONT_FILES), reason="no CJK font installed"
)
def test_an_installed_cjk_font_is_found_and_used(family):
    assert family is not None
    from matplotlib import font_manager

    path = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert Path(path).name in {Path(p).name for p in CJK_FONT_FILES}


def test_save_charts_writes_png_files(tmp_path):
    chart = charts.Chart("monthly", "主要指标月度变化", b"\x89PNG\r\n\x1a\nxyz")
    (path,) = save_charts([chart], tmp_path / "charts", 2024)
    assert path.name == "monthly-2024.png" and path.read_bytes() == chart.png
