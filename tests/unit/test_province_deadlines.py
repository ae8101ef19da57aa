"""The province's own deadlines up (report_6m_by / report_year_by) as events of the province,
and when its communes hand in: plain rules, no storage."""

from __future__ import annotations

import datetime as dt
import pathlib

from domain.calendar import DateRule, EventKind, EventSpec, hand_in, planned_reminders
from domain.inheritance import resolve
from domain.province_deadlines import DEFAULT_LEADS, OWN_CODES, communes_hand_in, own_deadlines
from domain.setup_file import EventChange, load_any_setup_file

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _binh_thuan():
    setup = load_any_setup_file(EXAMPLES / "binh-thuan.toml")
    return setup.deadline_rules(), setup.events


def _spec(event, *, includes_day: bool = False) -> EventSpec:
    return EventSpec(code=event.code, name=event.name, kind=event.kind,
                     rule=DateRule.parse(event.date, before_includes_day=includes_day),
                     lead_days=event.lead_days, audience=event.audience,
                     message=event.message, report_period=event.report_period)


def test_the_seed_gives_the_province_two_deadlines_of_its_own():
    deadlines, changes = _binh_thuan()
    six, year = own_deadlines(deadlines, changes)
    assert (six.code, six.date, six.report_period) == ("tinh-bao-cao-6-thang", "trước 20/5", "6m")
    assert (year.code, year.date, year.report_period) == ("tinh-bao-cao-nam", "trước 20/11",
                                                          "year")
    assert six.kind is EventKind.REPORT_DEADLINE and six.audience == ("all",)
    # the usual lead days: those of the communes' report of the same period
    assert six.lead_days == year.lead_days == (14, 7, 3, 1, 0)
    # the message names the province's own recipient and the communes' date
    assert "về {report_to}" in six.message and "các xã gửi “trước 15/5”" in six.message
    assert "các xã gửi “trước 15/11”" in year.message


def test_the_communes_hand_in_by_the_provinces_dates_or_the_defaults():
    _deadlines, changes = _binh_thuan()
    theirs = communes_hand_in(changes)
    assert {p: e.date for p, e in theirs.items()} == {"6m": "trước 15/5", "year": "trước 15/11"}
    assert theirs["6m"].code == "bao-cao-6-thang"
    defaults = communes_hand_in(())
    assert {p: e.date for p, e in defaults.items()} == {"6m": "trước 20/5", "year": "trước 15/11"}


def test_trước_ngày_reads_like_the_communes_unless_the_province_counts_the_day():
    deadlines, changes = _binh_thuan()
    six = own_deadlines(deadlines, changes)[0]
    rule = DateRule.parse(six.date)
    assert rule.occurrence(2027) == (dt.date(2027, 5, 19), dt.date(2027, 5, 19))
    found = hand_in(rule, dt.date(2027, 5, 19))
    assert (found.named_day, found.last_day) == (dt.date(2027, 5, 20), dt.date(2027, 5, 19))
    counted = DateRule.parse(six.date, before_includes_day=True)
    assert counted.occurrence(2027)[0] == dt.date(2027, 5, 20)


def test_reminders_of_the_provinces_own_deadline_fall_on_working_days():
    deadlines, changes = _binh_thuan()
    six = own_deadlines(deadlines, changes)[0]
    sent = {(r.lead_days, r.day) for r in planned_reminders(_spec(six), 2027)}
    # 19/5/2027 is a Wednesday; 3 days before is Sunday 16/5 → Friday 14/5
    assert sent == {(14, dt.date(2027, 5, 5)), (7, dt.date(2027, 5, 12)),
                    (3, dt.date(2027, 5, 14)), (1, dt.date(2027, 5, 18)),
                    (0, dt.date(2027, 5, 19))}


def test_only_the_deadlines_the_file_writes():
    six_only = own_deadlines({"6m": "20/5"}, ())
    assert [e.code for e in six_only] == [OWN_CODES["6m"]]
    assert own_deadlines({}, ()) == []
    assert "(kế hoạch ghi “20/5”)" in six_only[0].message


def test_a_period_the_communes_do_not_report_keeps_the_usual_leads():
    changes = (EventChange(code="bao-cao-nam", active=False),
               EventChange(code="bao-cao-6-thang", lead_days=(10, 2)))
    assert set(communes_hand_in(changes)) == {"6m"}
    six, year = own_deadlines({"6m": "trước 20/5", "year": "trước 20/11"}, changes)
    assert six.lead_days == (10, 2)
    assert year.lead_days == DEFAULT_LEADS and "các xã gửi" not in year.message


def test_communes_never_inherit_the_provinces_own_deadlines():
    _deadlines, changes = _binh_thuan()
    codes = {item.event.code for item in resolve(changes, {})}
    assert not codes & set(OWN_CODES.values())
    assert {"bao-cao-6-thang", "bao-cao-nam"} <= codes
