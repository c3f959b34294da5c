"""The ten ledgers of the templates (台账模板): their columns, types, aliases and kinds.

This module is the input contract in code. Everything that reads, checks, stores or
generates ledgers takes its column names, headers and allowed values from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["date", "int", "money", "number", "bool", "enum", "text", "names"]
LedgerKind = Literal["period", "register", "snapshot"]
Personal = Literal["person_name", "id_number", "phone", "free_text"]


@dataclass(frozen=True)
class Column:
    """One column of a ledger template."""

    header: str  # the template's Chinese header, without its unit in brackets
    name: str  # the warehouse column name
    type: ColumnType
    required: bool = False
    default: object | None = None  # applied when the cell is blank
    header_aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # the allowed values of an enumeration
    value_aliases: dict[str, str] = field(default_factory=dict)
    minimum: int | None = None  # for counts and amounts
    personal: Personal | None = None

    def __hash__(self) -> int:
        return hash((self.header, self.name))


@dataclass(frozen=True)
class Ledger:
    """One ledger template: what a unit submits each month (or as a snapshot)."""

    code: str
    name_zh: str
    unit: str  # the unit that keeps it: enforcement, publicity, office
    unit_zh: str
    kind: LedgerKind
    columns: tuple[Column, ...]
    key: str | None = None  # the register's key column

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


VENUE_TYPES = (
    "网吧", "歌舞娱乐场所", "游艺娱乐场所", "出版物经营单位", "印刷企业", "演出场所",
    "A级旅游景区", "旅行社", "星级饭店", "网络平台", "文物保护单位", "其他",
)  # fmt: skip
VENUE_TYPE_ALIASES = {"书店": "出版物经营单位", "KTV": "歌舞娱乐场所", "景区": "A级旅游景区"}

INSPECTION_TYPES = ("日常检查", "双随机抽查", "联合抽查", "网上巡查", "专项检查")
THEME_DAYS = ("世界读书日", "知识产权宣传周", "文化和自然遗产日", "国际禁毒日", "国家宪法日")

ENFORCEMENT = ("enforcement", "执法大队")
PUBLICITY = ("publicity", "宣传股")
OFFICE = ("office", "办公室")

INSPECTIONS = Ledger(
    "inspections", "执法检查台账", *ENFORCEMENT, "period",
    (
        Column("检查日期", "inspection_date", "date", required=True,
               header_aliases=("日期", "检查时间")),
        Column("检查类型", "inspection_type", "enum", required=True, values=INSPECTION_TYPES,
               value_aliases={"双随机": "双随机抽查", "联合检查": "联合抽查",
                              "网络巡查": "网上巡查", "线上巡查": "网上巡查",
                              "专项行动": "专项检查", "日常巡查": "日常检查"}),
        Column("专项行动名称", "campaign", "text"),
        Column("抽查任务编号", "spot_check_task", "text"),
        Column("检查对象", "venue_name", "text", required=True,
               header_aliases=("场所名称", "经营单位", "检查场所")),
        Column("场所类型", "venue_type", "enum", required=True, values=VENUE_TYPES,
               value_aliases=VENUE_TYPE_ALIASES),
        Column("出动人次", "inspectors", "int", required=True, minimum=1,
               header_aliases=("出动人数", "检查人次", "执法人次")),
        Column("执法人员", "officers", "names"),
        Column("检查结果", "result", "enum", required=True,
               values=("未发现问题", "责令整改", "立案查处", "其他"),
               value_aliases={"合格": "未发现问题", "正常": "未发现问题",
                              "整改": "责令整改", "立案": "立案查处"},
               header_aliases=("处理结果",)),
        Column("公示日期", "disclosed_on", "date"),
        Column("备注", "note", "text"),
    ),
)  # fmt: skip

RELIC_PATROLS = Ledger(
    "relic_patrols", "不可移动文物巡查台账", *ENFORCEMENT, "period",
    (
        Column("巡查日期", "patrol_date", "date", required=True),
        Column("文物名称", "site_name", "text", required=True),
        Column("保护级别", "protection_level", "enum", required=True,
               values=("全国重点文物保护单位", "自治区级文物保护单位", "县级文物保护单位",
                       "未定级不可移动文物"),
               value_aliases={"国保": "全国重点文物保护单位", "区保": "自治区级文物保护单位",
                              "省保": "自治区级文物保护单位", "县保": "县级文物保护单位",
                              "未定级": "未定级不可移动文物"}),
        Column("巡查人员", "patrollers", "names"),
        Column("出动人次", "inspectors", "int", default=1, minimum=1),
        Column("发现问题", "issues_found", "text"),
        Column("处置情况", "action_taken", "text"),
    ),
)  # fmt: skip

PUBLICATIONS = Ledger(
    "publications", "违规出版物处置台账", *ENFORCEMENT, "period",
    (
        Column("处置日期", "action_date", "date", required=True),
        Column("场所名称", "venue_name", "text", required=True),
        Column("出版物名称", "title", "text", required=True),
        Column("处置方式", "action", "enum", required=True, values=("收缴", "下架"),
               value_aliases={"没收": "收缴", "撤架": "下架"}),
        Column("数量", "quantity", "int", required=True, minimum=1),
        Column("关联案件编号", "case_no", "text"),
    ),
)  # fmt: skip

CASES = Ledger(
    "cases", "行政处罚案件台账", *ENFORCEMENT, "register",
    (
        Column("案件编号", "case_no", "text", required=True),
        Column("立案日期", "filed_on", "date", required=True),
        Column("当事人", "party", "text", required=True, personal="person_name"),
        Column("当事人类型", "party_type", "enum", required=True, values=("个人", "单位"),
               value_aliases={"自然人": "个人", "法人": "单位", "企业": "单位",
                              "个体工商户": "单位"}),
        Column("证件号码", "party_id", "text", personal="id_number"),
        Column("联系电话", "phone", "text", personal="phone"),
        Column("案由", "violation", "text", required=True, header_aliases=("违法行为",)),
        Column("场所类型", "venue_type", "enum", values=VENUE_TYPES,
               value_aliases=VENUE_TYPE_ALIASES),
        Column("处罚决定日期", "decided_on", "date"),
        Column("罚款金额", "fine_yuan", "money", default=0, minimum=0),
        Column("没收违法所得", "confiscated_yuan", "money", default=0, minimum=0),
        Column("法制审核", "legal_review", "bool"),
        Column("集体讨论", "collective_review", "bool"),
        Column("全过程记录", "recorded", "bool"),
        Column("公示日期", "disclosed_on", "date"),
        Column("结案日期", "closed_on", "date"),
        Column("行政复议", "reconsideration", "bool", default=False),
        Column("行政诉讼", "litigation", "bool", default=False),
    ),
    key="case_no",
)  # fmt: skip

HOTLINE = Ledger(
    "hotline", "12345热线工单台账", *ENFORCEMENT, "register",
    (
        Column("工单编号", "ticket_no", "text", required=True),
        Column("受理日期", "received_on", "date", required=True),
        Column("诉求类型", "category", "enum", required=True,
               values=("投诉", "举报", "咨询", "求助", "建议", "其他")),
        Column("诉求内容", "content", "text", personal="free_text"),
        Column("办理时限", "due_on", "date", required=True),
        Column("回复日期", "replied_on", "date"),
        Column("办结日期", "closed_on", "date"),
        Column("满意度", "satisfaction", "enum", default="未评价",
               values=("满意", "基本满意", "不满意", "未评价")),
    ),
    key="ticket_no",
)  # fmt: skip

SAFETY_INCIDENTS = Ledger(
    "safety_incidents", "安全生产事故台账", *ENFORCEMENT, "period",
    (
        Column("发生日期", "occurred_on", "date", required=True),
        Column("场所名称", "venue_name", "text", required=True),
        Column("事故等级", "severity", "enum", required=True,
               values=("一般", "较大", "重大", "特别重大")),
        Column("死亡人数", "deaths", "int", default=0, minimum=0),
        Column("受伤人数", "injuries", "int", default=0, minimum=0),
        Column("事故概况", "description", "text"),
    ),
)  # fmt: skip

PUBLICITY_EVENTS = Ledger(
    "publicity_events", "普法宣传活动台账", *PUBLICITY, "period",
    (
        Column("活动日期", "event_date", "date", required=True),
        Column("活动名称", "title", "text", required=True),
        Column("活动主题", "theme", "enum", required=True,
               values=(*THEME_DAYS, "送戏下乡", "三下乡", "日常普法", "其他"),
               value_aliases={"4·23": "世界读书日", "4.23": "世界读书日",
                              "4·26": "知识产权宣传周", "4.26": "知识产权宣传周",
                              "知识产权日": "知识产权宣传周",
                              "6·13": "文化和自然遗产日", "6.13": "文化和自然遗产日",
                              "文化遗产日": "文化和自然遗产日",
                              "6·26": "国际禁毒日", "6.26": "国际禁毒日",
                              "12·4": "国家宪法日", "12.4": "国家宪法日",
                              "宪法日": "国家宪法日", "宪法宣传周": "国家宪法日"}),
        Column("活动形式", "mode", "enum", required=True, values=("线上", "线下"),
               value_aliases={"网上": "线上", "现场": "线下"}),
        Column("宣传阵地", "venue_kind", "enum",
               values=("机关", "学校", "景区", "企业", "社区", "农村", "网络", "其他"),
               value_aliases={"进机关": "机关", "进学校": "学校", "进景区": "景区",
                              "进企业": "企业"}),
        Column("发放海报", "posters", "int", default=0, minimum=0, header_aliases=("海报",)),
        Column("发放折页", "leaflets", "int", default=0, minimum=0,
               header_aliases=("折页", "宣传折页")),
        Column("悬挂横幅", "banners", "int", default=0, minimum=0, header_aliases=("横幅",)),
        Column("覆盖人次", "reach", "int", default=0, minimum=0,
               header_aliases=("覆盖群众", "受众人次")),
    ),
)  # fmt: skip

WECHAT_POSTS = Ledger(
    "wechat_posts", "微信公众号推送台账", *PUBLICITY, "period",
    (
        Column("推送日期", "posted_on", "date", required=True),
        Column("标题", "title", "text", required=True),
        Column("栏目", "section", "enum", default="其他",
               values=("法律法规解读", "以案释法", "普法活动", "工作动态", "其他")),
        Column("阅读量", "reads", "int", minimum=0),
        Column("链接", "url", "text"),
    ),
)  # fmt: skip

STUDY_SESSIONS = Ledger(
    "study_sessions", "学法培训台账", *OFFICE, "period",
    (
        Column("日期", "held_on", "date", required=True, header_aliases=("学习日期",)),
        Column("形式", "format", "enum", required=True,
               values=("会前学法", "专题讲座", "集中学习", "专题培训", "法治政府建设会议",
                       "警示教育"),
               value_aliases={"培训": "专题培训", "讲座": "专题讲座",
                              "观看警示教育片": "警示教育"}),
        Column("学习专题", "topic", "enum", required=True,
               values=("习近平法治思想", "党纪学习教育", "法律法规", "警示教育", "其他")),
        Column("学习内容", "content", "text"),
        Column("主讲人", "speaker", "text"),
        Column("参加人数", "attendees", "int", required=True, minimum=1),
        Column("学时", "hours", "number", minimum=0),
    ),
)  # fmt: skip

STAFF = Ledger(
    "staff", "执法人员名录", *OFFICE, "snapshot",
    (
        Column("姓名", "name", "text", required=True, personal="person_name"),
        Column("执法证号", "cert_no", "text"),
        Column("证件有效期至", "cert_valid_until", "date"),
        Column("岗位", "role", "enum", required=True, values=("执法", "法制审核", "综合")),
        Column("法律职业资格", "bar_qualified", "bool", default=False),
    ),
)  # fmt: skip

LEDGERS: dict[str, Ledger] = {
    ledger.code: ledger
    for ledger in (
        INSPECTIONS, RELIC_PATROLS, PUBLICATIONS, CASES, HOTLINE, SAFETY_INCIDENTS,
        PUBLICITY_EVENTS, WECHAT_POSTS, STUDY_SESSIONS, STAFF,
    )
}  # fmt: skip

BY_FOLDER: dict[str, Ledger] = {
    **LEDGERS,
    **{ledger.name_zh: ledger for ledger in LEDGERS.values()},
}


def ledger_for_folder(folder: str) -> Ledger | None:
    """Return the ledger whose code or Chinese name is this inbox folder's name."""
    return BY_FOLDER.get(folder.strip()) or BY_FOLDER.get(folder.strip().lower())
