"""The hash key: weak keys refused, its fingerprint kept in the warehouse, and `tally rekey`."""

from __future__ import annotations

import hashlib
import hmac
import stat

import duckdb
import polars as pl
import pytest
from ledgerfiles import write_csv, write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.privacy.masking import keyed_hash, valid_resident_id
from flows.privacy.protect import (
    KEY_ENV,
    KEY_TABLE,
    KeyRefused,
    hash_key,
    key_fingerprint,
    preflight_key,
)
from flows.publish.swap import run_lock

STRONG = "0123456789abcdef0123456789abcdef-strong"
OTHER = "fedcba9876543210fedcba9876543210-other"
PARTY_ID = valid_resident_id("64042219900101123")
CASES = [
    ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "联系电话", "案由"],
    ["文旅罚〔2024〕1号", "2024-03-05", "王小明", "个人", PARTY_ID, "13812345678", "接纳未成年人"],
]
STAFF = [["姓名", "执法证号", "证件有效期至", "岗位"], ["李四", "64000001", "2030-12-31", "执法"]]
INSPECTIONS = [
    ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"],
    ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "李四、赵六", "未发现问题"],
]


def fill(ws) -> None:
    write_csv(ws.path("cases/2024-03.csv"), CASES)
    write_xlsx(ws.path("staff/执法人员名录2024-01-01.xlsx"), {"S": STAFF})
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": INSPECTIONS})


def run_cli(ws, *args: str):
    return CliRunner().invoke(app, [*args, "--inbox", str(ws.inbox), "--warehouse", str(ws.warehouse)])


def keys(ws) -> tuple:
    return ws.one("SELECT party_key, party_id_key, phone_key FROM raw.cases")


@pytest.mark.parametrize(
    ("key", "words"),
    [("", "哈希密钥为空"), ("short-key-123", "哈希密钥太短"), ("a" * 40, "同一个字符"), ("   ", "哈希密钥为空")],
)
def test_a_weak_key_is_refused_before_any_work(ws, monkeypatch, key, words):
    fill(ws)
    monkeypatch.setenv(KEY_ENV, key)
    result = run_cli(ws, "run")
    assert result.exit_code == 2, result.output
    assert words in result.output.replace("\n", "")
    assert not ws.warehouse.exists()


def test_a_weak_key_file_is_refused(ws, monkeypatch):
    fill(ws)
    monkeypatch.delenv(KEY_ENV)
    ws.warehouse.parent.mkdir(parents=True)
    (ws.warehouse.parent / ".tally-hash-key").write_text("\n")
    result = run_cli(ws, "run")
    assert result.exit_code == 2
    assert "哈希密钥为空" in result.output and ".tally-hash-key" in result.output.replace("\n", "")
    with pytest.raises(KeyRefused):  # and the loader refuses it too, whoever calls it
        ws.run()


def test_a_new_warehouse_gets_a_strong_key_file_and_records_its_fingerprint(ws, monkeypatch):
    fill(ws)
    monkeypatch.delenv(KEY_ENV)
    assert run_cli(ws, "run").exit_code == 0
    path = ws.warehouse.parent / ".tally-hash-key"
    key = path.read_text()
    assert len(key) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    expected = hmac.new(key.encode(), b"tally-key-fingerprint", hashlib.sha256).hexdigest()[:16]
    assert ws.one(f"SELECT fingerprint FROM {KEY_TABLE}") == expected == key_fingerprint(key)
    assert key not in expected and hashlib.sha256(key.encode()).hexdigest()[:16] != expected
    assert keys(ws)[2] == keyed_hash(pl.Series(["13812345678"]), key)[0]


def test_a_lost_key_file_is_refused_not_replaced(ws, monkeypatch):
    fill(ws)
    monkeypatch.delenv(KEY_ENV)
    assert run_cli(ws, "run").exit_code == 0
    path = ws.warehouse.parent / ".tally-hash-key"
    path.unlink()
    write_csv(ws.path("cases/2024-04.csv"), CASES)
    result = run_cli(ws, "run")
    assert result.exit_code == 2, result.output
    said = result.output.replace("\n", "")
    assert "找不到哈希密钥文件" in said and "tally rekey" in said
    assert not path.exists()  # never silently made anew


def test_another_key_is_refused_naming_rekey(ws, monkeypatch):
    fill(ws)
    monkeypatch.setenv(KEY_ENV, STRONG)
    assert run_cli(ws, "run").exit_code == 0
    monkeypatch.setenv(KEY_ENV, OTHER)
    write_csv(ws.path("cases/2024-04.csv"), CASES)
    result = run_cli(ws, "run")
    assert result.exit_code == 2
    said = result.output.replace("\n", "")
    assert "不是仓库中哈希所用的密钥" in said and "tally rekey" in said and key_fingerprint(STRONG) in said
    assert ws.one("SELECT count(*) FROM file_versions WHERE path = 'cases/2024-04.csv'") == 0
    with pytest.raises(KeyRefused):
        preflight_key(ws.warehouse)


def test_a_warehouse_loaded_before_fingerprints_records_its_key_on_the_next_run(ws, monkeypatch):
    fill(ws)
    monkeypatch.setenv(KEY_ENV, STRONG)
    ws.run()
    with duckdb.connect(str(ws.warehouse)) as con:
        con.execute(f"DROP TABLE {KEY_TABLE}")
        assert hash_key(ws.warehouse, con) == STRONG
        assert con.execute(f"SELECT fingerprint FROM {KEY_TABLE}").fetchone()[0] == key_fingerprint(STRONG)


def test_rekey_recomputes_every_hash_from_the_inbox(ws, monkeypatch):
    fill(ws)
    monkeypatch.setenv(KEY_ENV, STRONG)
    assert run_cli(ws, "run").exit_code == 0
    assert ws.one("SELECT count(*) FROM check_warnings") == 1  # 赵六 is not on the roster; 李四 is
    before = keys(ws)
    monkeypatch.setenv(KEY_ENV, OTHER)
    result = run_cli(ws, "rekey")
    assert result.exit_code == 0, result.output

    def h(value: str) -> str:
        return keyed_hash(pl.Series([value]), OTHER)[0]

    assert keys(ws) == (h("王小明"), h(PARTY_ID), h("13812345678")) != before
    assert ws.one("SELECT name_key FROM raw.staff") == h("李四")
    assert ws.one("SELECT officers_keys FROM raw.inspections") == [h("李四"), h("赵六")]
    assert ws.one(f"SELECT fingerprint FROM {KEY_TABLE}") == key_fingerprint(OTHER)
    # the officer is still on the roster: the cross-checks were rebuilt with the new hashes
    assert ws.one("SELECT message FROM check_warnings").count("不在") == 1
    assert ws.one("SELECT name_key FROM stg_staff") == h("李四")
    write_csv(ws.path("cases/2024-04.csv"), CASES)
    assert run_cli(ws, "run").exit_code == 0  # the new key is the warehouse's now


def test_rekey_without_a_key_writes_a_new_key_file(ws, monkeypatch):
    fill(ws)
    monkeypatch.delenv(KEY_ENV)
    assert run_cli(ws, "run").exit_code == 0
    path = ws.warehouse.parent / ".tally-hash-key"
    old = path.read_text()
    path.unlink()  # lost
    result = run_cli(ws, "rekey")
    assert result.exit_code == 0, result.output
    new = path.read_text()
    assert new != old and len(new) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ws.one(f"SELECT fingerprint FROM {KEY_TABLE}") == key_fingerprint(new)
    write_csv(ws.path("cases/2024-04.csv"), CASES)
    assert run_cli(ws, "run").exit_code == 0


def test_rekey_refuses_when_a_loaded_file_is_missing_or_changed(ws, monkeypatch):
    fill(ws)
    monkeypatch.setenv(KEY_ENV, STRONG)
    assert run_cli(ws, "run").exit_code == 0
    before = keys(ws)
    ws.path("staff/执法人员名录2024-01-01.xlsx").unlink()
    write_csv(ws.path("cases/2024-03.csv"), [*CASES, ["文旅罚〔2024〕2号", "2024-03-06", "张三", "个人", "", "", "x"]])
    monkeypatch.setenv(KEY_ENV, OTHER)
    result = run_cli(ws, "rekey")
    assert result.exit_code == 2
    said = result.output.replace("\n", "")
    assert "staff/执法人员名录2024-01-01.xlsx（不在收件箱中）" in said
    assert "cases/2024-03.csv（内容已改变" in said
    assert keys(ws) == before
    assert ws.one(f"SELECT fingerprint FROM {KEY_TABLE}") == key_fingerprint(STRONG)


def test_rekey_refuses_a_weak_new_key(ws, monkeypatch):
    fill(ws)
    monkeypatch.setenv(KEY_ENV, STRONG)
    assert run_cli(ws, "run").exit_code == 0
    monkeypatch.setenv(KEY_ENV, "weak")
    result = run_cli(ws, "rekey")
    assert result.exit_code == 2 and "哈希密钥太短" in result.output


def test_rekey_waits_for_no_run_and_needs_a_warehouse(ws, monkeypatch):
    result = run_cli(ws, "rekey")
    assert result.exit_code == 2 and "仓库文件不存在" in result.output
    fill(ws)
    monkeypatch.setenv(KEY_ENV, STRONG)
    assert run_cli(ws, "run").exit_code == 0
    monkeypatch.setenv(KEY_ENV, OTHER)
    with run_lock(ws.warehouse, run_id="another"):
        assert run_cli(ws, "rekey").exit_code == 75
    assert ws.one(f"SELECT fingerprint FROM {KEY_TABLE}") == key_fingerprint(STRONG)
