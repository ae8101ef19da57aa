"""Vietnamese text through gettext (Babel catalogs in messages/vi/) and Vietnamese dates.

Handlers import `_` from here and never contain literal user-facing text. The
catalog is compiled in memory from the .po file at start, so a deployment can
never run with a stale .mo.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import pathlib

from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE = "vi"
DOMAIN = "treem"
MESSAGES_DIR = pathlib.Path(__file__).resolve().parent.parent / "messages"
PO_PATH = MESSAGES_DIR / LOCALE / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations() -> Translations:
    with PO_PATH.open("rb") as po_file:
        catalog = read_po(po_file, locale=LOCALE, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _(message: str) -> str:
    """Translate `message` (an English msgid) to Vietnamese."""
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (module-level tables)."""
    return message


def both(message: str, **values: object) -> str:
    """Vietnamese, then English, on one line: for administrators at a terminal or reading
    logs, who may need to search the English. `message` is marked with N_ where it is written.
    """
    vietnamese = _(message).format(**values)
    return vietnamese + " / " + message.format(**values)


def vi_date(value: dt.date) -> str:
    """'Thứ Tư, 20 tháng 5, 2026'"""
    return format_date(value, format="full", locale=LOCALE)


def vi_short_date(value: dt.date) -> str:
    """'20/05/2026'"""
    return format_date(value, format="dd/MM/yyyy", locale=LOCALE)


def vi_datetime(value: dt.datetime, tz: dt.tzinfo) -> str:
    """'08:00 20/05/2026' in the commune's time zone."""
    return format_datetime(value.astimezone(tz), format="HH:mm dd/MM/yyyy", locale=LOCALE)


def vi_duration(delta: dt.timedelta) -> str:
    """'3 giờ', '2 ngày'"""
    return format_timedelta(delta, locale=LOCALE, threshold=1.1)


def vi_number(value: int) -> str:
    """'3.000' (Vietnamese digit grouping)."""
    return format_decimal(value, locale=LOCALE)
