"""The menu (core/navigation.menu_markup, issue 9): written in Python and kept per language
and set of links instead of drawn by the template engine on every page. It must be the
markup the template drew, for every role, page and language."""

import pytest
from django.template import Context, Template
from django.utils import translation

from tests.equivalence import squeezed
from xueji.core.navigation import menu_markup, visible_sections
from xueji.core.scope import scope_for

# base.html's loop as it was before the menu was written in Python.
TEMPLATE = Template(
    "{% for section in nav_sections %}"
    '<div class="nav-section{% if section.active %} active{% endif %}" '
    'data-section="{{ section.key }}">'
    '<span class="nav-title">{{ section.label }}</span>'
    "<ul>{% for item in section.items %}"
    '<li><a href="{{ item.url }}"{% if item.active %} class="active"{% endif %}>'
    "{{ item.label }}</a></li>{% endfor %}</ul></div>"
    "{% endfor %}"
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("path", ["/", "/students/", "/students/7/", "/changes/new/"])
def test_the_menu_is_the_templates_for_every_user(cast, language, path):
    users = [
        cast.bureau_registrar,
        cast.bureau_leader,
        cast.central_a_registrar,
        cast.a1_registrar,
        cast.a1_leader,
        cast.c_registrar,
    ]
    with translation.override(language):
        for user in users:
            scope = scope_for(user)
            drawn = TEMPLATE.render(Context({"nav_sections": visible_sections(scope, path)}))
            assert squeezed(str(menu_markup(scope, path))) == squeezed(drawn), user
            assert menu_markup(scope, path) is menu_markup(scope, path)  # kept


def test_a_page_shows_the_menu_with_its_item_active(cast, client_for):
    page = client_for(cast.a1_registrar).get("/students/").content.decode()
    assert '<a href="/students/" class="active">' in page
    assert 'data-section="students"' in page
    assert "nav-section active" in page
