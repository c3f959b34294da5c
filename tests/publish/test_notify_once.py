"""The notification names units, ledgers and checks in Chinese, and says each thing once.

`tally run` with `[notify] command` as an argv list (no shell): the program gets the text on
its stdin in UTF-8. A second run with nothing new for anyone sends nothing; a third sends only
its own new problem, never the earlier ones again (`notices_sent` remembers them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app

INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
CASE = ["案件编号", "立案日期", "当事人", "当事人类型", "案由", "处罚决定日期", "公示日期", "结案日期"]
PUBLICATION = ["处置日期", "场所名称", "出版物名称", "处置方式", "数量", "关联案件编号"]
SEPARATOR = "\n=====\n"
runner = CliRunner()


def site(tmp_path: Path) -> tuple[Path, Path, Path]:
    """tally.toml whose notify command is an argv list: a Python that appends its stdin to a file."""
    got = tmp_path / "notified.txt"
    script = (f"import sys; open({str(got)!r}, 'a', encoding='utf-8')"
              f".write(sys.stdin.buffer.read().decode('utf-8') + {SEPARATOR!r})")
    argv = json.dumps([sys.executable, "-c", script], ensure_ascii=False)  # a TOML array of strings
    config = tmp_path / "tally.toml"
    config.write_text(f'inbox = "inbox"\nwarehouse = "w/tally.duckdb"\n[notify]\ncommand = {argv}\n',
                      encoding="utf-8")
    return config, tmp_path / "inbox", got


def run(config: Path) -> None:
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output


def sent(got: Path) -> list[str]:
    return [m for m in got.read_text(encoding="utf-8").split(SEPARATOR) if m] if got.exists() else []


def test_each_warning_is_sent_once_in_chinese(tmp_path):
    config, inbox, got = site(tmp_path)
    write_xlsx(inbox / "cases/2024-03.xlsx", {"S": [CASE, ["西文旅罚〔2024〕7号", "2024-03-01", "某公司", "单位",
                                                           "无证经营", None, None, None]]})
    write_xlsx(inbox / "publications/2024-03.xlsx", {"S": [PUBLICATION, [
        "2024-03-06", "某书店", "乙", "收缴", 3, "西文旅罚〔2024〕8号"]]})  # a case the register lacks
    write_xlsx(inbox / "inspections/2024-03.xlsx", {"S": [
        INSPECTION, ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"],
        ["2024-03-06", "日常检查", "某书店", "书店", "两", "未发现问题"]]})  # a count that is not a number
    (inbox / "unknown").mkdir()
    (inbox / "unknown" / "note.xlsx").write_bytes(b"not a ledger")
    run(config)
    [first] = sent(got)
    assert "隔离 quarantined 1" in first  # the run's summary heads it
    assert "【执法大队】" in first and "【宣传股】" in first
    assert "inspections/2024-03.xlsx：1 行有错误未载入，请改正后重报" in first
    assert "核对「案件编号在案件台账中不存在」：1 条（publications/2024-03.xlsx）" in first
    assert "文件被退回：unknown/note.xlsx" in first
    assert "过期未报送：2024-01、2024-02" in first  # months the submissions relation calls missing
    assert "check=" not in first and "case_not_found" not in first

    # A month handed in since (it was missing): nothing new for anyone, nothing sent.
    write_xlsx(inbox / "inspections/2024-04.xlsx", {"S": [INSPECTION, [
        "2024-04-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"]]})
    run(config)
    assert len(sent(got)) == 1

    # A new bad file: only it is told; the earlier problems are not sent again.
    write_xlsx(inbox / "wechat_posts/2024-05.xlsx", {"S": [["推送日期", "标题", "链接"], [
        "2024-13-01", "标题", "https://mp.weixin.qq.com/s/x"]]})
    run(config)
    third = sent(got)[-1]
    assert "【宣传股】" in third and "微信公众号推送台账" in third
    assert "wechat_posts/2024-05.xlsx：1 行有错误未载入" in third
    assert "inspections/2024-03.xlsx" not in third and "核对「" not in third and "过期未报送" not in third
    assert "【执法大队】" not in third
    with duckdb.connect(str(tmp_path / "w" / "tally.duckdb"), read_only=True) as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM notices_sent GROUP BY kind").fetchall())
    assert kinds["quarantined"] == 2 and kinds["check"] == 1 and kinds["rejected"] == 1
