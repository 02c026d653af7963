"""The bureau's page for the provincial number rule (DOMAIN.md: a configured template).

Kept apart from views.py (the student pages) because it is county setup, not student work.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.core.views import form_error
from xueji.students import numbers, services


class NumberTemplateForm(forms.Form):
    primary_number_template = forms.CharField(
        label=gettext_lazy("Primary number template"), max_length=80
    )
    junior_number_template = forms.CharField(
        label=gettext_lazy("Junior number template"), max_length=80
    )


@login_required
def number_templates(request):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    county = scope.county()
    form = NumberTemplateForm(
        request.POST or None,
        initial={
            "primary_number_template": county.primary_number_template,
            "junior_number_template": county.junior_number_template,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.do_set_number_templates(
                county,
                actor=request.user,
                primary=form.cleaned_data["primary_number_template"],
                junior=form.cleaned_data["junior_number_template"],
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("The number rule has been saved."))
            return redirect("number_templates")
    samples = {
        "primary": numbers.sample_number(county.primary_number_template),
        "junior": numbers.sample_number(county.junior_number_template),
    }
    return render(request, "students/number_templates.html", {"form": form, "samples": samples})
