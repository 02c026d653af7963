"""One search box (B1): Chinese name, full pinyin, initials (张三 = zhangsan = zs), ID
number, any present or past number. Every query is answered by an index (a prefix range
or an exact match), never by scanning the table, and always inside the user's scope.
"""

import re

from django.db.models import Q, QuerySet

from xueji.students.identity import normalise_id_number
from xueji.students.models import Student, StudentNumber
from xueji.students.pinyin import normalise_query

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U000323af]")
ID_LIKE = re.compile(r"^\d{17}[\dX]$|^\d{15}$")
NATIONAL_LIKE = re.compile(r"^[GLJ]\d{17}[\dX]$|^L\d{18}$")
DIGITS = re.compile(r"^\d{6,20}$")
LETTERS = re.compile(r"^[a-z]+$")


def classify(query: str) -> tuple[str, str]:
    """What the user typed: ("id", value), ("national", v), ("number", v), ("name", v),
    ("pinyin", v) or ("none", "")."""
    text = query.strip()
    if not text:
        return "none", ""
    if CJK.search(text):
        return "name", re.sub(r"\s+", "", text).replace("•", "·").replace("・", "·")
    upper = normalise_id_number(text)
    if ID_LIKE.match(upper):
        return "id", upper
    if NATIONAL_LIKE.match(upper):
        return "national", upper
    if DIGITS.match(upper):
        return "number", upper
    letters = normalise_query(text)
    if LETTERS.match(letters):
        return "pinyin", letters
    return "none", ""


def search_students(students: QuerySet[Student], query: str) -> QuerySet[Student]:
    """Filter an already scoped queryset of students by what the search box says."""
    kind, value = classify(query)
    if kind == "name":
        return students.filter(Q(name__startswith=value) | Q(former_name__startswith=value))
    if kind == "id":
        return students.filter(id_number=value)
    if kind in ("national", "number"):
        holders = StudentNumber.objects.filter(value=value).values("student_id")
        return students.filter(Q(pk__in=holders) | Q(national_number=value))
    if kind == "pinyin":
        return students.filter(Q(pinyin_key__startswith=value) | Q(initials_key__startswith=value))
    return students.none()
