"""The contract as data: its schema, the file and line of a mistake, and a bureau's overrides."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from flows.contract import spec
from flows.contract.ledgers import LEDGERS, ledger_for_folder
from flows.contract.spec import ContractError, load_contract
from flows.run.settings import load_settings

FLOWS = Path(__file__).resolve().parents[2] / "flows"


@pytest.fixture(autouse=True)
def default_contract():
    """Each test starts and ends with the project's own contract in use."""
    spec.use_contract()
    yield
    spec.use_contract()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the default contract folder, to break."""
    return Path(shutil.copytree(spec.DEFAULT_DIR, tmp_path / "contract"))


def line_of(path: Path, text: str, after: str = "") -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if text in lines[i]) + 1


def test_no_code_branches_on_a_ledger_code():
    # A comparison with a literal ledger code (`ledger.code == "cases"`, `code in ("a", "b")`).
    branch = re.compile(
        r"""\bcode\s*(==|!=)\s*["']|\.code\s+(not\s+)?in\s*[(\[{"']|\bin\s*EVENT_DATES"""
    )
    found = [
        f"{p.relative_to(FLOWS)}:{n}"
        for p in FLOWS.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if branch.search(line)
    ]
    assert found == []


def test_the_default_contract_loads_the_ten_ledgers_with_their_rules():
    assert list(LEDGERS) == [
        "inspections",
        "relic_patrols",
        "publications",
        "cases",
        "hotline",
        "safety_incidents",
        "publicity_events",
        "wechat_posts",
        "study_sessions",
        "staff",
    ]
    assert LEDGERS["cases"].rules == ("case_dates", "id_check_digits")
    assert LEDGERS["cases"].column("party").clear_when == ("party_type", "单位")
    assert LEDGERS["inspections"].event_date == "inspection_date"
    assert ledger_for_folder("执法检查台账") is LEDGERS["inspections"]
    assert spec.active().sections["一(二)"] == "文化市场监管执法"


def test_a_wrong_type_is_named_with_its_file_line_ledger_and_column(folder):
    ledgers = folder / "ledgers.toml"
    text = ledgers.read_text(encoding="utf-8")
    ledgers.write_text(
        text.replace('name = "party_type"\ntype = "enum"', 'name = "party_type"\ntype = "enumm"'),
        encoding="utf-8",
    )
    with pytest.raises(ContractError) as error:
        load_contract(folder)
    line = line_of(ledgers, 'type = "enumm"')
    assert str(error.value).startswith(f"{ledgers}:{line}: cases.party_type.type：")


def test_a_key_that_is_not_a_column_points_at_the_key(folder):
    ledgers = folder / "ledgers.toml"
    ledgers.write_text(
        ledgers.read_text(encoding="utf-8").replace('key = "ticket_no"', 'key = "ticket"'),
        encoding="utf-8",
    )
    with pytest.raises(ContractError) as error:
        load_contract(folder)
    line = line_of(ledgers, 'key = "ticket"')
    assert str(error.value) == (
        f"{ledgers}:{line}: hotline.key：key 'ticket' is not a column · key 不是本台账的列"
    )


def test_an_alias_to_a_value_that_does_not_exist_is_refused(folder):
    ledgers = folder / "ledgers.toml"
    ledgers.write_text(
        ledgers.read_text(encoding="utf-8").replace('"没收" = "收缴"', '"没收" = "收走"'),
        encoding="utf-8",
    )
    with pytest.raises(ContractError) as error:
        load_contract(folder)
    line = line_of(ledgers, '"没收" = "收走"')
    assert str(error.value).startswith(
        f"{ledgers}:{line}: publications.action.value_aliases：value_aliases point at"
    )


def test_overrides_append_lists_merge_tables_and_replace_scalars(tmp_path):
    overrides = tmp_path / "contract.toml"
    overrides.write_text(
        'bureau = "某某县文化旅游广电局"\ndeadline_day = 10\n\n'
        '[ledgers.inspections.columns.inspection_type]\nheader_aliases = ["检查方式"]\n'
        'value_aliases = { "巡检" = "日常检查" }\n\n'
        "[ledgers.inspections.columns.officers]\nrequired = true\n\n"
        '[sections]\n"一(二)" = "文化市场综合执法"\n',
        encoding="utf-8",
    )
    contract = load_contract(None, overrides)
    default = load_contract()
    column = contract.ledgers["inspections"].column("inspection_type")
    assert column.header_aliases == ("检查方式",)
    assert column.value_aliases == {
        **default.ledgers["inspections"].column("inspection_type").value_aliases,
        "巡检": "日常检查",
    }
    assert contract.ledgers["inspections"].column("officers").required is True
    assert contract.sections["一(二)"] == "文化市场综合执法"
    assert (contract.bureau, contract.deadline_day) == ("某某县文化旅游广电局", 10)
    changed = {
        k for k in default.fingerprints if contract.fingerprints[k] != default.fingerprints[k]
    }
    assert changed == {"inspections"}


def test_a_mistake_in_the_overrides_names_that_file_and_line(tmp_path):
    overrides = tmp_path / "contract.toml"
    overrides.write_text(
        '\n[ledgers.inspections.columns.venue_name]\nvalue_aliases = { "x" = "y" }\n'
        '\n[ledgers.case]\nname_zh = "案件"\n',
        encoding="utf-8",
    )
    with pytest.raises(ContractError) as error:
        load_contract(None, overrides)
    assert str(error.value).startswith(f"{overrides}:5: ledgers.case：没有这个台账")
    overrides.write_text(
        '\n[ledgers.inspections.columns.venue_name]\nvalue_aliases = { "x" = "y" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ContractError) as error:
        load_contract(None, overrides)
    assert str(error.value).startswith(
        f"{overrides}:2: ledgers.inspections.columns.venue_name：only an enum"
    )
    overrides.write_text("deadline_day = 40\n", encoding="utf-8")
    with pytest.raises(ContractError, match=re.escape(f"{overrides}:1: deadline_day：")):
        load_contract(None, overrides)


def test_the_bureau_file_beside_tally_toml_is_read_and_gives_its_name(tmp_path):
    (tmp_path / "tally.toml").write_text('inbox = "inbox"\n', encoding="utf-8")
    (tmp_path / "contract.toml").write_text(
        'bureau = "某某县文化旅游广电局"\ndeadline_day = 10\n'
        '[ledgers.cases.columns.violation]\nheader_aliases = ["违法事实"]\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "tally.toml")
    assert settings.bureau == "某某县文化旅游广电局"
    assert settings.extra["completeness"] == {"deadline_day": 10}
    assert "违法事实" in LEDGERS["cases"].column("violation").header_aliases
    spec.use_contract()
    assert "违法事实" not in LEDGERS["cases"].column("violation").header_aliases


def test_an_alias_a_reader_cannot_tell_from_another_header_is_refused(tmp_path):
    """`检查 对象` reads as `检查对象` (venue_name's header): as an alias of another column it is refused."""
    overrides = tmp_path / "contract.toml"
    overrides.write_text(
        '[ledgers.inspections.columns.inspection_type]\nheader_aliases = ["检查方式", "检查 对象"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ContractError) as error:
        load_contract(None, overrides)
    said = str(error.value)
    assert said.startswith(f"{overrides}:")
    assert "「检查对象」（venue_name）" in said and "「检查 对象」（inspection_type）" in said
