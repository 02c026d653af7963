"""Photo collection (N2, B3): one photo for a student, or a ZIP of many in the background."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.errors import RuleViolation
from xueji.core.jobs import do_enqueue_job
from xueji.core.scope import scope_for
from xueji.core.views import form_error
from xueji.students import rules
from xueji.students.forms import PhotoForm, PhotoZipForm
from xueji.students.photo_services import do_set_photo
from xueji.students.queries import StudentFilter, filtered_records

PHOTO_JOB = "photos.import_zip"


@login_required
def photo_upload(request):
    """Photo collection: find a student for one photo, or upload a ZIP of many."""
    scope = scope_for(request.user)
    scope.require("students.edit")
    query = request.GET.get("q", "").strip()
    found = []
    if query:
        records = filtered_records(scope, StudentFilter.from_params({"q": query}))[:20]
        for record in records:
            record.masked_id = rules.mask_id_number(record.student.id_number)
            found.append(record)
    return render(
        request,
        "students/photo_upload.html",
        {"query": query, "found": found, "zip_form": PhotoZipForm()},
    )


@login_required
@require_POST
def photo_zip_upload(request):
    scope = scope_for(request.user)
    scope.require("students.edit")
    form = PhotoZipForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request,
            "students/photo_upload.html",
            {"query": "", "found": [], "zip_form": form},
            status=400,
        )
    # The worker reads the ZIP from storage (it may run on another machine); the job
    # deletes it when done.
    path = default_storage.save(
        f"uploads/photos/{uuid.uuid4().hex}.zip", form.cleaned_data["archive"]
    )
    try:
        job = do_enqueue_job(PHOTO_JOB, {"path": path}, actor=request.user)
    except Exception:
        default_storage.delete(path)
        raise
    messages.success(request, _("The photos are being imported in the background."))
    return redirect("job_detail", pk=job.pk)


@login_required
def student_photo_upload(request, pk: int):
    scope = scope_for(request.user)
    student = scope.get_student(pk)
    scope.require("students.edit")
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            warnings = do_set_photo(student, form.cleaned_data["photo"].read(), actor=request.user)
        except RuleViolation as error:
            form_error(form, error)
        else:
            for warning in warnings:
                messages.warning(request, warning)
            messages.success(
                request, _("The photo of %(name)s has been stored.") % {"name": student}
            )
            return redirect("student_detail", pk=student.pk)
    return render(request, "students/photo_form.html", {"form": form, "student": student})
