"""The forms of the package and key pages: choices from the user's scope, nothing else."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xueji.core.scope import Scope
from xueji.orgs.models import Unit
from xueji.packages.models import ChangeRound

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
GRADE_CHOICES = [(grade, str(grade)) for grade in range(1, 10)]


class SchoolChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:  # type: ignore[override]
        return f"{obj.name} ({obj.school_code})"


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:  # type: ignore[override]
        return f"{obj.name} ({obj.school_code})"


class ExportForm(forms.Form):
    schools = SchoolChoices(
        label=pgettext_lazy("list", "Schools"),
        queryset=Unit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    grades = forms.TypedMultipleChoiceField(
        label=_("Grades"),
        choices=GRADE_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every grade."),
    )
    date_from = forms.DateField(label=_("Changes from"), widget=DATE)
    date_to = forms.DateField(label=_("Changes to"), widget=DATE)
    round = forms.ModelChoiceField(
        label=_("Reporting round"),
        queryset=ChangeRound.objects.none(),
        required=False,
        empty_label=_("None"),
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        schools = cast(forms.ModelMultipleChoiceField, self.fields["schools"])
        schools.queryset = scope.schools().order_by("parent__ordinal", "ordinal", "name")
        rounds = cast(forms.ModelChoiceField, self.fields["round"])
        rounds.queryset = scope.rounds().order_by("-due_date")


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Change package (.zip)"))
    round = forms.ModelChoiceField(
        label=_("Reporting round"),
        queryset=ChangeRound.objects.none(),
        required=False,
        empty_label=_("As the package says"),
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        rounds = cast(forms.ModelChoiceField, self.fields["round"])
        rounds.queryset = scope.rounds().order_by("-due_date")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PublicKeyForm(forms.Form):
    file = forms.FileField(label=_("Public key file (.pub)"))
    fingerprint = forms.CharField(
        label=_("Fingerprint as the unit read it over the phone"),
        max_length=80,
        help_text=_("At least the first 8 characters; spaces do not matter."),
    )


class CheckForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class OfflineSeedForm(forms.Form):
    """The bureau chooses the school (or central school) whose laptop it seeds (issue 6)."""

    unit = SchoolChoiceField(label=_("Unit working offline"), queryset=Unit.objects.none())

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        units = cast(forms.ModelChoiceField, self.fields["unit"])
        units.queryset = (
            scope.schools().filter(is_active=True).order_by("parent__ordinal", "ordinal", "name")
        )
