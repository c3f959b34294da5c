"""The current version of each file slot is defined once: the view `current_versions`.

Every staging model joins it, and the Python that decides before the models exist (the
loader, the build's ledger fingerprints) reads the same file; a change of the rule there is
followed by all of them.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

from rawdata import RawWarehouse

from flows.load import current, warehouse
from flows.transform import models

ROOT = Path(__file__).resolve().parents[2]


def inspection(day: date, people: int = 2) -> dict:
    return {"inspection_date": day, "inspection_type": "日常检查", "venue_name": "某网吧",
            "venue_type": "网吧", "inspectors": people, "result": "未发现问题"}  # fmt: skip


def figures(con) -> dict:
    return dict(con.execute("SELECT code, CAST(value AS DOUBLE) FROM indicators WHERE year = 2024").fetchall())


def replaced(w: RawWarehouse) -> tuple[int, int]:
    """Two versions of inspections 2024-03, the second replacing the first; one month more."""
    old = w.version("inspections", "2024-03", [inspection(date(2024, 3, 2))])
    new = w.version("inspections", "2024-03", [inspection(date(2024, 3, 9), people=5)])
    w.con.execute("UPDATE file_versions SET status = 'superseded', superseded_by = ? WHERE version_id = ?",
                  [new, old])
    w.version("inspections", "2024-04", [], status="rejected")
    return old, new


def test_every_staging_model_joins_the_view_and_the_rule_is_written_once():
    found = models.discover()
    assert (found[current.VIEW].layer, found[current.VIEW].materialization) == ("staging", "view")
    assert found[current.VIEW].path == current.RULE_FILE
    staging = [m for m in found.values() if m.layer == "staging" and m.name != current.VIEW]
    assert len(staging) == 10
    for model in staging:
        read = models.references(model.sql)
        assert current.VIEW in read and "file_versions" not in read, model.name
    rule = re.compile(r"status\s*=\s*'loaded'", re.I)
    files = [*ROOT.glob("sql/**/*.sql"), *ROOT.glob("flows/**/*.py")]
    written = sorted(str(p.relative_to(ROOT)) for p in files if rule.search(p.read_text(encoding="utf-8")))
    assert written == ["sql/staging/current_versions.sql"]


def test_the_view_the_staging_models_and_the_loader_agree_on_what_is_current():
    w = RawWarehouse()
    _, new = replaced(w)
    posts = w.version("wechat_posts", "2024-03", [{"posted_on": date(2024, 3, 5), "title": "普法", "section": "普法"}])
    models.build(w.con)
    assert w.con.execute("SELECT version_id, ledger, period FROM current_versions ORDER BY 1").fetchall() == [
        (new, "inspections", "2024-03"), (posts, "wechat_posts", "2024-03")]  # fmt: skip
    assert w.con.execute("SELECT version_id, inspection_date, inspectors FROM stg_inspections").fetchall() == [
        (new, date(2024, 3, 9), 5)]  # fmt: skip
    assert warehouse.current_versions(w.con) == {
        ("", "inspections", "2024-03"): (new, None, w.path(new)),
        ("", "wechat_posts", "2024-03"): (posts, None, w.path(posts)),
    }
    assert models.ledger_states(w.con).keys() == {"inspections", "wechat_posts"}
    assert figures(w.con)["inspector_person_times"] == 5


def another_rule(tmp_path: Path, monkeypatch, rule: str) -> Path:
    """A copy of sql/ whose current_versions.sql says `rule`, used by the loader and the build alike."""
    sql_dir = tmp_path / "sql"
    shutil.copytree(models.SQL_DIR, sql_dir)
    rule_file = sql_dir / "staging" / f"{current.VIEW}.sql"
    rule_file.write_text(rule, encoding="utf-8")
    monkeypatch.setattr(current, "RULE_FILE", rule_file)
    return sql_dir


def test_a_new_rule_in_the_one_file_moves_the_loader_the_staging_and_the_figures(tmp_path, monkeypatch):
    w = RawWarehouse()
    old, new = replaced(w)
    models.build(w.con)
    assert figures(w.con)["inspector_person_times"] == 5
    before = models.ledger_states(w.con)

    # a bureau that counts a replaced month's rows too (a rule for the test's sake)
    sql_dir = another_rule(tmp_path, monkeypatch, "select * from file_versions where status <> 'rejected'")
    assert models.ledger_states(w.con) != before
    assert warehouse.current_versions(w.con) == {("", "inspections", "2024-03"): (new, None, w.path(new))}
    models.build(w.con, sql_dir)
    assert sorted(w.con.execute("SELECT version_id FROM stg_inspections").fetchall()) == [(old,), (new,)]
    assert figures(w.con)["inspector_person_times"] == 7


def test_a_changed_rule_rebuilds_the_tables_even_when_the_same_versions_are_current(tmp_path, monkeypatch):
    w = RawWarehouse()
    replaced(w)
    models.build(w.con)
    # a row only a rebuild removes (the inspections mart is a view: the totals table stands in)
    w.con.execute("INSERT INTO indicator_totals (version_id) VALUES (-1)")
    models.build(w.con)
    assert w.con.execute("SELECT count(*) FROM indicator_totals WHERE version_id = -1").fetchone()[0] == 1

    rule = current.RULE_FILE.read_text(encoding="utf-8") + "-- reworded\n"
    sql_dir = another_rule(tmp_path, monkeypatch, rule)
    models.build(w.con, sql_dir)
    assert w.con.execute("SELECT count(*) FROM indicator_totals WHERE version_id = -1").fetchone()[0] == 0
    assert figures(w.con)["inspector_person_times"] == 5
