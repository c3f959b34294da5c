"""Nothing personal leaks: personal values in every form, anywhere in an inbox, are masked everywhere.

The scan test loads an inbox with IDs, phones and names in template columns, in columns the
templates do not have, in free text, in a headerless CSV, in quarantined rows and in rejected
files; then it reads every text column of every relation, every file beside the warehouse and
the exports a clerk is sent, and finds none of the clear values in any of their forms.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledgerfiles import write_csv, write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.privacy.masking import mask_free_text, personal_kind_of_header, valid_resident_id
from flows.textnorm import to_halfwidth

ID18 = valid_resident_id("64042219900101123")  # 640422199001011237
ID18B = valid_resident_id("64042219851231456")
ID15 = "640422850615123"
MOBILE = "13857246913"
MOBILE2 = "13968142537"
LANDLINE = "09547351862"  # (0954)7351862
NAMES = ("王小明", "欧阳娜娜", "张建国", "赵铁柱")


def full(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def spaced(text: str, groups: tuple[int, ...]) -> str:
    out, i = [], 0
    for g in groups:
        out.append(text[i:i + g])
        i += g
    return " ".join(out)


# Every form the inbox writes them in.
ID_FORMS = [ID18, spaced(ID18, (6, 8, 4)), full(ID18), spaced(ID18B, (6, 4, 4, 4)), ID15, spaced(ID15, (6, 6, 3))]
PHONE_FORMS = [MOBILE, "138 5724 6913", "138-5724-6913", "138.5724.6913", "+86 139 6814 2537", "+8613968142537",
               full(MOBILE), "(0954)7351862", "（0954）7351862", "0954-7351862", "0954 7351862"]


def needles_found(text: str) -> list[str]:
    """The clear values in `text`, whatever form they are written in."""
    compact = re.sub(r"[\s\-.()（）+－．]", "", to_halfwidth(text))
    found = [v for v in (ID18, ID18B, ID15, MOBILE, MOBILE2, LANDLINE) if v in compact]
    # An ID without its last 4 or a phone without its first 3 still gives away too much.
    found += [v for v in (ID18[6:14], ID18B[6:14], ID15[6:11] + ID15[11:], MOBILE[3:], MOBILE2[3:], LANDLINE[3:]) if v in compact]
    found += [n for n in NAMES if n in compact]
    return found


CASES = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "联系电话", "案由", "身份证号（备查）", "来电号码", "来电人"]
HOTLINE = ["工单编号", "受理日期", "诉求类型", "诉求内容", "办理时限", "来电人", "来电号码", "身份证号（备查）",
           "回访（13968142537）"]
INSPECTIONS = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果", "备注"]


def build_inbox(ws) -> None:
    cases = [CASES]
    for i, (pid, phone) in enumerate(zip(ID_FORMS, PHONE_FORMS, strict=False)):
        cases.append([f"文旅罚〔2024〕{i + 1}号", "2024-03-05", NAMES[i % 4], "个人", pid, phone,
                      f"接纳未成年人，当事人电话{PHONE_FORMS[-1 - i]}", ID_FORMS[-1 - i], PHONE_FORMS[i + 3], NAMES[(i + 1) % 4]])
    # Quarantined: a date that is no date; every personal cell of the row must stay masked.
    cases.append(["文旅罚〔2024〕99号", "2024-13-45", "赵铁柱", "个人", spaced(ID18, (6, 8, 4)), "138-5724-6913",
                  f"备查{ID15}", full(ID18), "（0954）7351862", "欧阳娜娜"])
    write_csv(ws.path("cases/2024-03.csv"), cases)
    hotline = [HOTLINE]
    for i, phone in enumerate(PHONE_FORMS):
        hotline.append([f"GD2024{i:04d}", "2024-03-05", "投诉",
                        f"来电反映噪音，回电{phone}，身份证{ID_FORMS[i % len(ID_FORMS)]}，备用{PHONE_FORMS[-1 - i]}",
                        "2024-03-12", NAMES[i % 4], phone, ID_FORMS[i % len(ID_FORMS)], "已回访"])
    hotline.append(["GD20249999", "某天", "投诉", f"电话{MOBILE}", "2024-03-12", "王小明", "138 5724 6913", ID18,
                    f"回访{PHONE_FORMS[4]}"])
    write_xlsx(ws.path("hotline/2024-03.xlsx"), {"工单": hotline})
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [
        INSPECTIONS,
        ["2024-03-05", "日常检查", f"某网吧（负责人电话{MOBILE}）", "网吧", 2, "未发现问题", f"负责人手机 {PHONE_FORMS[2]}，证件{ID18}"],
        ["2024-03-06", "日常检查", "某书店", "书店", "两", "未发现问题", f"来电{PHONE_FORMS[8]}"],
    ]})
    # A cases CSV without its header row: rejected, and its reason must not quote the row.
    write_csv(ws.path("cases/2024-04.csv"), [
        ["文旅罚〔2024〕7号", "2024-04-01", "王小明", "个人", ID18, MOBILE, "接纳未成年人"],
        ["文旅罚〔2024〕8号", "2024-04-02", "欧阳娜娜", "个人", full(ID18B), "(0954)7351862", "无证经营"],
    ])
    # A header row that misses required columns, with a phone and an ID beside the known headers.
    write_csv(ws.path("cases/2024-05.csv"), [
        ["案件编号", "当事人", f"联系人{MOBILE}", f"证件{spaced(ID18, (6, 8, 4))}"],
        ["文旅罚〔2024〕9号", "王小明", MOBILE, ID18],
    ])


def wait_for_docs(ws) -> None:
    # The Data Docs are rendered by a child process after the swap; wait for it to finish (its
    # job file goes when it has). The deadline is a guard against a hang, not a measure of speed.
    deadline = time.monotonic() + 600
    while list(ws.warehouse.parent.glob(".docs-job-*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not list(ws.warehouse.parent.glob(".docs-job-*.json")), "the Data Docs were never rendered"


def relation_texts(warehouse) -> dict[str, str]:
    """Every VARCHAR, JSON and list column of every table and view of the warehouse, as text."""
    texts = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            """
            SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
            WHERE table_catalog = current_database()
              AND (data_type LIKE '%VARCHAR%' OR data_type LIKE '%JSON%' OR data_type LIKE '%[]%'
                   OR data_type LIKE 'STRUCT%' OR data_type LIKE 'MAP%')
            """
        ).fetchall()
        assert len(columns) > 50
        for schema, table, column, _ in columns:
            values = con.execute(
                f'SELECT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
            texts[f"{schema}.{table}.{column}"] = "\n".join(v[0] for v in values)
    return texts


def test_personal_values_in_every_form_leak_nowhere(ws, tmp_path):
    build_inbox(ws)
    runner = CliRunner()
    w = ["--warehouse", str(ws.warehouse)]
    notified = tmp_path / "notified.txt"  # what the [notify] hook is given
    config = tmp_path / "tally.toml"
    config.write_text(f'[notify]\ncommand = "tee {notified}"\n', encoding="utf-8")
    result = runner.invoke(app, ["run", "--inbox", str(ws.inbox), *w, "--config", str(config)])
    assert result.exit_code == 0, result.output
    wait_for_docs(ws)
    assert "cases/2024-04.csv" in notified.read_text(encoding="utf-8")
    # The inbox loaded as meant: rows loaded, rows quarantined, the two bad files rejected.
    statuses = dict(ws.query("SELECT path, status FROM file_versions"))
    assert statuses["cases/2024-03.csv"] == statuses["hotline/2024-03.xlsx"] == "loaded"
    assert statuses["cases/2024-04.csv"] == statuses["cases/2024-05.csv"] == "rejected"
    assert ws.one("SELECT count(*) FROM quarantined_rows") >= 3
    assert ws.one("SELECT count(*) FROM raw.cases") == len(ID_FORMS)

    leaks: dict[str, list[str]] = {}
    for name, text in relation_texts(ws.warehouse).items():
        if found := needles_found(text):
            leaks[name] = found
    beside = [p for p in ws.warehouse.parent.rglob("*") if p.is_file() and p != ws.warehouse]
    assert any(p.name.endswith(".html") for p in beside) and any("runs" in p.name for p in beside), beside
    for path in beside:
        if found := needles_found(path.read_bytes().decode("utf-8", errors="replace")):
            leaks[str(path)] = found
    for name, text in (("the run's output", result.output), ("the notification", notified.read_text("utf-8"))):
        if found := needles_found(text):
            leaks[name] = found
    for fmt in ("csv", "json", "table"):
        files = runner.invoke(app, ["files", "--format", fmt, *w])
        assert files.exit_code == 0
        if found := needles_found(files.stdout):
            leaks[f"tally files --format {fmt}"] = found
    problems = runner.invoke(app, ["problems", "--year", "2024", "--format", "csv", *w])
    assert problems.exit_code == 0, problems.output
    assert len(list(csv.reader(io.StringIO(problems.stdout)))) > 3
    if found := needles_found(problems.stdout):
        leaks["tally problems --format csv"] = found
    out = tmp_path / "sent-back"
    sent = runner.invoke(app, ["problems", "--year", "2024", "--format", "xlsx", "--out-dir", str(out), *w])
    assert sent.exit_code == 0, sent.output
    workbooks = list(out.rglob("*.xlsx"))
    assert workbooks
    for book in workbooks:
        with zipfile.ZipFile(book) as z:
            xml = "".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist() if n.endswith(".xml"))
        if found := needles_found(xml):
            leaks[str(book)] = found
    assert not leaks, leaks


def test_a_headerless_csv_is_rejected_without_quoting_its_rows(ws):
    build_inbox(ws)
    ws.run()
    reason = ws.one("SELECT reason FROM file_versions WHERE path = 'cases/2024-04.csv'")
    assert "找不到行政处罚案件台账的表头行" in reason
    assert "中没有像表头的行" in reason
    assert "王小明" not in reason and "文旅罚" not in reason


def test_a_reason_that_quotes_a_header_row_masks_the_numbers_in_it(ws):
    build_inbox(ws)
    ws.run()
    reason = ws.one("SELECT reason FROM file_versions WHERE path = 'cases/2024-05.csv'")
    assert "最接近表头的是第1行：案件编号、当事人、联系人138****6913、证件640422********1239" in reason


def test_quarantined_cells_mask_extra_columns_by_header_and_content(ws):
    build_inbox(ws)
    ws.run()
    cells = ws.one("SELECT cells FROM quarantined_rows q JOIN file_versions f USING (version_id) "
                   "WHERE f.path = 'cases/2024-03.csv'")
    assert json.loads(cells) == {
        "案件编号": "文旅罚〔2024〕99号", "立案日期": "2024-13-45", "当事人": "赵某某", "当事人类型": "个人",
        "证件号码": "640422********1239", "联系电话": "138******6913", "案由": "备查640422*****5123",
        "身份证号（备查）": "640422********1239", "来电号码": "(09*****1862", "来电人": "欧阳某某",
    }


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (ID18, "640422********1239"),
        (f"证{spaced(ID18, (6, 8, 4))}号", "证640422********1239号"),
        (f"证{full(ID18)}", "证６４０４２２********１２３９"),
        ("身份证640422 1990 0101 123x", "身份证640422********123x"),
        (f"旧证{ID15}。", "旧证640422*****5123。"),
        (f"旧证{spaced(ID15, (6, 6, 3))}", "旧证640422*****5123"),
        ("电话138 1234 5678", "电话138****5678"),
        ("电话138-1234-5678", "电话138****5678"),
        ("电话138.1234.5678", "电话138****5678"),
        ("电话+86 138 1234 5678", "电话+86 138****5678"),
        ("电话+8613812345678", "电话+86138****5678"),
        ("电话008613812345678", "电话0086138****5678"),
        (f"电话{full(MOBILE)}", "电话１３８****６９１３"),
        ("座机(0954)1234567", "座机(095****4567"),
        ("座机（0954）1234567", "座机（095****4567"),
        ("座机0954-1234567", "座机095****4567"),
        ("座机０９５４－１２３４５６７", "座机０９５****４５６７"),
        ("座机010-12345678", "座机010****5678"),
        ("13812345678,13987654321", "138****5678,139****4321"),
        # what is not a person's number stays as written
        ("2024-03-15 罚款 5000 元，文旅罚〔2024〕12号", "2024-03-15 罚款 5000 元，文旅罚〔2024〕12号"),
        ("工单GD20240315001，2024.03.15办结", "工单GD20240315001，2024.03.15办结"),
    ],
)
def test_free_text_masks_every_common_form(text, masked):
    frame = pl.DataFrame({"v": [text]})
    assert frame.select(mask_free_text(pl.col("v"))).item() == masked


@pytest.mark.parametrize(
    ("header", "kind"),
    [("身份证号（备查）", "id_number"), ("证件号", "id_number"), ("来电号码", "phone"), ("手机", "phone"),
     ("来电人", "person_name"), ("联系人", "person_name"), ("负责人 姓名", "person_name"), ("检查对象", None),
     ("备注", None), (None, None)],
)
def test_header_words_tell_personal_columns(header, kind):
    assert personal_kind_of_header(header) == kind


SEPARATORS = ("", " ", "-", ".", "\u3000", "－")
AROUND = st.text(alphabet="电话身份证号码：，。、；（）()abcXx ", max_size=6)
BETWEEN = st.text(alphabet="电话身份证号码：，。、；（）()abcXx ", min_size=1, max_size=6)  # two numbers are never one


def written(digits: str, cuts: list[int], sep: str, wide: bool, bracket: bool) -> str:
    """A number as a clerk may write it: split where `cuts` say, maybe in full-width digits.

    A landline (0 first) is split only after its area code or inside its local number, and its
    area code may be bracketed: `(0954)1234567`, `0954-123 4567`.
    """
    landline = digits.startswith("0")
    lowest = 4 if landline else 1
    out, last = [], 0
    for cut in sorted({c for c in cuts if lowest <= c < len(digits)}):
        out.append(digits[last:cut])
        last = cut
    parts = [*out, digits[last:]]
    if landline and bracket:
        area, rest = digits[:4], digits[4:]
        text = f"({area}){rest}" if not wide else f"（{area}）{rest}"
    else:
        text = sep.join(parts)
    return full(text) if wide else text


number = st.one_of(
    st.from_regex(r"64[0-9]{4}(19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", fullmatch=True)
    .map(lambda p: valid_resident_id(p)),
    st.from_regex(r"64[0-9]{4}[5-9][0-9](0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", fullmatch=True),
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"0[1-9][0-9]{9}", fullmatch=True),  # a 4-digit area code and a 7-digit number
)


@settings(deadline=None, max_examples=300)
@given(st.lists(st.tuples(BETWEEN, number, st.lists(st.integers(1, 17), max_size=4),
                          st.sampled_from(SEPARATORS), st.booleans(), st.booleans()), min_size=1, max_size=4), AROUND)
def test_no_number_in_any_form_survives_the_free_text_masks(parts, tail):
    text = "".join(before + written(n, cuts, sep, wide, bracket) for before, n, cuts, sep, wide, bracket in parts)
    text += tail
    masked = pl.DataFrame({"v": [text]}).select(mask_free_text(pl.col("v"))).item()
    compact = re.sub(r"[\s\-.()（）+－．]", "", to_halfwidth(masked))
    for _, n, *_ in parts:
        assert n not in compact, (text, masked)
    # every number lost at least its middle 4 digits to stars
    assert masked.count("*") >= 4 * len(parts), (text, masked)
