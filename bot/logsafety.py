"""Logs never carry children's data or secrets, whatever TREEM_LOG_LEVEL says.

Two layers. Third-party loggers (python-telegram-bot, httpx, aiosqlite, SQLAlchemy,
APScheduler, …) stay at INFO or above even when the bot runs at DEBUG: at DEBUG they write
request URLs with the bot token, request bodies with the reporter's words and phone, update
contents and SQL parameters. And every handler gets a redacting filter that masks what may
still slip through: the bot token (also inside URLs), secrets the settings know (the webhook
secret), invitation payloads, phone numbers, and the values of message fields (`text`,
`caption`, names, `phone_number`, …) in the reprs those libraries log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# At DEBUG these log request URLs and bodies, update contents or SQL parameters.
THIRD_PARTY = ("telegram", "httpx", "httpcore", "aiosqlite", "sqlalchemy", "apscheduler",
               "asyncio", "hpack", "aiohttp", "asyncpg", "redis", "urllib3", "openpyxl")
# At INFO these log request URLs (with the token) or SQL with its parameters (SQLAlchemy
# keeps its own logger at WARNING unless asked): they stay at WARNING.
QUIET = ("httpx", "httpcore", "apscheduler", "sqlalchemy")

REDACTED = "‹…›"
_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,64}")
_INVITE = re.compile(r"\b(i_)[A-Za-z0-9_-]{6,}")
# Vietnamese numbers (0912 345 678, +84 912345678, 84-912-345-678) and any long digit run
# with separators that looks like a phone; Telegram ids (up to 13 digits, no separators)
# stay readable because they are what an administrator needs to follow a problem.
_PHONE = re.compile(r"(?<![\w])(?:\+?84|0)(?:[\s.-]?\d){8,10}(?![\w])")
_FIELDS = ("text", "caption", "first_name", "last_name", "username", "phone_number", "title",
           "description", "message_text", "query", "data", "address", "story", "name", "note",
           "result_text", "explanation", "question", "vcard", "bio")
_FIELD_VALUE = re.compile(
    r"(?P<key>['\"]?\b(?:" + "|".join(_FIELDS) + r")\b['\"]?\s*[:=]\s*)"
    r"(?P<q>['\"])(?P<value>(?:\\.|(?!(?P=q)).)*)(?P=q)", re.DOTALL)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _TOKEN.sub(REDACTED, text)
    text = _FIELD_VALUE.sub(lambda m: f"{m.group('key')}{m.group('q')}{REDACTED}{m.group('q')}",
                            text)
    text = _INVITE.sub(lambda m: m.group(1) + REDACTED, text)
    return _PHONE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Masks secrets and personal data in every record a handler writes (message,
    arguments and traceback), once, and lets the record through."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_treem_redacted", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(formatted, self.secrets)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        record._treem_redacted = True
        return True


def cap_third_party(level: str | int) -> None:
    """Third-party loggers at INFO or above (WARNING for those that log URLs at INFO)."""
    wanted = logging.getLevelName(level) if isinstance(level, str) else level
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(max(wanted, logging.INFO))
    for name in QUIET:
        logging.getLogger(name).setLevel(max(wanted, logging.WARNING))


def protect(handler: logging.Handler, secrets: Iterable[str] = ()) -> logging.Handler:
    """Adds the redacting filter to a handler (idempotent)."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter(secrets))
    return handler


def configure(level: str, secrets: Iterable[str] = ()) -> None:
    """The root logger at `level`, every root handler redacting, third parties capped."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        protect(handler, secrets)
    cap_third_party(level)
