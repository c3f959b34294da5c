"""The Great Expectations suites of the ledgers, as data: one JSON file per ledger in `expectations/`.

The suites are written from the input contract (`flows/contract/data/ledgers.toml`) plus the rules
that the templates state in prose (date order, required-when, the file's period, web addresses, check
digits). Each expectation carries `meta`: the rule code, its severity (error: the row is
quarantined; warning: it loads), the Chinese message a clerk reads, and the column the
problem is reported against. `python -m flows.validate.suites` rewrites the files; a test keeps them
equal to what this module builds, so the JSON a reviewer reads is the JSON that runs.

Columns the suites name beyond the ledger's own: `_unit` (which file of the batch), `_row`
(the spreadsheet row), `_period_start` / `_period_end` / `_period` (the file's month), and
`<column>_kind` / `<column>_valid` for ID numbers (what they are, whether the check character
holds; the clear number itself is never handed to the validator).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from flows import resources
from flows.contract import spec
from flows.contract.ledgers import LEDGERS, Column, Ledger

SUITES_DIR = resources.EXPECTATIONS_DIR
ERROR, WARNING = "error", "warning"
UNIT, ROW = "_unit", "_row"
PERIOD_START, PERIOD_END, PERIOD = "_period_start", "_period_end", "_period"

URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"


def expectation(kind: str, *, rule: str, severity: str, message: str, report: str,
                once_per_row: bool = False, **kwargs) -> dict:
    """Return one expectation as GX 1.x configuration data; `report` is the column told to the clerk."""
    meta = {"rule": rule, "severity": severity, "message": message, "column": report}
    if once_per_row:
        meta["once_per_row"] = True  # a row that breaks several forms of the rule is told once
    return {"type": kind, "kwargs": kwargs, "meta": meta}


def column_rules(column: Column) -> list[dict]:
    """Return the expectations of one column: required, allowed values, minimum."""
    out = []
    if column.required and column.default is None:
        out.append(expectation("expect_column_values_to_not_be_null", rule="required",
                               severity=ERROR, message="必填项为空", report=column.name, column=column.name))
    if column.type == "enum":
        allowed = "、".join(column.values)
        out.append(expectation("expect_column_values_to_be_in_set", rule="enum", severity=ERROR,
                               message=f"不在允许的取值内（可填：{allowed}）", report=column.name, column=column.name,
                               value_set=list(column.values)))
    if column.minimum is not None:
        out.append(expectation("expect_column_values_to_be_between", rule="minimum",
                               severity=ERROR, message=f"不能小于{column.minimum}",
                               report=column.name, column=column.name,
                               min_value=column.minimum))
    return out


def key_rules(ledger: Ledger) -> list[dict]:
    """Return the register's key uniqueness within one file."""
    if ledger.key is None:
        return []
    return [expectation(
        "expect_compound_columns_to_be_unique", rule="duplicate_key", severity=ERROR,
        message="与第{_first_row}行重复（同一文件中{_header}不能重复）", report=ledger.key,
        column_list=[UNIT, ledger.key], ignore_row_if="any_value_is_missing",
    )]  # fmt: skip


def not_before(later: Column, earlier: Column, **kwargs) -> dict:
    """Return `earlier ≤ later` for two dates of a case (either one blank: nothing to check)."""
    return expectation(
        "expect_column_pair_values_a_to_be_greater_than_b", rule="date_order", severity=ERROR,
        message=(f"{later.header}早于{earlier.header}（{{{earlier.name}}}），"
                 "应为 立案日期 ≤ 处罚决定日期 ≤ 结案日期"),
        report=later.name, once_per_row=True, column_A=later.name, column_B=earlier.name,
        or_equal=True, ignore_row_if="either_value_is_missing", **kwargs,
    )  # fmt: skip


def case_rules(ledger: Ledger) -> list[dict]:
    """Return the cases register's rules: date order and the ID numbers' check characters."""
    return case_date_rules(ledger) + id_check_rules(ledger)


def case_date_rules(ledger: Ledger) -> list[dict]:
    """Return a case's date order: 立案日期 ≤ 处罚决定日期 ≤ 结案日期 (rule set `case_dates`)."""
    filed, decided, closed = (ledger.column(n) for n in ("filed_on", "decided_on", "closed_on"))
    return [
        not_before(decided, filed),
        not_before(closed, decided),
        # With no decision yet, the closing date still may not precede the filing.
        not_before(closed, filed, row_condition="decided_on.isnull()", condition_parser="pandas"),
    ]


def id_check_rules(ledger: Ledger) -> list[dict]:
    """Return the party's ID number check characters, as warnings (rule set `id_check_digits`)."""
    out = []
    for kind, words in (("resident_id", "居民身份证号码校验位不符（GB 11643），请核对"),
                        ("uscc", "统一社会信用代码校验位不符（GB 32100），请核对")):
        out.append(expectation(
            "expect_column_values_to_be_in_set", rule="id_check_digit", severity=WARNING,
            message=words, report="party_id", column="party_id_valid", value_set=[True],
            row_condition=f'party_id_kind=="{kind}"', condition_parser="pandas",
        ))
    return out


def inspection_rules(ledger: Ledger | None = None) -> list[dict]:
    """Return the inspections' required-when rules (专项行动名称, 抽查任务编号)."""
    return [
        expectation("expect_column_values_to_not_be_null", rule="required_if", severity=ERROR,
                    message="检查类型为专项检查时必须填写专项行动名称", report="campaign",
                    column="campaign", row_condition='inspection_type=="专项检查"',
                    condition_parser="pandas"),
        expectation("expect_column_values_to_not_be_null", rule="required_if", severity=ERROR,
                    message="检查类型为双随机抽查或联合抽查时必须填写抽查任务编号",
                    report="spot_check_task", column="spot_check_task",
                    row_condition='inspection_type.isin(["双随机抽查", "联合抽查"])',
                    condition_parser="pandas"),
    ]


def period_rules(ledger: Ledger) -> list[dict]:
    """Return the warning for a row dated outside its file's month (period ledgers)."""
    if ledger.kind != "period" or ledger.event_date is None:
        return []
    day = ledger.event_date
    words = "日期不在本文件所属月份（{_period}）内，请确认是否填错日期或放错月份"
    common = dict(rule="outside_period", severity=WARNING, message=words, report=day,
                  once_per_row=True, or_equal=True, ignore_row_if="either_value_is_missing")
    return [
        expectation("expect_column_pair_values_a_to_be_greater_than_b", column_A=day,
                    column_B=PERIOD_START, **common),
        expectation("expect_column_pair_values_a_to_be_greater_than_b", column_A=PERIOD_END,
                    column_B=day, **common),
    ]


def url_rules(ledger: Ledger) -> list[dict]:
    """Return the warning for a link that is not an http(s) address."""
    if "url" not in {c.name for c in ledger.columns}:
        return []
    return [expectation("expect_column_values_to_match_regex", rule="url", severity=WARNING,
                        message="不是有效的网址（应以 http:// 或 https:// 开头）", report="url",
                        column="url", regex=URL_PATTERN)]


# The rules that need code, by the name a ledger's `rules` gives them in the contract.
RULE_SETS: dict[str, Callable[[Ledger], list[dict]]] = {
    "case_dates": case_date_rules,
    "id_check_digits": id_check_rules,
    "inspection_required_if": inspection_rules,
}


def rule_set(name: str) -> Callable[[Ledger], list[dict]]:
    """Return a named rule set, or raise saying which names there are."""
    try:
        return RULE_SETS[name]
    except KeyError:
        raise spec.ContractError(f"未知的规则集：{name}（可用：{'、'.join(RULE_SETS)}）· unknown rule set") from None


def ledger_suite(ledger: Ledger) -> dict:
    """Build the suite of one ledger from the contract, as GX 1.x suite data."""
    expectations = [e for c in ledger.columns for e in column_rules(c)]
    expectations += key_rules(ledger)
    for name in ledger.rules:
        expectations += rule_set(name)(ledger)
    expectations += period_rules(ledger) + url_rules(ledger)
    return {
        "name": ledger.code,
        "expectations": expectations,
        "meta": {
            "ledger": ledger.code,
            "name_zh": ledger.name_zh,
            "unit_zh": ledger.unit_zh,
            "kind": ledger.kind,
            "written_by": "python -m flows.validate.suites (from flows/contract/data/ledgers.toml); do not edit by hand",
        },
    }


def suite_text(ledger: Ledger) -> str:
    """Return the JSON text of a ledger's suite, as it is kept in expectations/."""
    return json.dumps(ledger_suite(ledger), ensure_ascii=False, indent=2) + "\n"


def write_suites(folder: Path = SUITES_DIR) -> list[Path]:
    """Write every ledger's suite to `<folder>/<ledger>.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ledger in LEDGERS.values():
        path = folder / f"{ledger.code}.json"
        path.write_text(suite_text(ledger), encoding="utf-8")
        written.append(path)
    return written


@cache
def load_suite(code: str, folder: Path = SUITES_DIR) -> dict:
    """Read one ledger's suite from its JSON file; another bureau's contract has its suites built now.

    The JSON files of `expectations/` are the default contract's; a contract folder of its own
    (or a bureau's overrides, which may add values) gets its suites from the contract at run time.
    """
    if folder == SUITES_DIR and not spec.active().is_default:
        return ledger_suite(LEDGERS[code])
    return json.loads((folder / f"{code}.json").read_text(encoding="utf-8"))


spec.on_change(load_suite.cache_clear)


if __name__ == "__main__":
    for written_path in write_suites():
        print(written_path)
