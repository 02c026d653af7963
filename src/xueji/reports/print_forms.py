"""Forms of the printing page: they collect the choice; print_services decides.

Every school and township offered comes from the user's scope.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.orgs.forms import UnitChoiceField
from xueji.orgs.models import Unit

GRADE_CHOICES = [("", _("All grades")), *[(str(grade), str(grade)) for grade in range(1, 10)]]


class PrintForm(forms.Form):
    def params(self) -> dict:
        """The cleaned choice as the print service's parameters."""
        raise NotImplementedError


class _SchoolForm(PrintForm):
    school = UnitChoiceField(label=_("School"), queryset=Unit.objects.none())

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["school"]
        field.queryset = schools
        only = list(schools[:2])
        if len(only) == 1:
            # A school registrar prints for their own school only.
            field.initial = only[0]

    def params(self) -> dict:
        return {"school": self.cleaned_data["school"].pk}


class RecordCardsForm(_SchoolForm):
    grade = forms.ChoiceField(label=_("Grade"), choices=GRADE_CHOICES, required=False)
    class_name = forms.CharField(
        label=_("Class"),
        required=False,
        max_length=10,
        help_text=_("Leave empty for every class."),
    )

    def params(self) -> dict:
        return {
            **super().params(),
            "grade": self.cleaned_data["grade"],
            "class_name": self.cleaned_data["class_name"],
        }


class RostersForm(_SchoolForm):
    pass


class ClassRosterForm(_SchoolForm):
    grade = forms.ChoiceField(label=_("Grade"), choices=GRADE_CHOICES[1:])
    class_name = forms.CharField(label=_("Class"), max_length=10)


class PhotoSheetsForm(PrintForm):
    township = UnitChoiceField(
        label=_("Township"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("The whole county"),
    )

    def __init__(self, *args, townships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships

    def params(self) -> dict:
        township = self.cleaned_data["township"]
        return {"township": township.pk if township is not None else None}
