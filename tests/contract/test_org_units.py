"""Org units: the province, its cities and counties by GB/T 2260 code, and the county of each loaded row."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from ledgerfiles import write_xlsx

from flows.contract import org_units, spec
from flows.contract.spec import DEFAULT_DIR, ContractError, load_contract
from flows.run.settings import ConfigError, load_settings

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]


def inspections(path, *people: int) -> None:
    rows = [[i, date(2024, 3, i), "日常检查", f"场所{i}", "网吧", n, "张三", "未发现问题"]
            for i, n in enumerate(people, 1)]
    write_xlsx(path, {"S": [HEADER, *rows]})


def test_ningxia_has_five_cities_and_twenty_two_counties():
    units = spec.active().org_units
    assert units["640000"].name_zh == "宁夏回族自治区" and units["640000"].parent is None
    cities = {u.code: u.name_zh for u in units.values() if u.level == "city"}
    assert cities == {"640100": "银川市", "640200": "石嘴山市", "640300": "吴忠市", "640400": "固原市",
                      "640500": "中卫市"}
    assert len(org_units.counties_under("640000")) == 22
    assert {u.code: u.name_zh for u in org_units.counties_under("640400")} == {
        "640402": "原州区", "640422": "西吉县", "640423": "隆德县", "640424": "泾源县", "640425": "彭阳县"}
    assert [u.code for u in org_units.ancestors("640422")] == ["640422", "640400", "640000"]
    assert [len(org_units.counties_under(c)) for c in cities] == [6, 3, 5, 5, 3]


def test_a_folder_names_its_county_by_code_name_or_alias():
    assert org_units.county_of_scope("640423") == "640423"
    assert org_units.county_of_scope("西吉县") == "640422"
    assert org_units.county_of_scope("", own="640425") == "640425"
    assert org_units.county_of_scope("固原") is None  # a city is not a county: not guessed
    assert org_units.county_of_scope("某某县") is None
    with pytest.raises(org_units.UnknownOrgUnit, match="某某县"):
        org_units.resolve("某某县")


@pytest.mark.parametrize(("unit", "message"), [
    ('code = "640499"\nname_zh = "错县"\nlevel = "county"\nparent = "640500"', "does not begin as its parent"),
    ('code = "640426"\nname_zh = "错县"\nlevel = "county"\nparent = "640000"', "not a city"),
    ('code = "640426"\nname_zh = "错县"\nlevel = "county"\nparent = "640600"', "640600 is not listed"),
    ('code = "640422"\nname_zh = "错县"\nlevel = "county"\nparent = "640400"', "640422 twice"),
    ('code = "640600"\nname_zh = "错市"\nlevel = "county"\nparent = "640400"', "not a county code"),
    ('code = "64042"\nname_zh = "错县"\nlevel = "county"\nparent = "640400"', "unit.28.code"),
])
def test_a_broken_hierarchy_is_refused_naming_file_and_line(tmp_path, unit, message):
    folder = tmp_path / "contract"
    shutil.copytree(DEFAULT_DIR, folder)
    path = folder / "org_units.toml"
    text = path.read_text(encoding="utf-8")
    line = len(text.rstrip("\n").splitlines()) + 2  # the [[unit]] line appended below
    path.write_text(text.rstrip("\n") + "\n\n[[unit]]\n" + unit + "\n", encoding="utf-8")
    with pytest.raises(ContractError) as err:
        load_contract(folder)
    assert f"{path}:" in str(err.value) and message in str(err.value)
    assert f":{line}:" in str(err.value) or f":{line + 1}:" in str(err.value)  # the unit, or its code


def test_rows_carry_their_county_without_changing_a_figure(ws):
    inspections(ws.path("inspections/2024-03.xlsx"), 2, 3)
    ws.run(checks=())
    assert ws.query("SELECT DISTINCT _county FROM raw.inspections") == [("640422",)]


def test_a_city_inbox_gives_each_county_folder_its_code(ws):
    inspections(ws.path("西吉县/inspections/2024-03.xlsx"), 2, 3)
    inspections(ws.path("640423/inspections/2024-03.xlsx"), 4)
    inspections(ws.path("某办公室/inspections/2024-03.xlsx"), 1)
    ws.run(checks=())
    rows = ws.query("SELECT f.scope, r._county, count(*) FROM raw.inspections r "
                    "JOIN file_versions f ON f.version_id = r._version_id GROUP BY ALL ORDER BY 1")
    assert rows == [("640423", "640423", 1), ("某办公室", None, 1), ("西吉县", "640422", 2)]


def test_the_bureaus_own_unit_comes_from_tally_toml(tmp_path, monkeypatch):
    config = tmp_path / "tally.toml"
    config.write_text('org_unit = "隆德县"\n', encoding="utf-8")
    try:
        assert load_settings(config).org_unit == "640423"
        assert org_units.own() == "640423"
        config.write_text('org_unit = "某某县"\n', encoding="utf-8")
        with pytest.raises(ConfigError, match="org_unit"):
            load_settings(config)
    finally:
        org_units.use_own(org_units.DEFAULT_ORG_UNIT)
