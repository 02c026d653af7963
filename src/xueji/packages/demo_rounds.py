"""The demo county's reporting rounds (C8): the regular round of every semester, an extra
round the bureau announced, and a few schools that reported, late, in the current
semester's regular round, so the bureau's page shows every status. Idempotent, through
the same services as the pages."""

import datetime

from xueji.core import calendar
from xueji.orgs.models import County, User
from xueji.packages import key_services, round_services, rounds
from xueji.packages.models import ChangeRound

EXTRA_TITLE = "学期中异动核查"
# Schools that reported in the current semester's regular round (late: it was due three
# weeks after the start). 胡集镇第三小学 (huji-dsxx) has not: it shows "overdue", and
# "Report now" in the extra round.
REPORTERS = ["huji-zxxx", "jx-syxx", "jx-dezx", "yangshan-dyxx"]
# Schools given a key of this installation, so "Report now" works for them.
KEYED = [*REPORTERS, "huji-dsxx"]


def _extra_round(county: County, today: datetime.date) -> ChangeRound:
    found = ChangeRound.objects.filter(county=county, semester=None, title=EXTRA_TITLE).first()
    if found is not None:
        return found
    year = calendar.current_school_year(county, today)
    started = (
        year.semesters.filter(start_date__lte=today).order_by("-start_date").first()
        if year is not None
        else None
    )
    changes_to = today - datetime.timedelta(days=1)
    changes_from = started.start_date if started is not None else today.replace(day=1)
    return round_services.do_announce_round(
        actor=None,
        county=county,
        title=EXTRA_TITLE,
        changes_from=min(changes_from, changes_to),
        changes_to=changes_to,
        due_date=today + datetime.timedelta(days=14),
    )


def _current_regular(county: County, today: datetime.date) -> ChangeRound | None:
    return (
        ChangeRound.objects.filter(
            county=county, semester__isnull=False, semester__start_date__lte=today
        )
        .order_by("-due_date")
        .first()
    )


def load_demo_rounds(county: County) -> int:
    """Returns how many reports it made (0 when run again)."""
    round_services.ensure_regular_rounds(county)
    today = calendar.today()
    _extra_round(county, today)
    users = User.objects.filter(username__in=KEYED, unit__county=county).select_related("unit")
    for user in users:
        if key_services.live_key(user.unit) is None:
            key_services.do_generate_key(actor=user)
    current = _current_regular(county, today)
    made = 0
    for user in users:
        if user.username not in REPORTERS or current is None or user.unit is None:
            continue
        if rounds.has_reported(current, user.unit):
            continue
        if rounds.report_problem(current, user.unit, today) is not None:
            continue
        round_services.do_report_round(current, user.unit, actor=user)
        made += 1
    return made
