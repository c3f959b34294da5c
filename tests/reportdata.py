"""A small two-year warehouse for the report tests: ledger files written, loaded and built.

2024 has a few months of every ledger (so that some ledger-months are missing), 2023 a few
inspections and publicity events (so that last year's values and changes are not all empty).
The figures each indicator should come to are in EXPECTED_2024 / EXPECTED_2023.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledgerfiles import write_xlsx

INSPECTION_HEADER = ["检查日期", "检查类型", "专项行动名称", "抽查任务编号", "检查对象", "场所类型",
                     "出动人次", "检查结果", "公示日期"]  # fmt: skip
PUBLICATION_HEADER = ["处置日期", "场所名称", "出版物名称", "处置方式", "数量"]
CASE_HEADER = ["案件编号", "立案日期", "当事人", "当事人类型", "联系电话", "案由", "处罚决定日期",
               "罚款金额（元）", "没收违法所得（元）", "法制审核", "全过程记录", "公示日期", "结案日期"]  # fmt: skip
HOTLINE_HEADER = ["工单编号", "受理日期", "诉求类型", "办理时限", "回复日期", "办结日期"]
EVENT_HEADER = ["活动日期", "活动名称", "活动主题", "活动形式", "发放海报（张）", "发放折页（份）",
                "悬挂横幅（条）", "覆盖人次"]  # fmt: skip
POST_HEADER = ["推送日期", "标题"]
STUDY_HEADER = ["日期", "形式", "学习专题", "参加人数"]
INCIDENT_HEADER = ["发生日期", "场所名称", "事故等级"]
RELIC_HEADER = ["巡查日期", "文物名称", "保护级别"]
STAFF_HEADER = ["姓名", "证件有效期至", "岗位", "法律职业资格"]

CLEAR_PARTY = "王小明"  # a person's name as written in the register; must never be exported
CLEAR_PHONE = "13812345678"


def inspection(
    day: str,
    kind: str,
    people: int,
    venue: str = "某网吧",
    campaign: str = "",
    task: str = "",
    disclosed: str = "",
) -> list:
    return [day, kind, campaign, task, venue, "网吧", people, "未发现问题", disclosed]


def write_2024(inbox: Path, *, venue: str = "某网吧") -> None:
    """Write the 2024 ledgers: inspections in Jan–Mar, the rest in one or two months each."""
    write_xlsx(inbox / "inspections/2024-01.xlsx", {"1月": [INSPECTION_HEADER,
        inspection("2024-01-05", "专项检查", 3, venue, campaign="元旦春节专项检查"),
        inspection("2024-01-09", "日常检查", 2, venue),
        inspection("2024-01-10", "网上巡查", 1, venue)]})  # fmt: skip
    write_xlsx(inbox / "inspections/2024-02.xlsx", {"2月": [INSPECTION_HEADER,
        inspection("2024-02-06", "专项检查", 4, campaign="元旦春节专项检查"),
        inspection("2024-02-20", "联合抽查", 2, task="LH-2024-01", disclosed="2024-02-28"),
        inspection("2024-02-21", "联合抽查", 2, task="LH-2024-01", disclosed="2024-02-28")]})  # fmt: skip
    write_xlsx(inbox / "inspections/2024-03.xlsx", {"3月": [INSPECTION_HEADER,
        inspection("2024-03-04", "专项检查", 2, campaign="两会期间专项检查"),
        inspection("2024-03-12", "双随机抽查", 2, task="SJ-2024-03"),
        inspection("2024-03-15", "日常检查", 3)]})  # fmt: skip
    write_xlsx(inbox / "publications/2024-03.xlsx", {"Sheet1": [PUBLICATION_HEADER,
        ["2024-03-12", "某书店", "某盗版书", "收缴", "12本"],
        ["2024-03-13", "某书店", "某违规书", "下架", 30]]})  # fmt: skip
    write_xlsx(inbox / "cases/2024-06.xlsx", {"Sheet1": [CASE_HEADER,
        ["西文旅罚〔2024〕1号", "2024-02-01", CLEAR_PARTY, "个人", CLEAR_PHONE, "擅自从事经营活动",
         "2024-02-20", 1500, 200, "是", "是", "2024-02-22", "2024-03-01"],
        ["西文旅罚〔2024〕2号", "2024-04-01", "某文化传媒有限公司", "单位", None, "未按规定核对身份",
         "2024-05-10", 2000, 0, "是", "否", "2024-05-13", None]]})  # fmt: skip
    write_xlsx(inbox / "hotline/2024-05.xlsx", {"Sheet1": [HOTLINE_HEADER,
        ["GD-1", "2024-05-02", "投诉", "2024-05-09", "2024-05-06", "2024-05-08"],
        ["GD-2", "2024-05-10", "咨询", "2024-05-17", "2024-05-20", "2024-05-21"]]})  # fmt: skip
    write_xlsx(inbox / "safety_incidents/2024-02.xlsx", {"Sheet1": [INCIDENT_HEADER]})
    write_xlsx(inbox / "relic_patrols/2024-04.xlsx", {"Sheet1": [RELIC_HEADER,
        ["2024-04-02", "某古城遗址", "县保"], ["2024-04-09", "某石窟", "区保"]]})  # fmt: skip
    write_xlsx(inbox / "publicity_events/2024-04.xlsx", {"Sheet1": [EVENT_HEADER,
        ["2024-04-23", "读书日进校园", "4·23", "现场", 1200, 300, 2, 5000],
        ["2024-04-26", "知识产权宣传", "4·26", "线上", 0, 0, 0, 12000]]})  # fmt: skip
    write_xlsx(inbox / "wechat_posts/2024-04.xlsx", {"Sheet1": [POST_HEADER,
        ["2024-04-01", "法规解读一"], ["2024-04-15", "以案释法二"], ["2024-04-28", "普法活动三"]]})  # fmt: skip
    write_xlsx(inbox / "study_sessions/2024-05.xlsx", {"Sheet1": [STUDY_HEADER,
        ["2024-05-06", "会前学法", "习近平法治思想", 20],
        ["2024-05-16", "专题培训", "习近平法治思想", 35],
        ["2024-05-28", "法治政府建设会议", "其他", 15]]})  # fmt: skip
    write_xlsx(inbox / "staff/2024-12-31.xlsx", {"Sheet1": [STAFF_HEADER,
        ["张某", "2026-06-30", "执法", "否"], ["李某", "2024-06-30", "执法", "否"],
        ["赵某", "2027-01-01", "法制审核", "是"]]})  # fmt: skip


def write_2023(inbox: Path) -> None:
    """Write a little of 2023: inspections in March and publicity in April."""
    write_xlsx(inbox / "inspections/2023-03.xlsx", {"3月": [INSPECTION_HEADER,
        inspection("2023-03-04", "专项检查", 2, campaign="两会期间专项检查"),
        inspection("2023-03-15", "日常检查", 2)]})  # fmt: skip
    write_xlsx(inbox / "publicity_events/2023-04.xlsx", {"Sheet1": [EVENT_HEADER,
        ["2023-04-23", "读书日", "4·23", "现场", 1000, 100, 1, 3000]]})  # fmt: skip


# What the tables should show (raw values in the indicator's own unit).
EXPECTED_2024 = {
    "market_campaigns": 2, "joint_spot_checks": 1, "joint_spot_check_venues": 2,
    "inspector_person_times": 21, "venue_inspections": 8, "online_patrols": 1,
    "relic_patrols": 2, "books_confiscated": 12, "books_removed": 30, "cases_filed": 2,
    "cases_closed": 1, "case_closure_rate": 50.0, "fines_yuan": 3500, "confiscated_yuan": 200,
    "hotline_tickets": 2, "hotline_on_time_rate": 50.0, "hotline_closure_rate": 100.0,
    "safety_accidents": 0, "publicity_events": 2, "posters": 1200, "leaflets": 300, "banners": 2,
    "wechat_posts": 3, "people_reached": 17000, "penalty_disclosures": 2, "xi_law_studies": 1,
    "xi_law_trainings": 1, "rule_of_law_meetings": 1,
}  # fmt: skip
EXPECTED_2023 = {"inspector_person_times": 4, "venue_inspections": 2, "publicity_events": 1,
                 "posters": 1000, "people_reached": 3000}  # fmt: skip
LAST_DAY_2024 = date(2024, 12, 31)  # the roster snapshot is the latest dated row of 2024


def build_warehouse(root: Path, *, venue: str = "某网吧") -> Path:
    """Write both years' ledgers under root/inbox, load them and build the models; return the warehouse."""
    from flows.load.warehouse import connect
    from flows.run.stages import run_ingest
    from flows.transform.indicators import build

    inbox = root / "inbox"
    write_2024(inbox, venue=venue)
    write_2023(inbox)
    warehouse = root / "warehouse" / "tally.duckdb"
    run_ingest(inbox, warehouse)
    con = connect(warehouse)
    try:
        build(con)
    finally:
        con.close()
    return warehouse
