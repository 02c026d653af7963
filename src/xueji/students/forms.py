"""Forms of the student pages: they collect what a registrar types; validation.py and the
services decide what it means and whether it is allowed.

The student form is generated from form_items.ITEMS, so the 72 national items are
described once. An item's key ("family1.name") becomes the field name with the dot
replaced by "__" (HTML and Django prefer it), and back again for validate_student.
Every field is optional here: "this item is required" is validate_student's sentence,
so a form, the API and an import say the same thing.
"""

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from xueji.core.forms import QuickSelect
from xueji.students import codes, form_items
from xueji.students.form_items import ITEMS, Item
from xueji.students.models import Status
from xueji.students.queries import SPECIAL

EMPTY_CHOICE = ("", "—")


def field_name(key: str) -> str:
    """The HTML field name of an item key: "family1.name" → "family1__name"."""
    return key.replace(".", "__")


def item_key(name: str) -> str:
    return name.replace("__", ".")


# The national form's sections, each starting at an item (the record card groups the same).
SECTION_STARTS: dict[str, object] = {
    "name": _("Basic information"),
    "name_pinyin": _("Auxiliary information"),
    "provincial_number": _("Enrolment"),
    "current_address": _("Contact"),
    "only_child": _("Extended information"),
    "distance_km": _("Travel to school"),
    "family1.name": _("Family member or guardian 1"),
    "family2.name": _("Family member or guardian 2"),
}

# Keyboard order: the national form's, except the ID number comes right after name and sex,
# so the birth date and sex it implies are filled in before the registrar gets there.
EARLY = ("name", "sex", "id_number")


def sections(items: tuple[Item, ...] = ITEMS) -> list[tuple[object, list[Item]]]:
    """The items grouped as the national form groups them, in the form's order."""
    grouped: list[tuple[object, list[Item]]] = []
    for item in items:
        if item.key in SECTION_STARTS or not grouped:
            grouped.append((SECTION_STARTS.get(item.key, ""), []))
        grouped[-1][1].append(item)
    return grouped


def form_sections() -> list[tuple[object, list[Item]]]:
    """The sections for data entry: without the photo, the ID number moved up."""
    items = tuple(item for item in ITEMS if item.kind != form_items.PHOTO)
    basic_first = [form_items.BY_KEY[key] for key in EARLY]
    ordered = tuple(basic_first) + tuple(item for item in items if item.key not in EARLY)
    return sections(ordered)


def _code_choices(item: Item) -> list[tuple[str, str]]:
    # Always an empty first choice: a required item left unchosen is refused by the
    # validation, instead of the first code (男, 是 …) slipping in unnoticed.
    return [EMPTY_CHOICE, *codes.names(item.table).items()]


def _grade_choices(item: Item) -> list[tuple[str, str]]:
    return [EMPTY_CHOICE, *[(str(grade), str(grade)) for grade in range(1, 10)]]


ID_CHECK_ATTRS = {
    # Server-side help while typing (no inline script): the ID number's check, and the
    # birth date and sex it implies, come back as an htmx fragment (views.id_check).
    "hx-post": reverse_lazy("student_id_check"),
    "hx-trigger": "change",
    "hx-target": "#id-check",
    "hx-swap": "innerHTML",
    "autocomplete": "off",
    "spellcheck": "false",
}


def item_field(item: Item) -> forms.Field:
    label: Any = item.label
    if item.kind in (form_items.CODE, form_items.YES_NO):
        return forms.ChoiceField(label=label, required=False, choices=_code_choices(item))
    if item.kind == form_items.GRADE:
        return forms.ChoiceField(label=label, required=False, choices=_grade_choices(item))
    attrs: dict[str, object] = {}
    if item.max_length:
        attrs["maxlength"] = item.max_length
    widget: forms.Widget
    if item.kind == form_items.DATE:
        widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    elif item.kind == form_items.ID_NUMBER:
        attrs["maxlength"] = 30
        if item.key == "id_number":
            attrs.update(ID_CHECK_ATTRS)
        widget = forms.TextInput(attrs=attrs)
    elif item.kind == form_items.PHONE:
        widget = forms.TextInput(attrs={**attrs, "type": "tel", "inputmode": "tel"})
    elif item.kind in (form_items.POSTAL, form_items.NUMBER, form_items.YEAR_MONTH):
        widget = forms.TextInput(attrs={**attrs, "inputmode": "numeric"})
    elif item.kind == form_items.DECIMAL:
        widget = forms.TextInput(attrs={**attrs, "inputmode": "decimal"})
    elif item.kind == form_items.EMAIL:
        widget = forms.TextInput(attrs={**attrs, "type": "email"})
    else:
        widget = forms.TextInput(attrs=attrs)
    help_text: Any = ""
    if item.kind == form_items.YEAR_MONTH:
        help_text = _("Year and month, such as 202609.")
    elif item.kind == form_items.DIVISION:
        help_text = _("The 12-digit division code.")
    return forms.CharField(
        label=label, required=False, strip=False, widget=widget, help_text=help_text
    )


class StudentForm(forms.Form):
    """All items of the national form except the photo, plus the school for the bureau.

    `locked` names the fields of a submitted record: they are shown disabled, and a value
    posted for them anyway still goes to the service, which refuses it on the field.
    `readonly` names fields this form shows but cannot change (a record's enrolment items
    on an edit)."""

    def __init__(self, *args, schools=None, locked=(), readonly=(), **kwargs):
        super().__init__(*args, **kwargs)
        if schools is not None:
            self.fields["school"] = forms.ModelChoiceField(
                label=_("School"), queryset=schools, empty_label="—"
            )
        self.sections: list[tuple[object, list[str]]] = []
        for title, items in form_sections():
            names = []
            for item in items:
                name = field_name(item.key)
                field = item_field(item)
                field.required_item = item.required  # type: ignore[attr-defined]
                if item.key in locked:
                    field.disabled = True
                    field.locked = True  # type: ignore[attr-defined]
                elif item.key in readonly:
                    field.disabled = True
                self.fields[name] = field
                names.append(name)
            self.sections.append((title, names))

    def grouped(self):
        """(title, bound fields) per section, for the template."""
        return [(title, [self[name] for name in names]) for title, names in self.sections]

    def raw_values(self, keys=None) -> dict[str, str]:
        """What was typed, keyed by item key, as validate_student wants it. Disabled fields
        are read from the posted data too: a locked field's change must reach the service
        and be refused there, not vanish silently."""
        wanted = keys if keys is not None else [item_key(n) for n in self.fields if n != "school"]
        return {key: str(self.data.get(field_name(key), "")) for key in wanted}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for returning the record"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# The largest photo file read at all (photos.process_photo refuses larger ones too).
MAX_PHOTO_BYTES = 10 * 1024 * 1024


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        help_text=_(
            "A colour photo on a light-blue background, at least 154 × 189 pixels; "
            "it is cropped to 26:32 and stored as a JPEG."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def clean_photo(self):
        photo = self.cleaned_data["photo"]
        if photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(
                _("The photo file is larger than %(limit)d MB.")
                % {"limit": MAX_PHOTO_BYTES // (1024 * 1024)}
            )
        return photo


# The largest ZIP accepted for upload: the archive's own limits (photos.read_photo_zip)
# decide what is unpacked; this keeps a wrong file from filling the disk first.
MAX_ZIP_BYTES = 500 * 1024 * 1024


class PhotoZipForm(forms.Form):
    archive = forms.FileField(
        label=_("ZIP file of photos"),
        help_text=_(
            "Name each photo by the student's ID number, number, or <school code>_<class>_<name>."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )

    def clean_archive(self):
        archive = self.cleaned_data["archive"]
        if archive.size > MAX_ZIP_BYTES:
            raise forms.ValidationError(
                _("The ZIP file is larger than %(limit)d MB.")
                % {"limit": MAX_ZIP_BYTES // (1024 * 1024)}
            )
        return archive


SPECIAL_LABELS = {
    "left_behind": _("Left-behind children"),
    "migrant_child": _("Children of migrant workers"),
    "disability": _("With a disability"),
    "orphan": _("Orphans"),
    "only_child": _("Only children"),
    "no_photo": _("Without a photo"),
}
assert set(SPECIAL_LABELS) == set(SPECIAL)


class StudentFilterForm(forms.Form):
    """The list's search box and filters. Only rendering: queries.StudentFilter parses the
    same parameters, so the list, the export and the API filter alike."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, pinyin, initials, ID number or number"),
                "autocomplete": "off",
                # Results while typing, without inline script; without JavaScript the
                # form submits normally.
                "hx-get": reverse_lazy("student_list"),
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#student-results",
                "hx-include": "closest form",
                "hx-push-url": "true",
            }
        ),
    )
    school = forms.ChoiceField(label=_("School"), required=False, widget=QuickSelect)
    grade = forms.ChoiceField(
        label=_("Grade"),
        required=False,
        widget=QuickSelect,
        choices=[("", _("All")), *[(str(g), str(g)) for g in range(1, 10)]],
    )
    class_name = forms.CharField(
        label=_("Class"), required=False, widget=forms.TextInput(attrs={"maxlength": 10})
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        widget=QuickSelect,
        choices=[("open", _("Open records")), ("all", _("All records")), *Status.choices],
    )
    special = forms.ChoiceField(
        label=_("Special category"),
        required=False,
        widget=QuickSelect,
        choices=[("", _("All")), *SPECIAL_LABELS.items()],
    )

    def __init__(self, data, *, schools: list[tuple[int, str]]):
        """`schools`: (id, name) of the schools of the scope, in the order shown."""
        super().__init__(data)
        school = self.fields["school"]
        assert isinstance(school, forms.ChoiceField)
        school.choices = [("", _("All")), *schools]
        if len(schools) <= 1:
            del self.fields["school"]
