"""core/xlsx.py: a valid package (every part its content types and relations name is there and
parses), the cells as written (numbers as numbers, text never a formula, empties left out),
columns past Z, the same bytes for the same table."""

from __future__ import annotations

import csv
import io
import zipfile
from xml.etree import ElementTree

from core.xlsx import column_name, workbook
from tests.xlsx import NS, cells, parts

HEADER = ["interval_start", "queue", "offered", "service_level", "longest_wait_seconds"]
ROWS: list[list[str | int | float | None]] = [
    ["2026-11-22T12:00:00+03:00", "crisis", 6, 0.5, 20.0],
    ["2026-11-22T12:30:00+03:00", "=cmd|' /C calc'!A0 <&> \"x\"", 0, None, None],
]


def test_the_package_holds_every_part_it_names_and_each_parses() -> None:
    found = parts(workbook(HEADER, ROWS, sheet="report"))
    for text in found.values():
        ElementTree.fromstring(text)
    types = ElementTree.fromstring(found["[Content_Types].xml"])
    overrides = {o.get("PartName", "").lstrip("/") for o in types if o.get("PartName")}
    assert {"xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"} <= overrides <= set(found)
    sheets = ElementTree.fromstring(found["xl/workbook.xml"]).findall("m:sheets/m:sheet", NS)
    assert [s.get("name") for s in sheets] == ["report"]


def test_cells_read_back_as_a_csv_of_the_same_table_gives_them() -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    assert cells(workbook(HEADER, ROWS)) == list(csv.reader(io.StringIO(out.getvalue())))


def test_numbers_are_numbers_and_text_is_never_a_formula() -> None:
    sheet = parts(workbook(HEADER, ROWS))["xl/worksheets/sheet1.xml"]
    root = ElementTree.fromstring(sheet)
    typed = {c.get("r"): c.get("t") for c in root.iterfind("m:sheetData/m:row/m:c", NS)}
    assert typed["C2"] is None and typed["D2"] is None  # number cells
    assert typed["B3"] == "inlineStr" and "<f>" not in sheet
    assert "D3" not in typed and "E3" not in typed  # None: no cell at all
    header = root.find("m:sheetData/m:row", NS)
    assert header is not None and {c.get("s") for c in header} == {"1"}  # bold


def test_columns_past_z_and_the_same_bytes_each_time() -> None:
    assert [column_name(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"
    ]  # fmt: skip
    wide = [f"c{i}" for i in range(30)]
    assert cells(workbook(wide, [list(range(30))]))[1][29] == "29"
    assert workbook(HEADER, ROWS) == workbook(HEADER, ROWS)
    assert zipfile.ZipFile(io.BytesIO(workbook(HEADER, []))).testzip() is None
