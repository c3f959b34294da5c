"""Charts of the report (PNG): the main counts month by month, and this year against last.

Chinese labels need a CJK font. It is found by file path (Debian's fonts-noto-cjk or
fonts-wqy-zenhei, or $TALLY_CJK_FONT) and registered with matplotlib's font manager; when none
is there the charts are still drawn, with a warning, and their Chinese labels show as boxes.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

FONT_ENV = "TALLY_CJK_FONT"
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
# The counts a reader follows month by month (series in the catalog), in report order.
MONTHLY_CODES = (
    "inspector_person_times", "venue_inspections", "relic_patrols", "cases_filed",
    "hotline_tickets", "publicity_events", "wechat_posts", "people_reached",
)  # fmt: skip
THIS_YEAR_COLOR = "#c0392b"
LAST_YEAR_COLOR = "#7f8c8d"
DPI = 110


@dataclass(frozen=True)
class Chart:
    """One chart: a file-name stem, a Chinese caption and the PNG bytes."""

    name: str
    title: str
    png: bytes


def font_candidates() -> list[Path]:
    """Return the CJK font files to try, the one named by $TALLY_CJK_FONT first."""
    named = os.environ.get(FONT_ENV)
    return [Path(p) for p in ((named,) if named else ()) + CJK_FONT_FILES]


@lru_cache(maxsize=4)
def _register(path: str) -> str:
    # A font with only a medium weight (WenQuanYi) makes every lookup log a fallback line.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def cjk_font(candidates: tuple[Path, ...] | None = None) -> str | None:
    """Register the first CJK font file that exists and return its family name; warn when none does."""
    for path in candidates if candidates is not None else tuple(font_candidates()):
        if path.is_file():
            try:
                return _register(str(path))
            except (OSError, RuntimeError, ValueError) as exc:
                warnings.warn(f"无法读取中文字体 {path}：{exc}", stacklevel=2)
    warnings.warn(
        "未找到中文字体（fonts-noto-cjk 或 fonts-wqy-zenhei）：图表中的中文将无法显示；"
        f"可用 {FONT_ENV} 指定字体文件",
        stacklevel=2,
    )
    return None


def chart_style(family: str | None) -> dict:
    """Return the matplotlib settings the charts are drawn with."""
    style = {"axes.unicode_minus": False, "axes.spines.top": False, "axes.spines.right": False,
             "font.size": 9}  # fmt: skip
    if family:
        style["font.family"] = "sans-serif"
        style["font.sans-serif"] = [family, "DejaVu Sans"]
    return style


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _grid(count: int, columns: int = 2) -> tuple[int, int]:
    return max(1, -(-count // columns)), columns


def monthly_chart(
    monthly: pl.DataFrame,
    year: int,
    codes: tuple[str, ...] = MONTHLY_CODES,
    family: str | None = None,
) -> bytes:
    """Draw each main count month by month, this year against last year; return PNG bytes."""
    present = [c for c in codes if c in set(monthly["code"].to_list())]
    # The loader keeps last year's series only for figures last year has data for.
    compared = monthly.filter(pl.col("year") == year - 1).height > 0
    rows, cols = _grid(len(present))
    with rc_context(chart_style(family)):
        height = 2.3 * rows + 0.6
        fig = Figure(figsize=(9, height))
        # Fixed margins: constrained layout costs seconds per chart on a small machine.
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.35 / height, top=1 - 0.65 / height,
                            hspace=0.55, wspace=0.18)  # fmt: skip
        fig.suptitle(f"{year}年主要指标月度变化" + (f"（虚线为{year - 1}年）" if compared else ""),
                     fontsize=12)  # fmt: skip
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, code in zip(axes, present, strict=False):
            series = monthly.filter(pl.col("code") == code).sort("month")
            this = series.filter(pl.col("year") == year)
            last = series.filter(pl.col("year") == year - 1)
            if last.height:
                ax.plot(last["month"], last["value"], linestyle="--", marker=".",
                        color=LAST_YEAR_COLOR, label=str(year - 1))  # fmt: skip
            ax.plot(this["month"], this["value"], marker="o", color=THIS_YEAR_COLOR,
                    label=str(year))  # fmt: skip
            unit = this["unit"][0] if this.height else ""
            ax.set_title(f"{this['name_zh'][0] if this.height else code}（{unit}）", fontsize=10)
            ax.set_xticks(range(1, 13), [f"{m}月" for m in range(1, 13)], fontsize=7)
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(axis="y", alpha=0.3)
        for ax in axes[len(present) :]:
            ax.set_visible(False)
        if present:
            axes[0].legend(fontsize=8, loc="upper right")
        return _png(fig)


def year_over_year_chart(
    rows: pl.DataFrame, year: int, codes: tuple[str, ...] = MONTHLY_CODES, family: str | None = None
) -> bytes:
    """Draw this year's and last year's value of each main count as pairs of bars; return PNG bytes.

    Only figures that both years have data for are drawn (`last_has_data`, when the rows say).
    """
    chosen = rows.filter(pl.col("code").is_in(list(codes)) & pl.col("value").is_not_null())
    if "last_has_data" in chosen.columns:
        chosen = chosen.filter(pl.col("last_has_data") & pl.col("last_value").is_not_null())
    rows_n, cols = _grid(chosen.height, 4)
    with rc_context(chart_style(family)):
        height = 2.2 * rows_n + 0.6
        fig = Figure(figsize=(9, height))
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.3 / height, top=1 - 0.65 / height,
                            hspace=0.5, wspace=0.12)  # fmt: skip
        fig.suptitle(f"{year}年与{year - 1}年对比", fontsize=12)
        axes = fig.subplots(rows_n, cols, squeeze=False).ravel()
        for ax, row in zip(axes, chosen.iter_rows(named=True), strict=False):
            values = [row["last_value"] or 0.0, row["value"]]
            bars = ax.bar([str(year - 1), str(year)], values,
                          color=[LAST_YEAR_COLOR, THIS_YEAR_COLOR], width=0.6)  # fmt: skip
            ax.bar_label(
                bars, labels=[row["last_value_text"] or "—", row["value_text"]], fontsize=8
            )
            ax.set_title(f"{row['name_zh']}（{row['unit']}）", fontsize=9)
            ax.set_yticks([])
            ax.margins(y=0.2)
        for ax in axes[chosen.height :]:
            ax.set_visible(False)
        return _png(fig)


def report_charts(data) -> list[Chart]:
    """Draw the report's charts for a ReportData (monthly series, year over year)."""
    family = cjk_font()
    charts = [
        Chart("monthly", "主要指标月度变化", monthly_chart(data.monthly, data.year, family=family)),
    ]
    compared = data.rows.filter(
        pl.col("last_has_data") & pl.col("code").is_in(list(MONTHLY_CODES))
        & pl.col("value").is_not_null() & pl.col("last_value").is_not_null()
    )  # fmt: skip
    if compared.height:  # no chart compares against a year without data
        charts.append(Chart("year_over_year", "与上年对比",
                            year_over_year_chart(data.rows, data.year, family=family)))  # fmt: skip
    return charts


def save_charts(charts: list[Chart], folder: Path, year: int) -> list[Path]:
    """Write each chart as <folder>/<name>-<year>.png; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for chart in charts:
        path = folder / f"{chart.name}-{year}.png"
        path.write_bytes(chart.png)
        paths.append(path)
    return paths
