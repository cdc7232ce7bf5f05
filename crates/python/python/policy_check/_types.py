"""Types shared by the binding and the Python side."""

import enum


class Decision(enum.Enum):
    """IAM's three decisions."""

    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOW
