"""Forms of the import and export pages: they parse input; the services decide.

Every choice of a school comes from the actor's scope, never from a plain queryset.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xueji.exchange import excel
from xueji.orgs.forms import UnitChoiceField
from xueji.orgs.models import Unit
from xueji.students.models import Status
from xueji.students.queries import SPECIAL


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet file"),
        help_text=_("The filled-in template: .xlsx, .xls or .csv (UTF-8 or GBK)."),
    )
    school = UnitChoiceField(label=_("School"), queryset=Unit.objects.none())
    valid_only = forms.BooleanField(
        label=_("Import the valid rows and return the others"), required=False
    )
    dry_run = forms.BooleanField(label=_("Dry run: check only, write nothing"), required=False)

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["school"]
        field.queryset = schools
        if len(schools) == 1:
            # A school registrar imports into their own school only.
            field.initial = schools[0]
            field.disabled = True
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.xls,.csv"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = excel.max_upload_bytes()
        if upload.size > limit:
            # Refused before reading it into memory; the service checks the content.
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB; split it into smaller files.")
                % {"limit": limit // (1024 * 1024)}
            )
        return upload


STATUS_CHOICES = [("open", _("Open records")), ("all", _("All")), *Status.choices]
SPECIAL_LABELS = {
    "left_behind": _("Left-behind children"),
    "migrant_child": _("Children of migrant workers"),
    "disability": _("With a disability"),
    "orphan": _("Orphans"),
    "only_child": _("Only children"),
    "no_photo": _("Without a photo"),
}


class RosterForm(forms.Form):
    """The student list's filters (students/queries.py StudentFilter), as GET parameters."""

    q = forms.CharField(label=_("Name, pinyin, ID number or number"), required=False)
    school = UnitChoiceField(
        label=_("School"), queryset=Unit.objects.none(), required=False, empty_label=_("All")
    )
    grade = forms.TypedChoiceField(
        label=_("Grade"),
        choices=[("", _("All")), *[(n, str(n)) for n in range(1, 10)]],
        coerce=int,
        required=False,
    )
    class_name = forms.CharField(label=_("Class"), required=False, max_length=10)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    special = forms.ChoiceField(
        label=_("Special category"),
        choices=[("", _("All")), *[(key, SPECIAL_LABELS[key]) for key in SPECIAL]],
        required=False,
    )
    full = forms.BooleanField(
        label=_("Full ID numbers and addresses (recorded in the audit log)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"value": "1"}),
    )

    def __init__(self, data, *, scope):
        super().__init__(data)
        self.fields["school"].queryset = scope.schools().order_by("parent__ordinal", "ordinal")
        self.fields["q"].widget.input_type = "search"
        if not scope.may("students.reveal"):
            del self.fields["full"]


class SchoolsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        code = f"{obj.school_code} " if obj.school_code else ""
        return code + obj.name


NATIONAL_STATUS_CHOICES = [
    ("enrolled", _("At school")),
    ("open", _("Open records")),
    ("all", _("All")),
    *[(value, label) for value, label in Status.choices if value != "enrolled"],
]


class NationalExportForm(forms.Form):
    """The national-format export's selection (exchange/national.py NationalSelection),
    as GET parameters: `school` may repeat."""

    school = SchoolsField(
        label=pgettext_lazy("list", "Schools"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every school of your scope. One file per school."),
    )
    grade = forms.TypedChoiceField(
        label=_("Grade"),
        choices=[("", _("All")), *[(n, str(n)) for n in range(1, 10)]],
        coerce=int,
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=NATIONAL_STATUS_CHOICES, required=False, initial="enrolled"
    )

    def __init__(self, data, *, scope):
        super().__init__(data)
        self.fields["school"].queryset = scope.schools().order_by(
            "school_code", "parent__ordinal", "ordinal"
        )
