"""The rules the plans use beyond one fixed day a year: monthly and quarterly checks (Minh
Tân), a one-off date (Xuân Trường's 2030 final review), "trước ngày" deadlines read as the
words read, the last day of a lunar month, events switched off, {report_to} in messages."""

from __future__ import annotations

import calendar
import datetime as dt
import pathlib

import pytest

from domain.calendar import (
    DateRule,
    EventKind,
    EventSpec,
    LunarDayMissing,
    fill_message,
    hand_in,
    planned_reminders,
)
from domain.errors import InvalidInput
from domain.inheritance import inherited_calendar
from domain.setup_file import (
    ProvinceSetupFile,
    SetupFileError,
    check_audience,
    check_leads,
    default_events,
    events_for,
    load_any_setup_file,
    load_setup_file,
)
from domain.workdays import is_working_day
from tests.unit import vn_lunar_reference as reference

YEARS = range(2024, 2036)
EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("year", YEARS)
def test_monthly_every_month_and_short_months_end_on_their_last_day(year):
    rule = DateRule.parse("ngày 31 hằng tháng")
    days = [first for _seq, first, _last in rule.occurrences(year)]
    assert days == [dt.date(year, m, calendar.monthrange(year, m)[1]) for m in range(1, 13)]
    assert DateRule.parse("ngày cuối hằng tháng").occurrences(year) == rule.occurrences(year)
    assert [s for s, _f, _l in DateRule.parse("25 hàng tháng").occurrences(year)] == list(
        range(1, 13))
    assert [f for _s, f, _l in DateRule.parse("monthly 25").occurrences(year)] == [
        dt.date(year, m, 25) for m in range(1, 13)]


@pytest.mark.parametrize("year", YEARS)
def test_quarterly_rules(year):
    last_month = DateRule.parse("ngày 20 tháng cuối hằng quý")
    assert [(s, f) for s, f, _l in last_month.occurrences(year)] == [
        (q, dt.date(year, 3 * q, 20)) for q in range(1, 5)]
    first_month = DateRule.parse("Ngày 5 tháng đầu mỗi quý")
    assert [f for _s, f, _l in first_month.occurrences(year)] == [
        dt.date(year, m, 5) for m in (1, 4, 7, 10)]
    compact = DateRule.parse("hằng quý 31/2")  # 31st of the quarter's 2nd month, or its last
    assert [f for _s, f, _l in compact.occurrences(year)] == [
        dt.date(year, 2, calendar.monthrange(year, 2)[1]), dt.date(year, 5, 31),
        dt.date(year, 8, 31), dt.date(year, 11, 30)]


def test_one_off_date():
    review = DateRule.parse("31/12/2030")
    assert review.kind == "once"
    for year in YEARS:
        expected = [(0, dt.date(2030, 12, 31), dt.date(2030, 12, 31))] if year == 2030 else []
        assert review.occurrences(year) == expected
    assert review.next_after(dt.date(2026, 3, 1)) == (dt.date(2030, 12, 31),) * 2
    assert review.next_after(dt.date(2031, 1, 1)) is None
    by = DateRule.parse("trước ngày 15/11/2030")
    assert by.occurrences(2030) == [(0, dt.date(2030, 11, 14), dt.date(2030, 11, 14))]
    assert by.occurrences(2029) == []


@pytest.mark.parametrize("year", YEARS)
def test_before_a_day_reads_as_the_day_before_unless_the_commune_counts_it(year):
    rule = DateRule.parse("trước ngày 20/5")
    assert rule.kind == "by" and rule.occurrence(year) == (dt.date(year, 5, 19),) * 2
    inclusive = DateRule.parse("trước 20/5", before_includes_day=True)
    assert inclusive.occurrence(year) == (dt.date(year, 5, 20),) * 2
    found = hand_in(rule, dt.date(year, 5, 19))
    assert found.named_day == dt.date(year, 5, 20) and found.last_day == dt.date(year, 5, 19)
    assert is_working_day(found.last_working_day)
    assert found.last_working_day <= found.last_day
    assert hand_in(DateRule.parse("20/5"), dt.date(year, 5, 20)) is None


def test_before_a_day_on_a_weekend_names_the_last_working_day():
    # "trước ngày 15/11/2027": 14/11/2027 is a Sunday → Friday 12/11.
    found = hand_in(DateRule.parse("trước 15/11"), dt.date(2027, 11, 14))
    assert found.last_working_day == dt.date(2027, 11, 12)
    # "trước ngày 1/5/2026": 30/4 is a holiday, so is 1/5 → 29/4.
    found = hand_in(DateRule.parse("before 1/5"), dt.date(2026, 4, 30))
    assert found.last_working_day == dt.date(2026, 4, 29)


@pytest.mark.parametrize("month", [1, 8, 12])
def test_last_day_of_a_lunar_month_cross_checked(month):
    rule = DateRule.parse(f"cuối tháng {month} âm lịch")
    for year in YEARS:
        day, _ = rule.occurrence(year)
        assert day.year == year
        lunar = reference.solar_to_lunar(day)
        following = reference.solar_to_lunar(day + dt.timedelta(days=1))
        assert (lunar[1], lunar[0] in (29, 30)) == (month, True), (year, lunar)
        assert following[0] == 1, (year, following)


def test_the_eve_of_tet_is_the_last_day_of_lunar_month_12():
    rule = DateRule.parse("cuối tháng 12 AL")
    assert rule.occurrence(2026)[0] == dt.date(2026, 2, 16)  # Tết 2026 is 17/2 (29-day month)
    assert rule.occurrence(2024)[0] == dt.date(2024, 2, 9)  # a 30-day month


def test_a_30th_lunar_day_is_refused_with_the_month():
    with pytest.raises(LunarDayMissing) as found:
        DateRule.parse("30/12 âm lịch")
    assert found.value.month == 12 and found.value.code == "lunar_day_missing"


@pytest.mark.parametrize("text", ["ngày 32 hằng tháng", "ngày 0 hằng tháng", "hằng quý 5/4",
                                  "29/2/2027", "1/1/1999", "trước 31/4", "cuối tháng 13 âm lịch",
                                  "ngày 5 tháng sau hằng quý"])
def test_bad_new_rules(text):
    with pytest.raises(InvalidInput):
        DateRule.parse(text)


def test_monthly_reminders_are_planned_per_month_on_working_days():
    spec = EventSpec("ra-soat", "Rà soát", EventKind.CAMPAIGN,
                     DateRule.parse("ngày 25 hằng tháng"), lead_days=(3, 0))
    for year in YEARS:
        planned = planned_reminders(spec, year)
        assert len(planned) == 24
        assert sorted({p.seq for p in planned}) == list(range(1, 13))
        assert all(is_working_day(p.day) and p.day <= p.starts_on for p in planned)


def test_a_switched_off_event_plans_nothing():
    spec = EventSpec("x", "x", EventKind.OBSERVANCE, DateRule.parse("1/6"), active=False)
    assert planned_reminders(spec, 2027) == []


def test_report_to_is_filled_in():
    assert fill_message("gửi {report_to}.", "Phòng LĐ-TB&XH") == "gửi Phòng LĐ-TB&XH."
    assert fill_message("{x} {report_to}", "A") == "{x} A"  # other braces stay
    defaults = {e.code: e for e in default_events()}
    for code in ("bao-cao-6-thang", "bao-cao-nam"):
        assert "{report_to}" in defaults[code].message and "Sở Y tế" not in defaults[code].message
    assert "thu-bao-cao-nam" not in defaults  # Xuân Trường's own date, not a national one


def test_audience_and_lead_checks():
    assert check_audience(("health", "school", "health")) == ("health", "school")
    assert check_leads((1, 7, 7, 0)) == (7, 1, 0)
    for bad in [(), ("hospital",), ("<b>",)]:
        with pytest.raises(InvalidInput):
            check_audience(bad)
    for bad in [(), (61,), (-1,), tuple(range(11))]:
        with pytest.raises(InvalidInput):
            check_leads(bad)


def test_set_up_files_switch_off_and_change_only_what_they_write(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('''
[province]
code = "p"
name = "Tỉnh P"
[commune]
code = "c"
name = "Xã C"
on_duty_phone = "0229 3 800 000"
before_includes_day = true
[[events]]
code = "bao-cao-6-thang"
active = false
[[events]]
code = "bao-cao-nam"
date = "trước 1/12"
lead_days = [7, 1]
[[events]]
code = "ra-soat"
name = "Rà soát hằng tháng"
kind = "campaign"
date = "ngày 25 hằng tháng"
audience = ["culture_social"]
''', "utf-8")
    setup = load_setup_file(path)
    assert setup.commune.before_includes_day is True
    events = {e.code: e for e in events_for(setup)}
    assert events["bao-cao-6-thang"].active is False
    assert events["bao-cao-6-thang"].date == "trước 20/5"  # the rest is the default's
    annual = events["bao-cao-nam"]
    assert (annual.date, annual.lead_days, annual.report_period) == ("trước 1/12", (7, 1), "year")
    assert "{report_to}" in annual.message
    assert events["ra-soat"].spec().rule.kind == "monthly"


@pytest.mark.parametrize(("entry", "words"), [
    ('code = "moi"\nname = "Mới"', "date"),  # a new event without its date
    ('code = "bao-cao-nam"\ndate = "30/12 âm lịch"', "29"),
    ('code = "bao-cao-nam"\naudience = ["hospital"]', "agency kinds"),
    ('code = "bao-cao-nam"\nlead_days = [99]', "0 to 60"),
])
def test_bad_event_entries_are_refused(tmp_path, entry, words):
    path = tmp_path / "x.toml"
    path.write_text('[province]\ncode = "p"\nname = "P"\n[commune]\ncode = "c"\nname = "C"\n'
                    f'on_duty_phone = "113"\n[[events]]\n{entry}\n', "utf-8")
    with pytest.raises(SetupFileError) as found:
        load_setup_file(path)
    assert words in str(found.value)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_example_files_load(name):
    setup = load_any_setup_file(EXAMPLES / name)
    if isinstance(setup, ProvinceSetupFile):  # a province's calendar, as its communes inherit it
        events, includes_day = [event for event, _origin in inherited_calendar(
            setup.events).values()], setup.province.before_includes_day
    else:
        events, includes_day = events_for(setup), setup.commune.before_includes_day
    for event in events:
        spec = event.spec(before_includes_day=includes_day)
        for year in YEARS:
            assert all(is_working_day(p.day) for p in planned_reminders(spec, year))


def test_extra_holidays_and_working_days_override_the_package():
    from bot.settings import ConfigError, load_settings
    from domain import workdays

    tuesday = dt.date(2027, 11, 24)  # Ngày Văn hóa Việt Nam: off in the package from 2026
    assert not is_working_day(tuesday)
    settings = load_settings(TREEM_EXTRA_HOLIDAYS="2027-05-18, 2027-05-17",
                             TREEM_EXTRA_WORKING_DAYS="2027-11-24")
    assert settings.extra_holidays == {dt.date(2027, 5, 17), dt.date(2027, 5, 18)}
    try:
        workdays.configure(settings.extra_holidays, settings.extra_working_days)
        assert is_working_day(tuesday)
        assert not is_working_day(dt.date(2027, 5, 18))
        # "5 working days before 20/5/2027" (Thu): 19, 14, 13, 12, 11 (17–18/5 off).
        assert DateRule.parse("5 ngày làm việc trước 20/5").occurrence(2027)[0] == dt.date(
            2027, 5, 11)
        # "trước 20/5": the last day 19/5; the reminder 2 days before (17/5) moves to 14/5.
        spec = EventSpec("x", "x", EventKind.REPORT_DEADLINE, DateRule.parse("trước 20/5"),
                         lead_days=(2,))
        assert [p.day for p in planned_reminders(spec, 2027)] == [dt.date(2027, 5, 14)]
    finally:
        workdays.configure()
    assert not is_working_day(tuesday)
    with pytest.raises(ConfigError, match="2027-02-30"):
        load_settings(TREEM_EXTRA_HOLIDAYS="2027-02-30")
