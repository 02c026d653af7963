"""Forms of the school's intake pages: the fast entry form (N1) and a pupil's exception.

The entry form carries only what a registrar copies from the household register (户口本),
in the register's order, plus the items the national form requires; every other item
takes the usual value of a new pupil (students.views.NEW_DEFAULTS, and INTAKE_DEFAULTS
below). As on the full form, every field is optional here: validate_student says which
item is missing, so the pages, the API and an import say the same thing.
"""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from xueji.intake.models import ExceptionKind
from xueji.students import codes, form_items
from xueji.students.forms import EMPTY_CHOICE, field_name, item_field

# The household register's page, top to bottom, except that the ID number comes right
# after the name: it fills the birth date, the sex and the household county before the
# registrar reaches them. 与户主关系 is on the page but is no item of ours.
PERSON_KEYS = (
    "name",
    "id_number",
    "sex",
    "ethnicity",
    "birth_date",
    "native_place",
    "birthplace_code",
)
HOUSEHOLD_KEYS = (
    "hukou_code",
    "hukou_type",
    "home_address",
    "current_address",
    "mailing_address",
    "phone",
    "postal_code",
    "only_child",
    "preschool",
)
MEMBER_FIELDS = ("name", "relation", "is_guardian", "phone", "id_number")
FAMILY_KEYS = tuple(f"family{n}.{name}" for n in (1, 2) for name in MEMBER_FIELDS)
ENTRY_KEYS = PERSON_KEYS + HOUSEHOLD_KEYS + FAMILY_KEYS

# What "same family as the last pupil" copies when left blank: the household and both
# family members (every item of theirs, not only the ones this form shows).
FAMILY_WHERE = (form_items.FAMILY_1, form_items.FAMILY_2)
FAMILY_ITEM_KEYS = tuple(item.key for item in form_items.ITEMS if item.where in FAMILY_WHERE)
SHARED_KEYS = (
    "hukou_code",
    "hukou_type",
    "home_address",
    "current_address",
    "mailing_address",
    "phone",
    "postal_code",
    *FAMILY_ITEM_KEYS,
)

# Addresses left blank are the household address: most pupils live where they are
# registered, and typing it three times is what makes entry slow.
SAME_AS_HOME = ("current_address", "mailing_address")


def _coded_choices(item: form_items.Item) -> list[tuple[str, str]]:
    # "01 汉族", "1 男": a registrar picks an option by typing its national code, which
    # works from the keyboard without an input method (a select's type-ahead).
    return [EMPTY_CHOICE, *[(c, f"{c} {n}") for c, n in codes.names(item.table).items()]]


class EntryForm(forms.Form):
    """The fast entry form: keyboard only, tab order = page order, Enter submits."""

    def __init__(self, *args, last_pupil=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_pupil = last_pupil
        for key in ENTRY_KEYS:
            item = form_items.BY_KEY[key]
            field = item_field(item)
            if isinstance(field, forms.ChoiceField):
                field.choices = _coded_choices(item)
            field.required_item = item.required and key not in SAME_AS_HOME  # type: ignore[attr-defined]
            self.fields[field_name(key)] = field
        name = self.fields["name"].widget
        name.attrs.update({"autofocus": True, "autocomplete": "off"})
        # A text box, not a date picker: a date input's day, month and year are three
        # stops for the Tab key. YYYYMMDD and YYYY-MM-DD are both read.
        self.fields["birth_date"].widget = forms.TextInput(
            attrs={"inputmode": "numeric", "maxlength": 10, "placeholder": "YYYY-MM-DD"}
        )
        self.fields["id_number"].widget.attrs.update(
            {
                # The ID number's check, and what it implies filled in (views.id_fill).
                "hx-post": reverse_lazy("intake_id_fill"),
                "hx-trigger": "change",
                "hx-target": "#id-check",
                "hx-swap": "innerHTML",
            }
        )
        self.fields["hukou_code"].help_text = _(
            "The 12-digit division code; the ID number fills in the county, add the rest."
        )
        for key in SAME_AS_HOME:
            self.fields[field_name(key)].help_text = _("Left blank: the home address.")
        if last_pupil is not None:
            self.fields["same_family"] = forms.BooleanField(
                label=_("Same family as %(name)s, the pupil entered last")
                % {"name": last_pupil.name},
                help_text=_(
                    "The household items and the family members left blank are copied "
                    "from that pupil."
                ),
                required=False,
            )

    def section(self, keys) -> list:
        return [self[field_name(key)] for key in keys]

    def person(self):
        return self.section(PERSON_KEYS)

    def household(self):
        return self.section(HOUSEHOLD_KEYS)

    def family1(self):
        return self.section(FAMILY_KEYS[: len(MEMBER_FIELDS)])

    def family2(self):
        return self.section(FAMILY_KEYS[len(MEMBER_FIELDS) :])

    def raw_values(self) -> dict[str, str]:
        """What was typed, keyed by item key, as validate_student wants it."""
        return {key: str(self.data.get(field_name(key), "")).strip() for key in ENTRY_KEYS}

    @property
    def same_family(self) -> bool:
        return "same_family" in self.fields and self.data.get("same_family") in ("on", "1", "true")


class ExceptionForm(forms.Form):
    exception_kind = forms.ChoiceField(
        label=_("Documented exception"),
        choices=[EMPTY_CHOICE, *[(k, label) for k, label in ExceptionKind.choices if k]],
        required=False,
    )
    exception_note = forms.CharField(
        label=_("Which document proves it"), max_length=200, required=False
    )
