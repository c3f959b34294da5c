"""The comments of the tables `flows/load/ddl.py` creates: the load history and the run history.

Kept beside their DDL, one entry per table and one line per column; `tests/load/test_warehouse_comments.py`
fails when a column of a built warehouse has none, so a column added to the DDL without its line
here is caught. The raw ledger tables take theirs from the contract (`comments.raw_table_doc`).
"""

from __future__ import annotations

from flows.contract.ledgers import LEDGERS
from flows.load.comments import RelationDoc, bilingual, raw_table_doc

_PERIOD = bilingual(
    "期间（文件名所示：月份 2024-03，名录为日期 2024-12-31 或年份 2024）",
    "the period as the file name gives it: a month 2024-03; a roster snapshot 2024-12-31 or 2024",
)
_PERIOD_START = bilingual("期间首日", "first day of the period (DATE): the month's 1st, a snapshot's date")
_SCOPE = bilingual(
    "县区（台账文件夹上层的文件夹；单个县为空）",
    "the county folder above the ledger folder, for a city that consolidates counties ('' for one county)",
)
_VERSION = bilingual("文件版本号", "the file version (file_versions.version_id)")
_PATH = bilingual("文件路径（相对收件箱）", "the file's path, relative to the inbox, '/' separated")
_SHEET = bilingual("工作表", "the sheet")
_ROW = bilingual("行号（与表格所示一致）", "the row number as the spreadsheet shows it, 1-based")

LOADER_DOCS = (
    RelationDoc("main", "runs", bilingual("运行记录（每次运行一行，含失败和中断的）",
                                            "one row per run, failed and interrupted runs included"), {
        "run_id": bilingual("运行编号（开始时刻，UTC）", "the run's id: its start time in UTC"),
        "started_at": bilingual("开始时间（带时区，UTC 存储）", "when the run started (TIMESTAMPTZ)"),
        "ended_at": bilingual("结束时间（带时区）", "when the run ended (TIMESTAMPTZ); empty while running"),
        "inbox": bilingual("收件箱目录", "the inbox folder the run read"),
        "outcome": bilingual("结果", "running | completed | failed | interrupted"),
        "files_loaded": bilingual("载入文件数", "files loaded"),
        "files_unchanged": bilingual("未变文件数", "files seen again unchanged"),
        "files_superseded": bilingual("被替换文件数", "files replaced by a later version"),
        "files_rejected": bilingual("退回文件数", "files rejected"),
        "rows_loaded": bilingual("载入行数", "rows loaded"),
        "rows_quarantined": bilingual("隔离行数", "rows quarantined"),
        "warnings": bilingual("警告数", "warnings"),
        "message": bilingual("说明", "what the run said at its end"),
    }),
    RelationDoc("main", "file_versions", bilingual(
        "文件版本（每个见过的文件版本一行：载入、未变、被替换或退回）",
        "load history: one row per file version ever seen (loaded, unchanged, superseded, rejected)"), {
        "version_id": _VERSION,
        "run_id": bilingual("运行编号", "the run that saw it (runs.run_id)"),
        "path": _PATH,
        "scope": _SCOPE,
        "ledger": bilingual("台账代码", "the ledger's code (its inbox folder); empty when the folder names none"),
        "period": _PERIOD,
        "period_start": _PERIOD_START,
        "sheet": bilingual("读取的工作表", "the sheet read"),
        "sha256": bilingual("文件内容散列", "SHA-256 of the file's bytes"),
        "content_sha256": bilingual("表格内容散列", "SHA-256 of the sheet's cells as read"),
        "size": bilingual("文件大小（字节）", "the file's size in bytes"),
        "modified_at": bilingual("文件修改时间（带时区）", "the file's modification time (TIMESTAMPTZ)"),
        "revision": bilingual("修订号", "the revision from 修订 / 更正 / vN in the name (0: none)"),
        "status": bilingual("状态", "loaded | unchanged | superseded | rejected"),
        "rows_read": bilingual("读取行数", "non-blank rows below the header"),
        "rows_loaded": bilingual("载入行数", "rows loaded"),
        "rows_quarantined": bilingual("隔离行数", "rows quarantined"),
        "rows_skipped": bilingual("跳过行数（合计、说明、隐藏行）", "rows read and not loaded: totals, notes, hidden rows"),
        "zero_report": bilingual("零报告", "the file is a zero report (nothing to report this period)"),
        "ignored_columns": bilingual("忽略的列", "columns read and ignored (a hidden duplicate of a visible one)"),
        "reason": bilingual("原因", "why it was rejected, unchanged or superseded, in Chinese"),
        "seen_at": bilingual("发现时间（带时区）", "when the run saw it (TIMESTAMPTZ)"),
        "superseded_by": bilingual("被哪个版本替换", "the version_id that replaced it"),
        "failure": bilingual(
            "非内容原因的失败（下次运行重读）",
            "a failure not about the content (unreadable, changed, timeout, unexpected): read again next run",
        ),
        "contract": bilingual("合同指纹", "fingerprint of the contract the verdict was made under"),
    }),
    RelationDoc("main", "problems", bilingual(
        "载入问题（每个隔离行或警告一条，含文件、工作表、行、表头、原值和中文说明）",
        "load problems: one per quarantined row or warning, with file, sheet, row, header, raw value, message"), {
        "version_id": _VERSION,
        "path": _PATH,
        "sheet": _SHEET,
        "row": _ROW,
        "column": bilingual("仓库列名", "the warehouse column"),
        "header": bilingual("表头（文件所写）", "the Chinese header as the file writes it"),
        "raw_value": bilingual("原值", "the raw value as the clerk wrote it (personal data masked)"),
        "rule": bilingual("规则", "the rule the value broke"),
        "severity": bilingual("级别", "error (row quarantined) | warning (row loaded)"),
        "message": bilingual("中文说明", "what to do, in Chinese, for the clerk"),
    }),
    RelationDoc("main", "skipped_rows", bilingual(
        "跳过的行（合计、签名说明、隐藏行；只存标签）",
        "rows read and not loaded: totals, notes, hidden and filtered rows (their label only)"), {
        "version_id": _VERSION,
        "sheet": _SHEET,
        "row": _ROW,
        "kind": bilingual("类别", "total | note | hidden | filtered | nothing (a zero report's 无)"),
        "label": bilingual("标签", "the row's label (合计, 填表人, …) and nothing else of it"),
    }),
    RelationDoc("main", "quarantined_rows", bilingual(
        "隔离行（每个单元格照录，个人信息已脱敏）",
        "quarantined rows, every cell as written (personal data masked)"), {
        "version_id": _VERSION,
        "sheet": _SHEET,
        "row": _ROW,
        "cells": bilingual("单元格（表头 → 原文）", "JSON: header → the cell's text as the clerk wrote it"),
    }),
    # Created by flows/privacy/protect.py (KEY_TABLE); its comments sit with the other tables'.
    RelationDoc("main", "hash_key_fingerprint", bilingual(
        "个人信息散列密钥的指纹（换用其他密钥时拒绝运行）",
        "fingerprint of the key the keyed hashes were made with: a run with another key is refused"), {
        "fingerprint": bilingual("密钥指纹", "the key's fingerprint (never the key)"),
        "recorded_at": bilingual("记录时间（带时区）", "when it was recorded (TIMESTAMPTZ)"),
    }),
    # Created by flows/report/notices.py (the notification's memory); its comments sit here too.
    RelationDoc("main", "notices_sent", bilingual(
        "已通知事项", "what a run's notification has said, so that each thing is sent once"), {
        "notice_key": bilingual("事项键", "what the notice is: kind:version_id, check:rule:version_id:row, "
                                "late|missing:scope:ledger:period"),
        "kind": bilingual("类别", "rejected | quarantined | check | late | missing"),
        "run_id": bilingual("运行编号", "the run whose notification carried it"),
        "sent_at": bilingual("通知时间", "when that run put it in its notification (UTC)"),
    }),
    # The stat shortcut's memory (flows/load/inbox_hashes.py).
    RelationDoc("main", "inbox_hashes", bilingual(
        "收件箱文件的散列与当时的文件属性（属性未变的文件下次不再重读）",
        "each inbox file's hash and the stat it was computed at: a file whose stat is unchanged "
        "is not read again to list it"), {
        "path": _PATH,
        "sha256": bilingual("文件内容散列", "SHA-256 of the file's bytes"),
        "size": bilingual("文件大小（字节）", "the file's size in bytes when it was hashed"),
        "mtime_ns": bilingual("修改时间（纳秒）", "its modification time then, ns since the epoch"),
        "ctime_ns": bilingual("状态变更时间（纳秒，用户无法设置）",
                              "its status-change time then, ns since the epoch (no user can set it)"),
        "inode": bilingual("索引节点号", "its inode number then"),
        "device": bilingual("设备号", "the device it was on"),
        "hashed_at_ns": bilingual("计算散列的时刻（纳秒）",
                                  "when it was hashed, ns since the epoch: a file touched within 2 s of it "
                                  "is read again"),
    }),
)


def loader_docs() -> list[RelationDoc]:
    """Return the comments of every table `create_loader_tables` makes: history and raw tables."""
    return [*LOADER_DOCS, *(raw_table_doc(ledger) for ledger in LEDGERS.values())]


# The lake's sign-off tables, created by flows/run/signoff.py (only in a lake, never in a
# county's single file); their comments sit with the other loader tables'. They are events:
# appended, never updated.
_SIGNOFF_ID = bilingual("签核编号", "the sign-off's id (a UUID)")
SIGNOFF_DOCS = (
    RelationDoc("main", "signoffs", bilingual(
        "签核记录（每次签核一行，只增不改；同县同年以最新一次为准）",
        "sign-offs: one row per sign-off of a county's year, appended, never changed; the latest wins"), {
        "signoff_id": _SIGNOFF_ID,
        "county": bilingual("县区代码（GB/T 2260）", "the county's GB/T 2260 code"),
        "year": bilingual("年度", "the year signed off"),
        "snapshot_id": bilingual("湖仓快照号（签核的数字由此快照计算）",
                                 "the lake snapshot the signed figures were built from (AT (VERSION => …))"),
        "signed_at": bilingual("签核时间（带时区）", "when it was signed (TIMESTAMPTZ)"),
        "signed_by": bilingual("签核人", "who signed it (--by, else the login name)"),
        "supersedes": bilingual("取代的签核编号", "the sign-off of the same county and year it replaces; empty: the first"),
    }),
    RelationDoc("main", "signed_totals", bilingual(
        "签核的数字（每次签核、每个指标一行：汇总用的小计和该县的指标值）",
        "signed figures: per sign-off and indicator, the totals a roll-up adds and the county's figure"), {
        "signoff_id": _SIGNOFF_ID,
        "county": bilingual("县区代码（GB/T 2260）", "the county's GB/T 2260 code"),
        "year": bilingual("年度", "the year"),
        "code": bilingual("指标代码", "indicator code"),
        "aggregation": bilingual("汇总方式", "count | sum | distinct | rate"),
        "row_count": bilingual("行数（空：该年无记录）", "rows counted; empty when the indicator had no row that year"),
        "numerator_count": bilingual("分子行数", "rows in the numerator (of a rate)"),
        "amount_sum": bilingual("数量或金额合计", "sum of the amounts (yuan, or a quantity)"),
        "distinct_count": bilingual("去重计数", "distinct values counted"),
        "value": bilingual("指标值（元；比率为百分数）", "the county's figure: yuan, a rate in percent; empty when undefined"),
        "reported": bilingual("已报送（其台账该年已报送）", "its ledgers were submitted for the year"),
    }),
    # A view on DuckLake takes a comment of its own but none on its columns: they are `signoffs`'.
    RelationDoc("main", "current_signoffs", bilingual(
        "现行签核（每县每年最新的一次，列同 signoffs）",
        "the sign-off in force: the latest per county and year (the columns of signoffs)")),
)
