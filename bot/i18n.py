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

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
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


_WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
             N_("Saturday"), N_("Sunday"))


def vi_date(value: dt.date) -> str:
    """'Chủ nhật, ngày 15/11/2026': the one way the bot writes a day with its weekday."""
    return _("{weekday}, day {date}").format(weekday=_(_WEEKDAYS[value.weekday()]),
                                             date=vi_short_date(value))


def vi_short_date(value: dt.date) -> str:
    """'20/05/2026'"""
    return format_date(value, format="dd/MM/yyyy", locale=LOCALE)


def vi_datetime(value: dt.datetime, tz: dt.tzinfo) -> str:
    """'08:00 20/05/2026' in the commune's time zone."""
    return format_datetime(value.astimezone(tz), format="HH:mm dd/MM/yyyy", locale=LOCALE)


def vi_time(value: dt.datetime, tz: dt.tzinfo) -> str:
    """'09:40' in the commune's time zone."""
    return format_datetime(value.astimezone(tz), format="HH:mm", locale=LOCALE)


def vi_number(value: int) -> str:
    """'3.000': Vietnamese groups thousands with a dot."""
    return f"{value:,}".replace(",", ".")


DETAILED_DAYS = 10  # under this many days a deadline shows its hours too


def vi_duration(delta: dt.timedelta) -> str:
    """Time left (or late) the way people read a deadline: never more than there is.

    '7 ngày 13 giờ' under ten days, '12 ngày' beyond, '3 giờ 20 phút' under a day,
    '30 phút' under an hour. Rounded down, so "còn 8 ngày" never means 7 days 13 hours.
    """
    minutes = max(int(abs(delta).total_seconds()) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days >= DETAILED_DAYS or (days and not hours):
        return _("{days} days").format(days=days)
    if days:
        return _("{days} days {hours} hours").format(days=days, hours=hours)
    if hours and minutes:
        return _("{hours} hours {minutes} minutes").format(hours=hours, minutes=minutes)
    if hours:
        return _("{hours} hours").format(hours=hours)
    return _("{minutes} minutes").format(minutes=max(minutes, 1))
