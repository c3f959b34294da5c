"""tally.toml is checked before any work: every wrong key gives exit 2 and one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.run.settings import ConfigError, Settings, load_settings

# (what tally.toml says, the key the message names, what the message says it should be, the value as shown)
BAD = [
    ('inbox = 5', "inbox", "文件夹路径", "5"),
    ('inbox = ""', "inbox", "文件夹路径", '""'),
    ('warehouse = ["a", "b"]', "warehouse", "文件路径", "['a', 'b']"),
    ('bureau = 3', "bureau", "文本", "3"),
    ('timezone = "Asia/Beijing"', "timezone", "IANA 时区名", '"Asia/Beijing"'),
    ('timezone = "../../etc/passwd"', "timezone", "IANA 时区名", '"../../etc/passwd"'),
    ('schedule = "every night"', "schedule", "cron 表达式", '"every night"'),
    ('schedule = "0 25 * * *"', "schedule", "cron 表达式", '"0 25 * * *"'),
    ('lock_wait = "abc"', "lock_wait", "不小于 0 的秒数", '"abc"'),
    ('lock_wait = -1', "lock_wait", "不小于 0 的秒数", "-1"),
    ('lock_wait = true', "lock_wait", "不小于 0 的秒数", "true"),
    ('memory_limit = "lots"', "memory_limit", "内存大小", '"lots"'),
    ('memory_limit = 1024', "memory_limit", "内存大小", "1024"),
    ('max_file_mb = 0', "max_file_mb", "大于 0 的整数", "0"),
    ('max_file_mb = 1.5', "max_file_mb", "大于 0 的整数", "1.5"),
    ('max_file_mb = "200"', "max_file_mb", "大于 0 的整数", '"200"'),
    ('file_timeout_s = 0', "file_timeout_s", "大于 0 的秒数", "0"),
    ('file_timeout_s = "5m"', "file_timeout_s", "大于 0 的秒数", '"5m"'),
    ('reader_memory_mb = 256', "reader_memory_mb", "不小于 512 的整数", "256"),
    ('reader_memory_mb = "3G"', "reader_memory_mb", "不小于 512 的整数", '"3G"'),
    ('notify = "yes"', "notify", "[notify]", '"yes"'),
    ('[notify]\ncommand = 5', "notify.command", "命令文本", "5"),
    ('[notify]\ncommand = "notify \'unclosed"', "notify.command", "命令文本", "\"notify 'unclosed\""),
    ('[notify]\nwebhook = "ftp://example.org/x"', "notify.webhook", "http://", '"ftp://example.org/x"'),
    ('[notify]\nwebhook = 8080', "notify.webhook", "http://", "8080"),
    ('[completeness]\ndeadline_day = 31', "completeness.deadline_day", "1 到 28 的整数", "31"),
    ('completeness = 5', "completeness", "[completeness]", "5"),
]


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "tally.toml"
    config.write_text(text + "\n", encoding="utf-8")
    return config


def one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize(("text", "key", "expected", "shown"), BAD, ids=[b[0] for b in BAD])
def test_every_wrong_key_stops_even_a_reader_with_one_line_and_exit_2(tmp_path, text, key, expected, shown):
    config = write(tmp_path, text)
    result = CliRunner().invoke(app, ["indicators", "--year", "2024", "--config", str(config)])
    assert result.exit_code == 2, result.output
    line = one_line(result.output)
    assert line.startswith("配置错误 · bad tally.toml:") and str(config) in line
    assert f"{key} 应为 " in line and expected in line and f"实际写的是 {shown}" in line
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("text", "named", "hint"), [
    ("lock_wiat = 5", "lock_wiat", "lock_wait"),
    ("warehose = \"w.duckdb\"", "warehose", "warehouse"),
    ("max_file_size_mb = 10", "max_file_size_mb", "max_file_mb"),
    ("[notify]\nwebhok = \"http://x\"", "notify.webhok", "notify.webhook"),
    ("[notfy]\ncommand = \"x\"", "notfy", "notify"),
])  # fmt: skip
def test_an_unknown_key_is_an_error_with_a_did_you_mean(tmp_path, text, named, hint):
    config = write(tmp_path, text)
    result = CliRunner().invoke(app, ["runs", "--config", str(config)])
    assert result.exit_code == 2
    line = one_line(result.output)
    assert f"未知的设置 {named}，是否想写 {hint}？" in line


def test_an_unknown_key_without_a_near_name_lists_the_known_ones(tmp_path):
    config = write(tmp_path, "colour = \"red\"")
    with pytest.raises(ConfigError, match=r"未知的设置 colour（可用：inbox、warehouse、.*reader_memory_mb"):
        load_settings(config)


def test_a_missing_config_named_by_the_environment_or_the_flag_is_named(tmp_path, monkeypatch):
    gone = tmp_path / "nowhere" / "tally.toml"
    monkeypatch.setenv("TALLY_CONFIG", str(gone))
    result = CliRunner().invoke(app, ["indicators", "--year", "2024"])
    assert result.exit_code == 2
    assert "配置文件不存在" in one_line(result.output) and "$TALLY_CONFIG" in result.output
    monkeypatch.delenv("TALLY_CONFIG")
    result = CliRunner().invoke(app, ["files", "--config", str(gone)])
    assert result.exit_code == 2 and "配置文件不存在" in result.output and "--config" in result.output


def test_a_config_that_is_not_toml_or_not_a_file_is_named(tmp_path):
    config = write(tmp_path, "inbox = ")
    result = CliRunner().invoke(app, ["runs", "--config", str(config)])
    assert result.exit_code == 2 and "不是有效的 TOML" in one_line(result.output)
    result = CliRunner().invoke(app, ["runs", "--config", str(tmp_path)])
    assert result.exit_code == 2 and "配置文件不是普通文件" in one_line(result.output)


def test_a_bad_notify_command_stops_the_run_before_it_publishes(tmp_path):
    (tmp_path / "inbox").mkdir()
    config = write(tmp_path, 'inbox = "inbox"\nwarehouse = "w/tally.duckdb"\n[notify]\ncommand = 5')
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2 and "notify.command 应为" in one_line(result.output)
    assert not (tmp_path / "w").exists()  # nothing was done


def test_a_good_file_gives_its_values_and_the_new_keys_their_defaults(tmp_path):
    config = write(tmp_path, "\n".join([
        'inbox = "in"', 'warehouse = "/srv/tally/w.duckdb"', 'bureau = "某县文旅局"',
        'timezone = "Europe/Berlin"', 'schedule = "30 1 * * 1-5"', "lock_wait = 600",
        'memory_limit = "800MB"', "[notify]", 'command = "mail -s \'tally\' legal@example.org"',
        'webhook = "https://example.org/hook"', "[completeness]", "deadline_day = 10",
    ]))  # fmt: skip
    s = load_settings(config)
    assert (s.inbox, s.warehouse) == (tmp_path / "in", Path("/srv/tally/w.duckdb"))
    assert (s.bureau, s.timezone, s.schedule, s.lock_wait, s.memory_limit) == (
        "某县文旅局", "Europe/Berlin", "30 1 * * 1-5", 600.0, "800MB")
    assert (s.notify_command, s.notify_webhook) == ("mail -s 'tally' legal@example.org", "https://example.org/hook")
    assert s.extra == {"completeness": {"deadline_day": 10}}
    assert (s.max_file_mb, s.file_timeout_s, s.reader_memory_mb) == (200, 300.0, 3072)


def test_the_new_limits_are_read_when_given(tmp_path):
    config = write(tmp_path, "max_file_mb = 50\nfile_timeout_s = 12.5\nreader_memory_mb = 512")
    s = load_settings(config)
    assert (s.max_file_mb, s.file_timeout_s, s.reader_memory_mb) == (50, 12.5, 512)


def test_the_shipped_tally_toml_and_no_file_at_all_are_valid(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "tally.toml"
    assert load_settings(shipped).warehouse == shipped.parent / "warehouse/tally.duckdb"
    assert load_settings(write(tmp_path, "")) == Settings(inbox=tmp_path / "inbox",
                                                          warehouse=tmp_path / "warehouse/tally.duckdb")


def test_a_top_level_key_written_under_a_section_is_pointed_out(tmp_path):
    config = write(tmp_path, '[notify]\ncommand = "x"\nlock_wait = 5')
    with pytest.raises(ConfigError, match=r"未知的设置 notify\.lock_wait，lock_wait 应写在文件开头、\[notify\] 之前"):
        load_settings(config)
