"""How long personal data is kept after a case closes (plain rules, no storage).

Two periods, both counted from the case's closing:
- the reporter's contact (name, phone, Telegram id) is needed to answer them and to ask
  them more while the case is handled; kept `contact_after` after the case closes
  (TREEM_RETENTION_CONTACT_DAYS, 90 days by default), in case it is reopened;
- the case's content (story, child's name, address and location, notes, relayed messages,
  photo and voice file ids) is kept `closed_after` (TREEM_RETENTION_CLOSED_DAYS, 1826 days =
  5 years by default), then cleared. The case row, its dates, category, age group, urgency,
  risk and closure reason stay, so the figures keep counting it.

Five years is a default, not a rule of law: the commune sets the period its records
practice (hồ sơ trẻ em cần bảo vệ) calls for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RetentionRules:
    contact_after: dt.timedelta = dt.timedelta(days=90)
    closed_after: dt.timedelta = dt.timedelta(days=1826)

    def contact_closed_before(self, now: dt.datetime) -> dt.datetime:
        """Cases closed before this have their reporter's contact erased."""
        return now - self.contact_after

    def content_closed_before(self, now: dt.datetime) -> dt.datetime:
        """Cases closed before this are de-identified."""
        return now - self.closed_after
