"""The printed forms, one module per form (B4): each says what its paper states (its
facts, registered with reports.verify so `/verify/<code>/` can check a printed paper
against the live record) and how the paper is drawn. Issuing, scope and the audit
event live in reports/print_services.py.

Importing the package registers every form's facts.
"""

from xueji.reports.papers import (  # noqa: F401
    certificate,
    class_roster,
    name_change_application,
    record_card,
    transfer_certificate,
)
