"""Rules for people's requests and the access report's period (domain.data_rights)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from domain.data_rights import answer_due, is_access, parse_access_period
from domain.errors import InvalidInput

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = dt.date(2026, 12, 3)


def test_the_default_is_the_last_30_days_today_included():
    period = parse_access_period("", TODAY)
    assert (period.start, period.end) == (dt.date(2026, 11, 4), TODAY)
    assert period.days == 30


@pytest.mark.parametrize(("text", "start", "end"), [
    ("7", dt.date(2026, 11, 27), TODAY),
    ("90 ngày", dt.date(2026, 9, 5), TODAY),
    ("1/11/2026 30/11/2026", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
    ("01.11.2026-30.11.2026", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
    ("1/11/2026 đến 1/11/2026", dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
])
def test_periods_typed_after_truycap(text, start, end):
    period = parse_access_period(text, TODAY)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", [
    "hôm qua", "0", "999", "31/2/2026 1/3/2026", "1/12/2026 1/11/2026",
    "1/1/2020 1/1/2026", "1/11/1999 30/11/1999", "1/11/2026", "<b>", "9" * 400,
])
def test_bad_periods_are_refused(text):
    with pytest.raises(InvalidInput):
        parse_access_period(text, TODAY)


def test_answers_are_due_after_working_days_skipping_weekends_and_holidays():
    friday = dt.datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
    due = answer_due(friday, 2, TZ).astimezone(TZ)
    assert due == dt.datetime(2026, 12, 8, 17, 0, tzinfo=TZ)  # Tuesday
    before_new_year = dt.datetime(2026, 12, 31, 9, 0, tzinfo=TZ)
    assert answer_due(before_new_year, 1, TZ).astimezone(TZ).date() == dt.date(2027, 1, 4)


def test_reading_and_exporting_count_as_access_changes_do_not():
    for action in ("case_viewed", "case_form_exported", "stats_exported", "stats_viewed",
                   "audit_viewed", "access_exported", "register_viewed"):
        assert is_access(action), action
    for action in ("case_taken", "case_status_changed", "report_sent", "access_report_read",
                   "reporter_contact_withdrawn"):
        assert not is_access(action), action
