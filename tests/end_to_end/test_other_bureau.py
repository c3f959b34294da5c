"""A bureau of another kind needs no Python: a contract folder of its own runs end to end.

`tests/contracts/market_bureau/` is an invented county market regulation bureau: two ledgers
(food safety checks, a register of consumer complaints), three indicators, two report sections
and its own SQL models. The test writes its small files, runs `tally run` and `tally indicators`
with `--contract`, and checks the figures, the masking its contract asks for and its sections.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from ledgerfiles import write_csv, write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.contract import spec
from flows.contract.ledgers import LEDGERS

runner = CliRunner()
CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "market_bureau"
CHECKS = ["检查日期", "经营主体", "业态", "出动人次", "检查结果"]
COMPLAINTS = ["投诉编号", "受理日期", "投诉人", "联系电话", "办结日期", "挽回损失"]


@pytest.fixture(autouse=True)
def default_contract():
    """Each test starts and ends with the project's own contract in use."""
    spec.use_contract()
    yield
    spec.use_contract()


@pytest.fixture
def bureau(tmp_path: Path) -> Path:
    (tmp_path / "tally.toml").write_text(
        'inbox = "inbox"\nwarehouse = "warehouse/tally.duckdb"\n', encoding="utf-8"
    )
    inbox = tmp_path / "inbox"
    write_xlsx(inbox / "food_checks" / "2024-03.xlsx", {"三月": [
        ["食品安全检查台账（2024年3月）"],
        CHECKS,
        ["2024-03-04", "老王面馆", "餐饮", 2, "合格"],
        ["2024-03-12", "惠民超市", "超市", 3, "限期整改"],
        ["2024-03-20", "某某食品厂", "食品加工", 2, "合格"],  # not a 业态 of the template: sent back
        ["合计", None, None, 7, None],
    ]})  # fmt: skip
    write_csv(inbox / "食品安全检查台账" / "2024-04.csv", [
        CHECKS, ["2024-04-02", "老王面馆", "餐饮服务", 4, "立案"]])  # fmt: skip
    write_csv(inbox / "complaints" / "2024-04.csv", [
        COMPLAINTS,
        ["XF2024-001", "2024-03-15", "张三", "13812345678", "2024-03-30", 1200],
        ["XF2024-002", "2024-04-01", "李四", "", "", ""],
    ])  # fmt: skip
    write_csv(inbox / "complaints" / "2024-05.csv", [
        COMPLAINTS,
        ["XF2024-001", "2024-03-15", "张三", "13812345678", "2024-03-30", 1200],
        ["XF2024-002", "2024-04-01", "李四", "", "2024-05-06", 800.5],  # closed since: the later register wins
    ])  # fmt: skip
    return tmp_path


def tally(folder: Path, *args: str):
    result = runner.invoke(
        app, [*args, "--config", str(folder / "tally.toml"), "--contract", str(CONTRACT)]
    )
    assert result.exit_code == 0, result.output
    return result


def test_a_market_regulation_bureau_runs_from_its_contract_folder_alone(bureau):
    check = runner.invoke(app, ["contract", "check", "--contract", str(CONTRACT)])
    assert check.exit_code == 0, check.output
    assert "2 个台账、3 个指标、2 个章节" in check.output.replace("\n", " ")

    tally(bureau, "run")
    out = tally(bureau, "indicators", "--year", "2024", "--format", "json").stdout
    figures = {
        row["code"]: (row["value"], row["printed"], row["section"]) for row in json.loads(out)
    }
    assert figures == {
        "food_checks": (3, "3户次", "一"),
        "food_inspector_times": (9, "9人次", "一"),
        "money_recovered": (2000.5, "0.20005万元", "二"),
    }
    assert set(LEDGERS) == {"food_checks", "complaints"}

    with duckdb.connect(str(bureau / "warehouse" / "tally.duckdb"), read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}  # fmt: skip
        assert tables == {
            "food_checks",
            "complaints",
        }  # no raw table of the default bureau's ledgers
        people = con.execute(
            "SELECT DISTINCT complainant, phone FROM raw.complaints ORDER BY 1"
        ).fetchall()
        assert people == [("张某", "138****5678"), ("李某", None)]
        sent_back = con.execute(
            "SELECT path, \"row\", header, raw_value, rule FROM problems WHERE severity = 'error'"
        ).fetchall()
        assert sent_back == [("food_checks/2024-03.xlsx", 5, "业态", "食品加工", "enum")]


def test_its_tally_toml_names_the_contract_and_its_report_has_its_sections(bureau):
    (bureau / "tally.toml").write_text(
        f'inbox = "inbox"\nwarehouse = "warehouse/tally.duckdb"\ncontract = "{CONTRACT}"\n',
        encoding="utf-8",
    )
    config = ["--config", str(bureau / "tally.toml")]
    for args in (["run"], ["completeness", "--year", "2024"], ["problems", "--year", "2024"]):
        result = runner.invoke(app, [*args, *config])
        assert result.exit_code == 0, (args, result.output)
    report = bureau / "report.md"
    result = runner.invoke(
        app, ["report", "--year", "2024", "--format", "md", "--output", str(report), *config]
    )
    assert result.exit_code == 0, result.output
    text = report.read_text(encoding="utf-8")
    assert "## 一、食品安全监管" in text and "## 二、消费者权益保护" in text
    assert "文化市场监管执法" not in text
