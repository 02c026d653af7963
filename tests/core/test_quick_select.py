"""B7: the student list's filter selects are written by core.forms.QuickSelect, not by a
template per option; the markup is Django's own, whatever the labels and values hold."""

import re

from django import forms
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.core.forms import QuickSelect

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
CHOICES = st.lists(
    st.one_of(
        st.tuples(st.one_of(TEXT, st.integers()), TEXT),
        st.tuples(TEXT.filter(bool), st.lists(st.tuples(st.integers(), TEXT), max_size=3)),
    ),
    max_size=6,
)
ATTRS = st.dictionaries(
    st.sampled_from(["id", "class", "disabled", "required", "data-x", "hx-get"]),
    st.one_of(st.booleans(), TEXT),
    max_size=4,
)


def _tight(html: str) -> str:
    # Django's templates put line breaks between the tags; the browser ignores them.
    return re.sub(r">\s+<", "><", html.strip())


@settings(max_examples=200, deadline=None)
@given(choices=CHOICES, value=st.one_of(st.none(), TEXT, st.integers()), attrs=ATTRS)
def test_a_quick_select_writes_exactly_what_djangos_select_writes(choices, value, attrs):
    django_markup = forms.Select(choices=choices).render("school", value, dict(attrs))
    quick_markup = QuickSelect(choices=choices).render("school", value, dict(attrs))
    assert _tight(quick_markup) == _tight(django_markup)


def test_the_student_list_filters_are_quick_selects():
    from xueji.students.forms import StudentFilterForm

    form = StudentFilterForm(None, schools=[(1, "一小"), (2, "二小")])
    for name in ("school", "grade", "status", "special"):
        assert isinstance(form.fields[name].widget, QuickSelect), name
