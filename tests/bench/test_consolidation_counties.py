"""The consolidation bench's 100 counties: 22 real ones and 78 synthetic ones the contract accepts."""

from __future__ import annotations

from bench import consolidation
from flows.contract import org_units
from flows.contract.spec import load_org_units


def test_synthetic_counties_are_valid_org_units_under_their_donors_cities(tmp_path, monkeypatch):
    monkeypatch.setattr(consolidation, "WORK", tmp_path)
    folder, donors = consolidation.synthetic_contract(78)
    units = load_org_units(folder)  # checked as `tally contract check` checks it: raises on a bad unit
    counties = [u for u in units.values() if u.level == "county"]
    assert len(counties) == 100 and len(donors) == 78
    real = {u.code: u for u in org_units.counties_under("640000")}
    assert set(donors.values()) == set(real)  # every real county lends its folder
    for code, donor in donors.items():
        assert units[code].parent == real[donor].parent and code[:4] == donor[:4]
        assert units[code].name_zh == f"合成县{code}" and int(code[4:]) >= consolidation.SYNTHETIC_FROM
