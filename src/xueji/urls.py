from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve as serve_media

from xueji.api.api import api
from xueji.core import views as core_views

urlpatterns = [
    # The busiest pages first (the student list's search, a student's page, a change
    # request): Django tries the patterns in order, and a hundred tried before them cost
    # a tenth of a millisecond a request. tests/core/test_url_order.py proves that no
    # pattern hides another, whatever the order.
    path("", include("xueji.students.urls")),
    path("", include("xueji.changes.urls")),
    path("", core_views.dashboard, name="dashboard"),
    path("login/", core_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/password/", core_views.password_change, name="password_change"),
    path("overview/", core_views.overview, name="overview"),
    path("setup/calendar/", core_views.calendar_page, name="calendar"),
    path("setup/calendar/years/new/", core_views.school_year_edit, name="school_year_new"),
    path(
        "setup/calendar/years/<int:start_year>/",
        core_views.school_year_edit,
        name="school_year_edit",
    ),
    path("setup/calendar/days/", core_views.calendar_day_add, name="calendar_day_add"),
    path(
        "setup/calendar/days/<int:pk>/remove/",
        core_views.calendar_day_remove,
        name="calendar_day_remove",
    ),
    path("jobs/", core_views.job_list, name="job_list"),
    path("jobs/<int:pk>/", core_views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/download/", core_views.job_download, name="job_download"),
    path("audit/", include("xueji.audit.urls")),
    path("exchange/", include("xueji.exchange.urls")),
    # Public: anyone holding a printed paper may check it (no personal data without login).
    path("verify/", include("xueji.reports.urls")),
    path("", include("xueji.intake.roster_urls")),
    path("", include("xueji.intake.review_urls")),
    path("", include("xueji.intake.urls")),
    path("", include("xueji.changes.report_urls")),
    path("", include("xueji.packages.urls_export")),
    path("", include("xueji.packages.urls_import")),
    path("", include("xueji.packages.urls_rounds")),
    path("", include("xueji.reports.print_urls")),
    path("", include("xueji.stats.urls")),
    path("", include("xueji.intake.sheet_urls")),
    path("", include("xueji.changes.session_urls")),
    path("", include("xueji.orgs.urls")),
    path("api/v1/", api.urls),
]

if settings.DEBUG:
    urlpatterns.append(
        path("media/<path:path>", serve_media, {"document_root": settings.MEDIA_ROOT})
    )
