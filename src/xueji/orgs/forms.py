"""Forms of the unit and user pages: they parse input; the services decide the rules.

Field names follow the services' `RuleViolation.field` (a school's township is `parent`,
designation is `is_designated_registrar`), so a refusal lands next to its field. Every
choice of a unit comes from the actor's scope, never from a plain queryset.
"""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xueji.orgs import rules
from xueji.orgs.models import Role, Stage, Unit

YES_NO = [("", _("All")), ("yes", _("Yes")), ("no", _("No"))]

PASSWORD_HELP = _("At least 10 characters, not only digits, not a common password.")


def yes_no(value: str) -> bool | None:
    """The answer of a yes/no filter: True, False, or None when it is not set."""
    return {"yes": True, "no": False}.get(value)


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        if obj.is_active:
            return obj.name
        return _("%(unit)s (closed)") % {"unit": obj.name}


def _unit_choices(queryset):
    return queryset.order_by("kind", "parent__ordinal", "parent__name", "ordinal", "name")


# --- Filters -----------------------------------------------------------------------------


class SchoolFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or school code"), required=False)
    township = UnitChoiceField(
        label=_("Township"), queryset=Unit.objects.none(), required=False, empty_label=_("All")
    )
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", _("All")), *Stage.choices], required=False
    )
    county_direct = forms.ChoiceField(label=_("County-direct"), choices=YES_NO, required=False)
    has_printer = forms.ChoiceField(label=_("Has a printer"), choices=YES_NO, required=False)
    active = forms.ChoiceField(label=_("Active"), choices=YES_NO, required=False)

    def __init__(self, data, *, scope):
        super().__init__(data)
        self.fields["township"].queryset = scope.townships().order_by("ordinal", "name")
        self.fields["q"].widget.input_type = "search"

    def filter(self, schools):
        # A filter that does not parse (a township outside the scope, say) is ignored.
        if not self.is_bound:
            return schools
        self.is_valid()
        data = self.cleaned_data
        text = data.get("q", "").strip()
        if text:
            schools = schools.filter(Q(name__icontains=text) | Q(school_code__startswith=text))
        if data.get("township") is not None:
            schools = schools.filter(parent=data["township"])
        if data.get("stage"):
            schools = schools.filter(stage=data["stage"])
        for field, name in (
            ("county_direct", "county_direct"),
            ("has_printer", "has_printer"),
            ("active", "is_active"),
        ):
            answer = yes_no(data.get(field, ""))
            if answer is not None:
                schools = schools.filter(**{name: answer})
        return schools


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or login name"), required=False)
    unit = UnitChoiceField(
        label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=_("All")
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("All")), *Role.choices], required=False
    )
    active = forms.ChoiceField(label=_("Active"), choices=YES_NO, required=False)
    designated = forms.ChoiceField(label=_("Designated registrar"), choices=YES_NO, required=False)

    def __init__(self, data, *, scope):
        super().__init__(data)
        self.fields["unit"].queryset = _unit_choices(scope.units().exclude(kind=Unit.Kind.TOWNSHIP))
        self.fields["q"].widget.input_type = "search"

    def filter(self, users):
        if not self.is_bound:
            return users
        self.is_valid()
        data = self.cleaned_data
        text = data.get("q", "").strip()
        if text:
            users = users.filter(Q(full_name__icontains=text) | Q(username__icontains=text))
        if data.get("unit") is not None:
            users = users.filter(unit=data["unit"])
        if data.get("role"):
            users = users.filter(role=data["role"])
        for field, name in (("active", "is_active"), ("designated", "is_designated_registrar")):
            answer = yes_no(data.get(field, ""))
            if answer is not None:
                users = users.filter(**{name: answer})
        return users


# --- Townships and schools ---------------------------------------------------------------


class TownshipForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    division_code = forms.CharField(
        label=_("Division code"),
        max_length=9,
        help_text=_("The 9-digit township code of GB/T 2260, e.g. 370828102."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    ordinal = forms.IntegerField(
        label=_("Number ordinal"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_("The township's two digits in the provincial number (1 to 99)."),
    )


class SchoolForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    school_code = forms.CharField(
        label=_("School code"),
        max_length=10,
        help_text=_("The 10-digit school code."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    parent = UnitChoiceField(
        label=_("Township"),
        queryset=Unit.objects.none(),
        help_text=_("Every school lies in a township, county-direct ones too."),
    )
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    county_direct = forms.BooleanField(
        label=_("County-direct (reports straight to the bureau)"), required=False
    )
    is_central = forms.BooleanField(label=_("Central school of its township"), required=False)
    has_printer = forms.BooleanField(label=_("Has a printer"), required=False, initial=True)
    ordinal = forms.IntegerField(
        label=_("Number ordinal"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_("The school's two digits within its township in the provincial number."),
    )
    county_ordinal = forms.IntegerField(
        label=_("Junior number ordinal in the county"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_("Junior and nine-year schools: the school's two digits in junior numbers."),
    )
    address = forms.CharField(label=_("Address"), max_length=80, required=False)
    phone = forms.CharField(
        label=_("Telephone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = scope.townships().order_by("ordinal", "name")


# --- Users -------------------------------------------------------------------------------


class PasswordPairMixin(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


def _role_field(roles, *, blank: bool = False) -> forms.ChoiceField:
    # With every role offered, none is preselected: a forgotten select must not quietly
    # make someone a bureau registrar.
    choices = [(role.value, role.label) for role in roles]
    return forms.ChoiceField(
        label=_("Role"),
        choices=[("", "---------"), *choices] if blank else choices,
        help_text=_(
            "The bureau has registrars and leaders; a central school has central school "
            "registrars and school leaders; a school has school registrars and school leaders."
        ),
    )


class UserCreateForm(PasswordPairMixin):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    username = forms.CharField(
        label=_("Login name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=40, required=False)
    phone = forms.CharField(
        label=_("Telephone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    is_designated_registrar = forms.BooleanField(
        label=_("Designated registrar of the unit (relieves the current one)"), required=False
    )
    field_order = [
        "unit",
        "role",
        "username",
        "full_name",
        "phone",
        "password",
        "password_again",
        "is_designated_registrar",
    ]

    def __init__(self, *args, scope, unit: Unit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, UnitChoiceField)
        if unit is not None:
            # Opened from a unit's page: the unit is fixed, so only its roles are offered.
            unit_field.queryset = scope.units().filter(pk=unit.pk)
            unit_field.initial = unit.pk
            unit_field.empty_label = None
            roles = rules.roles_for_unit(unit) or list(Role)
        else:
            # Closed units take no new users; a township has none of its own. Without
            # script the role list cannot follow the unit, so every role is offered and
            # the service names the roles that fit when one does not.
            unit_field.queryset = _unit_choices(
                scope.units().exclude(kind=Unit.Kind.TOWNSHIP).filter(is_active=True)
            )
            roles = list(Role)
        self.fields["role"] = _role_field(roles, blank=unit is None)
        self.order_fields(self.field_order)


class UserEditForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=40, required=False)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    phone = forms.CharField(
        label=_("Telephone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    is_active = forms.BooleanField(label=_("Active (may log in)"), required=False)
    is_designated_registrar = forms.BooleanField(
        label=_("Designated registrar of the unit (relieves the current one)"), required=False
    )
    field_order = ["full_name", "unit", "role", "phone", "is_active", "is_designated_registrar"]

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _unit_choices(scope.units().exclude(kind=Unit.Kind.TOWNSHIP))
        # The unit may change in the same step, so every role is offered; the service
        # refuses one that does not fit the chosen unit, naming the roles that do.
        self.fields["role"] = _role_field(list(Role))
        self.order_fields(self.field_order)


class PasswordResetForm(PasswordPairMixin):
    pass
