"""The Chinese name of each column the commands export, for the human forms (Excel CSV, xlsx).

A human export heads each column with its Chinese name and the column's code beside it
(`数值 value`), so that a person reads it and a formula or a script can still find the column.
A column without an entry is headed by its code alone; a column already named in Chinese
(the clerks' problem lists) keeps its name.
"""

from __future__ import annotations

COLUMN_ZH = {
    # indicators
    "year": "年度", "code": "代码", "name_zh": "指标", "name_en": "指标（英文）", "value": "数值",
    "unit": "单位", "printed": "报告写法", "section": "章节", "reported": "已报送台账",
    # explain
    "dated_on": "日期", "amount": "数量或金额", "distinct_value": "去重值", "meets_condition": "符合条件（计入分子）",
    "ledger": "台账", "record_key": "记录编号", "label": "说明", "path": "文件", "sheet": "工作表",
    "row": "行号", "version_id": "版本号",
    # files
    "period": "期次", "status": "状态", "rows_read": "读取行数", "rows_loaded": "载入行数",
    "rows_quarantined": "退回行数", "rows_skipped": "跳过行数", "skipped": "跳过说明", "reason": "原因",
    "sha256": "文件指纹", "seen_at": "发现时间", "revision": "修订次数", "zero_report": "零报告",
    "ignored_columns": "忽略的列", "read": "读取行数", "loaded": "载入行数", "quarantined": "退回行数",
    # completeness
    "scope": "县区", "ledger_zh": "台账名称", "unit_zh": "报送单位", "month": "月份", "status_zh": "报送情况",
    "mark": "标记", "submitted_on": "报送日期", "deadline": "截止日期", "latest_snapshot": "最新名录快照",
    "rejected_files": "退回文件数",
    # runs
    "run_id": "运行编号", "started_at": "开始时间", "ended_at": "结束时间", "inbox": "收件箱",
    "outcome": "结果", "files_loaded": "载入文件数", "files_unchanged": "未变文件数",
    "files_superseded": "被替代文件数", "files_rejected": "退回文件数", "warnings": "警告数",
    "message": "说明", "problems": "问题数",
}  # fmt: skip


def human_heading(column: str) -> str:
    """Return a column's heading for a person: its Chinese name with its code beside it."""
    zh = COLUMN_ZH.get(column)
    return f"{zh} {column}" if zh else column
