"""A city's `--org` figures read each signed county's signed figures, the others' current ones (issue 17 point 5)."""

from __future__ import annotations

from test_lake_cli import config
from test_lake_load import city_inbox, inspections
from typer.testing import CliRunner

from flows.cli import app


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def city_csv(output: str) -> dict[str, dict[str, str]]:
    lines = [line.split(",") for line in output.strip().splitlines()]
    return {row[0]: dict(zip(lines[0], row, strict=True)) for row in lines[1:]}


def test_the_city_reads_signed_figures_and_says_which(tmp_path, catalog, monkeypatch):
    inbox = city_inbox(tmp_path)  # 西吉县 2 + 3 + 4 people out; 隆德县 5 + 1 (and a bad row)
    (tmp_path / "tally.toml").write_text(config(tmp_path, catalog), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for county in ("640422", "640423"):
        assert invoke("run", "--county", county).exit_code == 0
    signed = invoke("signoff", "--org", "西吉县", "--year", "2024", "--by", "张三")
    assert signed.exit_code == 0, signed.output

    # 西吉县 corrects March after signing: 7 people out on one inspection (now 7 + 4 = 11).
    inspections(inbox / "西吉县" / "inspections" / "2024-03_v2.xlsx", 3, 7)
    assert invoke("run", "--county", "640422").exit_code == 0

    shown = invoke("indicators", "--org", "640400", "--year", "2024", "--format", "csv")
    assert shown.exit_code == 0, shown.output
    people = city_csv(shown.output)["inspector_person_times"]
    assert (people["640422"], people["640423"], people["total"]) == ("9", "6", "15")  # signed 9, not 11

    table = invoke("indicators", "--org", "固原市", "--year", "2024")
    assert table.exit_code == 0, table.output
    assert "已签核 · signed：西吉县（快照" in table.output
    assert "未签核（当前数据）· unsigned, current figures：隆德县" in table.output

    own = invoke("indicators", "--year", "2024", "--format", "csv")  # the whole build: current figures
    assert own.exit_code == 0 and "inspector_person_times" in own.output
