"""Typed errors raised by rules and services; handlers turn them into catalog messages."""


def N_(message: str) -> str:
    """Marks an English msgid for the catalog; bot/ translates it where it is shown."""
    return message


class Problem(ValueError):
    """A value that cannot be used (configuration, set-up file): an English msgid marked
    with N_ and its named values; shown in Vietnamese and English by bot/problems.py."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values


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


class UnknownCode(NotFound):
    """No province, commune, agency or village has this code (set-up codes on the command
    line); `kind` is one of "province", "commune", "agency", "village"."""

    def __init__(self, kind: str, code: str) -> None:
        super().__init__(f"{kind} {code}")
        self.kind = kind
        self.code = code


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
