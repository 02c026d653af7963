"""The one exception a rule raises when it refuses something.

Services raise `RuleViolation` with a translated sentence that names the field and the
reason; views turn it into a form error or a message, the API into a 400 answer, the
command line into an error line. Nothing is written when it is raised, because every
service runs in a transaction.
"""


class RuleViolation(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.field = field

    def __str__(self) -> str:
        return self.message
