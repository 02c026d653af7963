"""The session store: Django's database sessions, read by a statement written once.

Every request of a signed-in user reads its session first; through the ORM that read was
about a twentieth of a loaded server's CPU, most of it building and compiling the same
query again (issue 9). Writing, expiry and clearing are Django's own (`SESSION_ENGINE`).
"""

import functools

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from xueji.core import reads


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        using = router.db_for_read(self.model)
        ops = connections[using].ops
        rows = reads.read(
            _statement(using),
            [self.session_key, ops.adapt_datetimefield_value(timezone.now())],
            [self.model],
            using,
        )
        if not rows:
            self._session_key = None  # as Django's store does for an unknown or expired key
            return None
        return rows[0][0]


@functools.cache
def _statement(using: str) -> str:
    from django.contrib.sessions.models import Session

    quote = connections[using].ops.quote_name
    return (
        f"SELECT {reads.columns(Session, 's', using)} FROM {quote(Session._meta.db_table)} s "
        "WHERE s.session_key = %s AND s.expire_date > %s"
    )
