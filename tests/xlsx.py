"""A test's reader of the .xlsx files core/xlsx.py writes: the one sheet's cells as text, as a
CSV reader gives them ('' for an empty cell), read with zipfile and ElementTree (openpyxl is not
a dependency)."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def column_index(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters, ref
    index = 0
    for letter in letters.group():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def cells(data: bytes) -> list[list[str]]:
    """The sheet's rows, each cell's text (a number as written, a string's text); rows padded
    to the header's width."""
    sheet = ElementTree.fromstring(parts(data)["xl/worksheets/sheet1.xml"])
    found: list[dict[int, str]] = []
    for number, row in enumerate(sheet.iterfind("m:sheetData/m:row", NS), start=1):
        assert row.get("r") == str(number)
        values: dict[int, str] = {}
        for c in row.iterfind("m:c", NS):
            inline = c.get("t") == "inlineStr"
            text = c.findtext("m:is/m:t" if inline else "m:v", namespaces=NS)
            values[column_index(c.get("r", ""))] = text or ""
        found.append(values)
    width = max((max(values, default=-1) + 1 for values in found), default=0)
    return [[values.get(i, "") for i in range(width)] for values in found]
