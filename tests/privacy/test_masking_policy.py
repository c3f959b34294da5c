"""One masking policy in every table: a warehouse built from small files holds no clear personal data.

The inbox has personal data of every kind the policy names (officers' and patrollers' names,
the roster's staff, a party who is a person, a party that is a company, ID numbers, phones,
free text), and rows that are quarantined with it. The scan reads every VARCHAR, VARCHAR[]
and JSON column of every relation, and what `tally problems` sends back, and looks for
18-digit resident IDs whose check digit holds, mobile numbers and the names planted here.
A company's name is public and must stay in clear, in `cases` and in quarantine alike.
"""

from __future__ import annotations

import json
import re

import duckdb
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.privacy.masking import RESIDENT_CHECK, RESIDENT_WEIGHTS, valid_resident_id, valid_uscc

# The people: the roster's officers and a clerk who is not one, an officer who is not on the
# roster, a relic guardian from the village, two parties and a caller.
OFFICER, OFFICER2, CLERK = "兰伟明", "马彦生", "欧阳振华"
UNLISTED, GUARDIAN = "杨立新", "白玉兰"
PARTY, PARTY2, CALLER = "李建华", "周海燕", "孙丽华"
NAMES = (OFFICER, OFFICER2, CLERK, UNLISTED, GUARDIAN, PARTY, PARTY2, CALLER)
COMPANY, COMPANY2 = "西吉县红星网吧", "西吉县蓝天书店"  # organisations: public, kept in clear

ID1 = valid_resident_id("64042219900101123")
ID2 = valid_resident_id("64042219851231456")
ID3 = valid_resident_id("64042220010704002")
USCC = valid_uscc("91640422MA76XK3Q1")
MOBILE1, MOBILE2, MOBILE3 = "13857246913", "13968142537", "15109541234"

STAFF = ["姓名", "执法证号", "证件有效期至", "岗位"]
INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果", "备注"]
PATROL = ["巡查日期", "文物名称", "保护级别", "巡查人员", "出动人次", "发现问题", "处置情况"]
CASE = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "联系电话", "案由", "处罚决定日期", "罚款金额"]
HOTLINE = ["工单编号", "受理日期", "诉求类型", "诉求内容", "办理时限", "来电人", "来电号码"]


def build_inbox(inbox) -> None:
    write_xlsx(inbox / "staff/执法人员名录2024-01-01.xlsx", {"名录": [
        STAFF,
        [OFFICER, "64042400001", "2026-12-31", "执法"],
        [OFFICER2, "64042400002", "2026-12-31", "执法"],
        [CLERK, None, None, "综合"],
    ]})
    write_xlsx(inbox / "inspections/2024-03.xlsx", {"3月": [
        INSPECTION,
        ["2024-03-05", "日常检查", COMPANY, "网吧", 2, f"{OFFICER}、{OFFICER2}", "未发现问题", None],
        # an officer not on the roster: a warning that names him, sent back to the clerk
        # free text: its IDs and phones are found wherever written; a name in prose is not (the
        # policy asks clerks to write 周女士), so none is planted there
        ["2024-03-06", "日常检查", COMPANY2, "书店", 2, f"{OFFICER}，{UNLISTED}", "责令整改",
         f"负责人周女士电话{MOBILE2}，身份证{ID2}"],
        # quarantined: no such day
        ["2024-03-45", "日常检查", COMPANY2, "书店", 2, f"{UNLISTED} {OFFICER2}", "未发现问题", None],
    ]})
    write_xlsx(inbox / "relic_patrols/2024-03.xlsx", {"3月": [
        PATROL,
        ["2024-03-07", "兴隆镇古城遗址", "县保", f"{GUARDIAN}、{OFFICER2}", 2, "无", "无"],
        ["2024-03-08", "月亮山古堡遗址", "市保", GUARDIAN, 1, "无", "无"],  # quarantined: no such level
    ]})
    write_xlsx(inbox / "cases/2024-03.xlsx", {"案件": [
        CASE,
        ["西文旅罚〔2024〕1号", "2024-03-01", PARTY, "个人", ID1, MOBILE1, "接纳未成年人", "2024-03-10", 500],
        ["西文旅罚〔2024〕2号", "2024-03-02", COMPANY, "企业", USCC, MOBILE3, "擅自变更", "2024-03-11", 3000],
        # quarantined: no such day; the company stays in clear, the person's data is masked
        ["西文旅罚〔2024〕3号", "2024-02-30", COMPANY2, "单位", USCC, MOBILE3, "无证经营", None, None],
        ["西文旅罚〔2024〕4号", "2024-02-31", PARTY2, "个人", ID2, MOBILE2, "接纳未成年人", None, None],
    ]})
    write_xlsx(inbox / "hotline/2024-03.xlsx", {"工单": [
        HOTLINE,
        ["GD20240001", "2024-03-05", "投诉", f"市民孙女士（电话{MOBILE2}）反映噪音，身份证{ID3}", "2024-03-12",
         CALLER, MOBILE2],
        ["GD20240002", "某天", "投诉", f"来电{MOBILE1}", "2024-03-12", CALLER, MOBILE1],  # quarantined
    ]})


def resident_ids(text: str) -> list[str]:
    """Every 18-character resident ID in `text` whose GB 11643 check digit holds."""
    found = []
    for m in re.finditer(r"(?<![0-9A-Za-z])([0-9]{17})([0-9Xx])(?![0-9A-Za-z])", text):
        total = sum(int(c) * w for c, w in zip(m.group(1), RESIDENT_WEIGHTS, strict=True))
        if RESIDENT_CHECK[total % 11] == m.group(2).upper():
            found.append(m.group(0))
    return found


def clear_personal_data(text: str) -> list[str]:
    """The clear personal data in `text` under the policy: resident IDs, mobiles, the planted names."""
    mobiles = re.findall(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])", text)
    return resident_ids(text) + mobiles + [n for n in NAMES if n in text]


def text_columns(con) -> list[tuple[str, str, str]]:
    """Every VARCHAR, VARCHAR[] and JSON column of every table and view: (schema, relation, column)."""
    return con.execute(
        """
        SELECT schema_name, table_name, column_name FROM duckdb_columns()
        WHERE database_name = current_database()
          AND (data_type LIKE 'VARCHAR%' OR data_type = 'JSON')
        ORDER BY ALL
        """
    ).fetchall()


def test_no_relation_holds_clear_personal_data_of_any_kind(tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse" / "tally.duckdb"
    build_inbox(inbox)
    runner = CliRunner()
    w = ["--warehouse", str(warehouse)]
    result = runner.invoke(app, ["run", "--inbox", str(inbox), *w])
    assert result.exit_code == 0, result.output

    leaks: dict[str, list[str]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # The inbox loaded as meant: every ledger, a quarantined row in each, the warning.
        loaded = dict(con.execute("SELECT ledger, sum(rows_loaded) FROM file_versions GROUP BY ALL").fetchall())
        assert loaded == {"staff": 3, "inspections": 2, "relic_patrols": 1, "cases": 2, "hotline": 1}
        assert con.execute("SELECT count(*) FROM quarantined_rows").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM check_warnings WHERE rule = 'officer_not_certified'"
                           ).fetchone()[0] == 1
        columns = text_columns(con)
        assert {("raw", "inspections", "officers"), ("main", "quarantined_rows", "cells"),
                ("main", "problem_log", "raw_value"), ("main", "roster", "name")} <= set(columns)
        for schema, relation, column in columns:
            values = con.execute(
                f'SELECT CAST("{column}" AS VARCHAR) FROM "{schema}"."{relation}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
            if found := clear_personal_data("\n".join(v[0] for v in values)):
                leaks[f"{schema}.{relation}.{column}"] = sorted(set(found))

    problems = runner.invoke(app, ["problems", "--year", "2024", "--format", "csv", *w])
    assert problems.exit_code == 0, problems.output
    if found := clear_personal_data(problems.stdout):
        leaks["tally problems --format csv"] = sorted(set(found))
    assert not leaks, leaks
    assert "杨某某" in problems.stdout  # what the clerk is sent: masked as the warehouse holds it

    # Masked, not dropped: each kind in its masked form, the companies in clear.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT officers FROM inspections ORDER BY \"row\"").fetchall() == [
            (["兰某某", "马某某"],), (["兰某某", "杨某某"],)]
        assert con.execute("SELECT patrollers FROM relic_patrols").fetchall() == [(["白某某", "马某某"],)]
        assert sorted(con.execute("SELECT name, role FROM roster").fetchall()) == [
            ("兰某某", "执法"), ("欧阳某某", "综合"), ("马某某", "执法")]
        assert con.execute("SELECT party, party_id, phone FROM cases ORDER BY case_no").fetchall() == [
            ("李某某", f"640422********{ID1[-4:]}", "138****6913"),
            (COMPANY, f"{USCC[:6]}********{USCC[-4:]}", "151****1234")]
        cells = [json.loads(c) for (c,) in con.execute("SELECT cells FROM quarantined_rows").fetchall()]
        by_first = {next(iter(c.values())): c for c in cells}
        assert by_first["西文旅罚〔2024〕3号"]["当事人"] == COMPANY2
        assert by_first["西文旅罚〔2024〕4号"]["当事人"] == "周某某"
        assert by_first["2024-03-45"]["执法人员"] == "杨某某 马某某"
        assert by_first["2024-03-08"]["巡查人员"] == "白某某"
        assert by_first["GD20240002"]["来电人"] == "孙某某"
        assert con.execute("SELECT message FROM problem_log WHERE rule = 'officer_not_certified'").fetchone()[0] == (
            "第3行「执法人员」：杨某某不在2024-01-01的执法人员名录中（执法人员应持证上岗）（原值：「兰某某、杨某某」）")
        # The keyed hashes still tell people apart: the same officer on two rows, and on the roster.
        keys = con.execute("SELECT officers_keys FROM raw.inspections ORDER BY _row").fetchall()
        assert keys[0][0][0] == keys[1][0][0]
        assert keys[0][0][0] in {k for (k,) in con.execute("SELECT name_key FROM raw.staff").fetchall()}

