"""The audit chain verification as a background job, started from the audit page."""

from django.utils.translation import gettext as _

from xueji.audit.services import verify_chain
from xueji.core.errors import RuleViolation
from xueji.core.jobs import job


@job("audit.verify", capability="audit.view")
def verify_audit_chain(job_row, progress) -> str:
    result = verify_chain(progress=progress)
    if not result.ok:
        raise RuleViolation(_("The audit chain is broken: %(reason)s") % {"reason": result.message})
    return result.message
