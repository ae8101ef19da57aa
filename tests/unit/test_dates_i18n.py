"""bot/i18n.py: dates, times and durations as Vietnamese users read them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bot.i18n import vi_date, vi_datetime, vi_duration, vi_number, vi_short_date

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (dt.date(2026, 5, 20), "Thứ Tư, ngày 20/05/2026"),  # the 6-month report deadline
        (dt.date(2026, 11, 15), "Chủ nhật, ngày 15/11/2026"),  # the annual report deadline
        (dt.date(2026, 11, 23), "Thứ Hai, ngày 23/11/2026"),
    ],
)
def test_vi_date(day: dt.date, text: str) -> None:
    assert vi_date(day) == text


def test_vi_short_date_pads_day_and_month() -> None:
    assert vi_short_date(dt.date(2026, 5, 2)) == "02/05/2026"


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        (dt.datetime(2026, 5, 20, 1, 0, tzinfo=dt.UTC), "08:00 20/05/2026"),
        # Late evening in UTC is already the next day in Việt Nam.
        (dt.datetime(2026, 5, 20, 20, 30, tzinfo=dt.UTC), "03:30 21/05/2026"),
        (dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC), "00:00 01/01/2027"),
    ],
)
def test_vi_datetime_is_in_vietnam_time(utc: dt.datetime, local: str) -> None:
    assert vi_datetime(utc, HANOI) == local


def test_vi_datetime_same_instant_from_another_zone() -> None:
    bangkok_is_also_utc7 = dt.datetime(2026, 5, 20, 8, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Bangkok"))
    paris = dt.datetime(2026, 5, 20, 3, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))  # UTC+2
    assert vi_datetime(bangkok_is_also_utc7, HANOI) == "08:00 20/05/2026"
    assert vi_datetime(paris, HANOI) == "08:00 20/05/2026"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(hours=3), "3 giờ"),
        (dt.timedelta(hours=72), "3 ngày"),
        (dt.timedelta(minutes=30), "30 phút"),
        (dt.timedelta(days=7, hours=13), "7 ngày 13 giờ"),  # never "8 ngày"
        (dt.timedelta(days=7, hours=23, minutes=59), "7 ngày 23 giờ"),
        (dt.timedelta(days=12, hours=20), "12 ngày"),
        (dt.timedelta(hours=5, minutes=40), "5 giờ 40 phút"),
        (-dt.timedelta(days=2, hours=3), "2 ngày 3 giờ"),  # how late, for "quá hạn"
    ],
)
def test_vi_duration(delta: dt.timedelta, text: str) -> None:
    assert vi_duration(delta) == text


def test_vi_number_groups_thousands_with_a_dot() -> None:
    assert [vi_number(n) for n in (7, 3000, 100000)] == ["7", "3.000", "100.000"]
