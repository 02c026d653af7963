from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from xueji.core.models import CalendarDay, Weekday


def _attributes(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html writes them: False left out, True bare."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """A <select> written here instead of by Django's templates, which render each
    <option> through a template of its own: for a county's 200 schools that was a fifth
    of the student list's time. The same markup as select.html and select_option.html."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{escape(widget["name"])}"{_attributes(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'<optgroup label="{escape(group_name)}">')
            parts.extend(
                f'<option value="{escape(option["value"])}"{_attributes(option["attrs"])}>'
                f"{escape(option['label'])}</option>"
                for option in options
            )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Login name"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("The login name or password is not correct. Both are case-sensitive."),
        "inactive": _("This account has been deactivated. Ask the bureau registrar."),
    }


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Old password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=_("At least 10 characters, not only digits, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class SchoolYearForm(forms.Form):
    start_year = forms.IntegerField(label=_("Start year"), min_value=2000, max_value=2100)
    autumn_start = forms.DateField(
        label=_("Autumn semester starts"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    spring_start = forms.DateField(
        label=_("Spring semester starts"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    entry_age = forms.IntegerField(label=_("Entry age"), min_value=3, max_value=9, initial=6)
    entry_age_cutoff = forms.DateField(
        label=_("Entry age cut-off date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("A pupil must have reached the entry age on this day (N1)."),
    )
    approval_weekday = forms.TypedChoiceField(
        label=_("Approval session weekday"),
        choices=Weekday.choices[:5],
        coerce=int,
        initial=Weekday.WEDNESDAY,
    )
    review_days = forms.IntegerField(
        label=_("Days for the primary review (N2)"), min_value=1, max_value=120, initial=14
    )
    junior_numbers_days = forms.IntegerField(
        label=_("Days for junior number collection (N7)"), min_value=1, max_value=120, initial=7
    )
    change_report_days = forms.IntegerField(
        label=_("Days for change reporting (C8)"), min_value=1, max_value=120, initial=21
    )
    step_limit_working_days = forms.IntegerField(
        label=_("Working days a step may wait (P4)"), min_value=1, max_value=60, initial=10
    )


class CalendarDayForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=CalendarDay.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=40, required=False)
