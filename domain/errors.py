"""Typed errors raised by rules and services; handlers turn them into catalog messages."""


class DomainError(Exception):
    """Base class: a rule refused something. Never shown to users as text."""


class NotAllowed(DomainError):
    """The actor has no right to do this action on this object."""

    def __init__(self, action: str, reason: str = "") -> None:
        super().__init__(f"{action}: {reason}" if reason else action)
        self.action = action
        self.reason = reason


class NotFound(DomainError):
    """The object does not exist (or is not visible to the actor)."""


class InvalidInput(DomainError):
    """The input cannot be used; `code` names the problem for the message catalog."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InviteProblem(DomainError):
    """An invite cannot be redeemed; `code` is one of InviteProblem.* constants."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
