"""Forms of the change-request pages: they collect what a registrar types; rules.py and
services.py decide whether it is allowed and say why not, on the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.changes import rules
from xueji.changes.models import Kind
from xueji.students import form_items

EMPTY_CHOICE = ("", "—")
# How many items one correction request may change on the page.
CORRECTION_ROWS = 3
# The largest scan read at all; the service refuses anything over the configured limit
# with the size in its message, so this only keeps a huge upload out of memory.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
SCAN_ACCEPT = "image/jpeg,image/png,application/pdf"

# The list's groups of states (request_list).
GROUP_MINE = "mine"
GROUP_PENDING = "pending"
GROUP_FINISHED = "finished"
GROUP_ALL = "all"
GROUPS = (
    (GROUP_MINE, _("Waiting on my unit")),
    (GROUP_PENDING, _("All pending")),
    (GROUP_FINISHED, _("Finished")),
    (GROUP_ALL, _("All")),
)


class SchoolChoiceField(forms.ModelChoiceField):
    """A school named with its township: two townships may both have a 第一小学."""

    def label_from_instance(self, obj) -> str:
        township = obj.parent.name if obj.parent_id else ""
        return f"{township} · {obj.name}" if township else obj.name


class RequestFilterForm(forms.Form):
    group = forms.ChoiceField(label=_("Requests"), choices=GROUPS, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[EMPTY_CHOICE, *Kind.choices], required=False)

    def __init__(self, *args, schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if schools is not None and schools.count() > 1:
            self.fields["school"] = SchoolChoiceField(
                label=_("School"), queryset=schools, required=False, empty_label="—"
            )

    def value(self, name: str, default: str = "") -> str:
        """The valid value of a filter, or the default (a list never fails on a filter)."""
        if self.is_valid():
            return self.cleaned_data.get(name) or default
        return default


def correction_items() -> list[tuple[str, str]]:
    """The items a correction may change: every stored item of the national form except
    the photo and the yearly grade and class (a school's own act, not a correction)."""
    return [
        (item.key, str(item.label))
        for item in form_items.ITEMS
        if item.kind != form_items.PHOTO and item.where != form_items.PLACEMENT
    ]


class RequestForm(forms.Form):
    """A new request. The kind decides which other fields the page shows: the reasons come
    from the configuration (rules.json), a transfer names its receiving school, a transfer
    across the county's border the school outside, a correction its items."""

    kind = forms.ChoiceField(label=_("Kind of change"), choices=Kind.choices)
    reason = forms.ChoiceField(label=_("Reason"), choices=[])
    reason_note = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    effective_date = forms.DateField(
        label=_("Effective date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, kind: str, schools=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chosen_kind = kind
        reason = self.fields["reason"]
        assert isinstance(reason, forms.ChoiceField)
        reason.choices = [
            EMPTY_CHOICE,
            *[(code, spec.get("label", code)) for code, spec in rules.reasons(kind).items()],
        ]
        if kind == Kind.TRANSFER:
            self.fields["to_school"] = SchoolChoiceField(
                label=_("Receiving school"), queryset=schools, empty_label="—"
            )
        if kind in (Kind.TRANSFER_IN, Kind.TRANSFER_OUT):
            self.fields["outside_school"] = forms.CharField(
                label=_("School outside the county"),
                max_length=60,
                help_text=_("The school as the papers name it."),
            )
        self.correction_rows: list[tuple[str, str]] = []
        if kind == Kind.CORRECTION:
            choices = [EMPTY_CHOICE, *correction_items()]
            for n in range(1, CORRECTION_ROWS + 1):
                self.fields[f"item_{n}"] = forms.ChoiceField(
                    label=_("Item to correct"), choices=choices, required=False
                )
                self.fields[f"value_{n}"] = forms.CharField(
                    label=_("Corrected value"), max_length=200, required=False
                )
                self.correction_rows.append((f"item_{n}", f"value_{n}"))

    # The fields that change with the kind: the page swaps them when the kind changes.
    KIND_FIELDS = ("reason", "reason_note", "to_school", "outside_school")

    def kind_fields(self):
        return [self[name] for name in self.KIND_FIELDS if name in self.fields]

    def common_fields(self):
        return [self["effective_date"]]

    def rows(self):
        return [(self[item], self[value]) for item, value in self.correction_rows]

    def corrections(self) -> dict[str, str]:
        """{item key: corrected value} from the filled rows."""
        wanted = {}
        for item, value in self.correction_rows:
            key = self.cleaned_data.get(item) or ""
            if key:
                wanted[key] = self.cleaned_data.get(value) or ""
        return wanted

    def field_for(self, name: str | None) -> str | None:
        """The form field a service's refusal means: a correction's item key names the
        row's value field."""
        if name in self.fields:
            return name
        for item, value in self.correction_rows:
            if name and self.cleaned_data.get(item) == name:
                return value
        if name == "corrections" and self.correction_rows:
            return self.correction_rows[0][0]
        return None


class ScanField(forms.FileField):
    widget = forms.ClearableFileInput(attrs={"accept": SCAN_ACCEPT})

    def clean(self, *args, **kwargs):
        upload = super().clean(*args, **kwargs)
        if upload is not None and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB.")
                % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class EvidenceForm(forms.Form):
    document = forms.CharField(widget=forms.HiddenInput)
    file = ScanField(label=_("Scan"), help_text=_("JPG, PNG or PDF, as the scanner produced it."))


class SignedScanForm(forms.Form):
    file = ScanField(
        label=_("Scan of the signed and stamped report"),
        help_text=_("JPG, PNG or PDF, as the scanner produced it."),
    )


class CentralReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=(
            ("approve", _("Re-reviewed and stamped")),
            ("return", _("Return to the school")),
        ),
        widget=forms.RadioSelect,
        initial="approve",
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the request is returned."),
    )


class ReceivingForm(forms.Form):
    to_grade = forms.TypedChoiceField(
        label=_("Grade"),
        coerce=int,
        choices=[EMPTY_CHOICE, *[(n, str(n)) for n in range(1, 10)]],
    )
    to_class = forms.CharField(label=_("Class"), max_length=10)


class SubmitForm(forms.Form):
    """C7: a proxy carrying the request, named with the phone call that allowed it."""

    proxy_name = forms.CharField(label=_("Proxy's name"), max_length=30, required=False)
    proxy_id_number = forms.CharField(label=_("Proxy's ID number"), max_length=30, required=False)
    proxy_relation = forms.CharField(
        label=_("Proxy's relation to the student"), max_length=20, required=False
    )
    proxy_call_note = forms.CharField(
        label=_("Phone call with the bureau"),
        max_length=200,
        required=False,
        help_text=_("Whom you called at the bureau, and when."),
    )

    def proxy(self) -> dict[str, str]:
        return {
            "name": self.cleaned_data.get("proxy_name", ""),
            "id_number": self.cleaned_data.get("proxy_id_number", ""),
            "relation": self.cleaned_data.get("proxy_relation", ""),
            "call_note": self.cleaned_data.get("proxy_call_note", ""),
        }


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawing"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
