"""B2: the Excel template in the national form's column order, ID columns as text."""

import io
from functools import cache

from openpyxl import load_workbook

from xueji.exchange.excel import CODES_SHEET, GUIDE_SHEET, SHEET_NAME, TEMPLATE_ROWS, write_template
from xueji.students.form_items import SHEET_ITEMS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@cache
def template():
    """Written and read once for the module: a test only reads it."""
    buffer = io.BytesIO()
    write_template(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


def column_of(key: str) -> int:
    return [item.key for item in SHEET_ITEMS].index(key) + 1


def test_the_template_headers_are_the_national_columns_in_order():
    sheet = template()[SHEET_NAME]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [item.header for item in SHEET_ITEMS]
    assert sheet.freeze_panes == "A2"


def test_the_id_number_column_and_every_other_column_are_text_formatted():
    sheet = template()[SHEET_NAME]
    for key in ("id_number", "phone", "postal_code", "birthplace_code", "family1.id_number"):
        column = column_of(key)
        assert sheet.cell(row=2, column=column).number_format == "@"
        assert sheet.cell(row=TEMPLATE_ROWS + 1, column=column).number_format == "@"
    assert all(sheet.cell(row=2, column=n).number_format == "@" for n in range(1, 72))


def test_required_headers_are_red_with_a_note():
    sheet = template()[SHEET_NAME]
    name = sheet.cell(row=1, column=column_of("name"))
    assert name.comment is not None and name.comment.text == "必填"
    assert name.font.color.rgb.endswith("C00000")
    assert sheet.cell(row=1, column=column_of("email")).comment is None


def test_coded_columns_offer_the_code_table_names_as_a_list():
    workbook = template()
    sheet = workbook[SHEET_NAME]
    ethnicity = sheet.cell(row=1, column=column_of("ethnicity")).column_letter
    lists = {
        str(validation.sqref).split(":")[0]: validation.formula1
        for validation in sheet.data_validations.dataValidation
    }
    formula = lists[f"{ethnicity}2"]
    assert CODES_SHEET in formula
    letter = formula.split("!$")[1].split("$")[0]
    names = [cell.value for cell in workbook[CODES_SHEET][letter][1:]]
    assert names[:2] == ["汉族", "蒙古族"] and "基诺族" in names


def test_the_guide_sheet_describes_every_column():
    guide = template()[GUIDE_SHEET]
    rows = {row[0]: row for row in guide.iter_rows(min_row=2, values_only=True) if row[0]}
    for item in SHEET_ITEMS:
        assert item.header in rows
    assert "YYYYMMDD" in rows["出生日期"][2]
    assert "01 汉族" in rows["民族"][3]
    assert rows["姓名"][1] == "是"


def test_the_template_downloads_from_the_page_and_from_the_api(cast, client_for):
    client = client_for(cast.a1_registrar)
    page = client.get("/exchange/template.xlsx")
    assert page.status_code == 200 and page["Content-Type"] == XLSX
    api = client.get("/api/v1/students/template")
    assert api.status_code == 200 and api["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(api.content))[SHEET_NAME]
    assert sheet.cell(row=1, column=1).value == "姓名"
