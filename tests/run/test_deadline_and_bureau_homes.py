"""The bureau's name and deadline day may be written in tally.toml or contract.toml: the same, never different."""

from __future__ import annotations

import pytest

from flows.contract import spec
from flows.run.settings import ConfigError, load_settings
from flows.transform.submissions import SubmissionRules, rules_in_use


@pytest.fixture(autouse=True)
def _project_contract():
    yield
    spec.use_contract()


def write(tmp_path, tally: str, contract: str | None = None, folder: str = "."):
    tmp_path = tmp_path / folder
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "tally.toml").write_text(tally, encoding="utf-8")
    if contract is not None:
        (tmp_path / "contract.toml").write_text(contract, encoding="utf-8")
    return tmp_path / "tally.toml"


def test_a_deadline_day_that_differs_between_the_files_stops_with_both_named(tmp_path):
    path = write(tmp_path, "[completeness]\ndeadline_day = 8\n", "deadline_day = 10\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    said = str(error.value)
    assert said.startswith(f"{path}：completeness.deadline_day 为 8，而 {tmp_path / 'contract.toml'}")
    assert "deadline_day 为 10，两处不一致" in said


def test_a_bureau_name_that_differs_stops_too(tmp_path):
    path = write(tmp_path, 'bureau = "甲县文旅局"\n', 'bureau = "乙县文旅局"\n')
    with pytest.raises(ConfigError, match=r'bureau 为 "甲县文旅局"，而 .*乙县文旅局'):
        load_settings(path)


def test_the_same_value_in_both_files_or_in_one_is_taken_and_put_in_use(tmp_path):
    path = write(tmp_path, 'bureau = "甲县文旅局"\n[completeness]\ndeadline_day = 10\ngrace_hours = 2\n',
                 'bureau = "甲县文旅局"\ndeadline_day = 10\n')
    assert load_settings(path).bureau == "甲县文旅局"
    assert rules_in_use() == SubmissionRules(deadline_day=10, grace_hours=2, timezone="Asia/Shanghai")
    path = write(tmp_path, 'timezone = "Asia/Urumqi"\n', "deadline_day = 12\n", "b")
    load_settings(path)
    assert rules_in_use() == SubmissionRules(deadline_day=12, grace_hours=24, timezone="Asia/Urumqi")
    path = write(tmp_path, "[completeness]\ngrace_hours = 0\n", "", "c")
    load_settings(path)
    assert rules_in_use() == SubmissionRules(deadline_day=5, grace_hours=0, timezone="Asia/Shanghai")
