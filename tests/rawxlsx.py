"""Write .xlsx files from raw sheet XML, for forms that no writer library produces."""

from __future__ import annotations

import zipfile
from pathlib import Path

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
PKG = "http://schemas.openxmlformats.org/package/2006"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006"
ML = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def write_raw_xlsx(
    path: Path,
    sheets: dict[str, str],
    *,
    workbook_pr: str = "",
    styles: str | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write a workbook whose sheets are the given `<worksheet>` inner XML, one part per sheet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{ML}.worksheet+xml"/>'
        for i in range(len(names))
    )
    if styles is not None:
        overrides += f'<Override PartName="/xl/styles.xml" ContentType="{ML}.styles+xml"/>'
    content_types = (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ML}.sheet.main+xml"/>{overrides}</Types>'
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{DOC}/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    sheet_list = "".join(
        f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} {RNS}>{workbook_pr}'
        f"<sheets>{sheet_list}</sheets></workbook>"
    )
    wb_rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{DOC}/relationships/worksheet" '
        f'Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(names))
    )
    if styles is not None:
        wb_rels += (
            f'<Relationship Id="rId{len(names) + 1}" Type="{DOC}/relationships/styles" '
            'Target="styles.xml"/>'
        )
    wb_rels = f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">{wb_rels}</Relationships>'
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        if styles is not None:
            z.writestr("xl/styles.xml", f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {NS}>{styles}</styleSheet>')
        for i, name in enumerate(names):
            z.writestr(
                f"xl/worksheets/sheet{i + 1}.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS} {RNS}>{sheets[name]}</worksheet>',
            )
    return path


def inline(ref: str | None, text: str) -> str:
    """A text cell held inline (no shared strings); `ref` None leaves out the `r` attribute."""
    r = f' r="{ref}"' if ref else ""
    return f'<c{r} t="inlineStr"><is><t>{text}</t></is></c>'


def number(ref: str | None, value: str) -> str:
    """A number cell holding `value` exactly as written in the file."""
    r = f' r="{ref}"' if ref else ""
    return f"<c{r}><v>{value}</v></c>"
