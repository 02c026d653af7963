"""The student list's rows (views.rows_markup, issue 9): written in Python instead of by the
template's tags, they must be the markup the template wrote, for rows held, locked,
without a grade or an ID number, in each language, with every value escaped."""

import pytest
from django.template import Context, Template
from django.utils import translation

from tests.equivalence import squeezed
from tests.students.test_list_rows import WAYS, pupils  # noqa: F401
from xueji.core.scope import scope_for
from xueji.students import services
from xueji.students.models import Student
from xueji.students.queries import list_page, this_year
from xueji.students.views import list_rows, rows_markup

# _results.html's loop as it was before the rows were written in Python.
TEMPLATE = Template(
    "{% load i18n %}{% for row in rows %}<tr>"
    '<td class="nowrap"><a href="{{ row.url }}">{{ row.record.student.name }}</a></td>'
    "<td>{{ row.sex }}</td>"
    '<td class="nowrap"><code class="id">{{ row.masked_id|default:"—" }}</code></td>'
    "<td>{{ row.record.school.name }}</td>"
    '<td class="nowrap">{% if row.grade %}{{ row.grade }}{% else %}'
    '<span class="muted">—</span>{% endif %}</td>'
    '<td class="nowrap">{{ row.record.provincial_number|default:"—" }}</td>'
    '<td class="nowrap">{{ row.record.student.national_number|default:"—" }}</td>'
    "<td>{{ row.status }}{% if row.record.locked_at %} "
    '<span class="tag">{% translate "locked" %}</span>{% endif %}'
    '{% if row.held %} <span class="tag warn">{% translate "possible double registration" %}'
    "</span>{% endif %}</td></tr>{% endfor %}"
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("way", list(WAYS))
def test_the_rows_are_the_templates(cast, pupils, way, language):  # noqa: F811
    first, _second, _other = pupils
    services.do_lock_record(first.record, actor=cast.a1_registrar)
    # A name that must be escaped.
    Student.objects.filter(pk=first.student.pk).update(national_number="<b>&")
    scope = scope_for(cast.bureau_registrar)
    with translation.override(language):
        page = list_page(scope, WAYS[way], 1, 50, year=this_year(scope))
        rows = list_rows(page)
        assert rows
        expected = TEMPLATE.render(Context({"rows": rows}))
        assert squeezed(rows_markup(rows)) == squeezed(expected)
    assert rows_markup([]) == ""


def test_the_results_fragment_shows_the_rows_or_says_none_match(cast, pupils, client_for):  # noqa: F811
    client = client_for(cast.bureau_registrar)
    found = client.get("/students/?q=张小", HTTP_HX_REQUEST="true").content.decode()
    # Three pupils, two of them held (in Chinese, the default language).
    assert found.count("<tr><td") == 3 and found.count('class="tag warn"') == 2
    assert "possible double registration" not in found
    none = client.get("/students/?q=欧阳", HTTP_HX_REQUEST="true").content.decode()
    assert 'colspan="8"' in none
