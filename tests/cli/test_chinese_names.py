"""Ledgers and indicators are taken by code or by Chinese name; an unknown name gets the closest names."""

from __future__ import annotations

import duckdb
import pytest
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.cli.names import UnknownName, indicator_names, ledger_names, resolve
from flows.transform import indicators

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
POST = ["推送日期", "标题", "链接"]


@pytest.fixture
def site(ws):
    write_xlsx(ws.path("执法检查台账/2024-03.xlsx"), {"S": [
        HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"],
        ["2024-03-06", "日常检查", "某书店", "书店", "x", "未发现问题"]]})
    write_xlsx(ws.path("wechat_posts/2024-03.xlsx"), {"S": [POST, ["2024-03-01", "标题", "不是网址"]]})
    ws.run()
    with duckdb.connect(str(ws.warehouse)) as con:
        indicators.build(con)
    return ws


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_every_indicator_and_ledger_resolves_by_its_chinese_name_and_its_code():
    for names, kind in ((indicator_names(), "指标"), (ledger_names(), "台账")):
        assert len(set(names.values())) == len(names)  # a Chinese name names one thing
        for code, zh in names.items():
            assert resolve(zh, names, kind, "x") == code
            assert resolve(code, names, kind, "x") == code
            assert resolve(f" {code.upper()} ", names, kind, "x") == code


def test_an_unknown_name_lists_the_closest_in_chinese_with_their_codes():
    names = indicator_names()
    with pytest.raises(UnknownName) as caught:
        resolve("行政处罚罚金", names, "指标", "indicator")
    message = str(caught.value)
    assert message.startswith("未知的指标：行政处罚罚金")
    assert "行政处罚罚款（fines_yuan）" in message
    with pytest.raises(UnknownName) as caught:
        resolve("执法检查", ledger_names(), "台账", "ledger")
    assert "执法检查台账（inspections）" in str(caught.value)


def test_explain_by_chinese_name_is_explain_by_code(site):
    w = ("-y", 2024, "-w", site.warehouse, "-f", "csv")
    by_name, by_code = invoke("explain", "出动检查人次", *w), invoke("explain", "inspector_person_times", *w)
    assert by_name.exit_code == 0, by_name.output
    assert by_name.stdout == by_code.stdout
    assert "inspector_person_times,2024" in by_name.stdout


def test_explain_an_unknown_name_is_a_usage_error_naming_the_closest(site):
    result = invoke("explain", "出动检查次数", "-y", 2024, "-w", site.warehouse)
    assert result.exit_code == 2
    assert "未知的指标：出动检查次数" in result.output and "出动检查人次（inspector_person_times）" in result.output


def test_problems_ledger_by_chinese_name(site):
    w = ("-y", 2024, "-w", site.warehouse, "-f", "csv")
    by_name, by_code = invoke("problems", "--ledger", "执法检查台账", *w), invoke("problems", "-l", "inspections", *w)
    assert by_name.exit_code == 0, by_name.output
    assert by_name.stdout == by_code.stdout
    assert "出动人次" in by_name.stdout and "不是网址" not in by_name.stdout
    unknown = invoke("problems", "--ledger", "检查台账", *w)
    assert unknown.exit_code == 2 and "执法检查台账（inspections）" in unknown.output
