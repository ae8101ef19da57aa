"""Targets (chỉ tiêu): units, values, the met rules, the target value per year, and the
report round's dates on working days."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from domain.errors import InvalidInput
from domain.setup_file import SetupFileError, load_setup_file
from domain.targets import (
    RoundSpec,
    Rule,
    Source,
    Stage,
    Target,
    Unit,
    check_value,
    collect_date,
    format_value,
    is_met,
    parse_value,
    round_dates,
    rule_text,
)
from domain.workdays import is_working_day

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize(("unit", "text", "value"), [
    (Unit.PERCENT, "95", 95.0),
    (Unit.PERCENT, "98,5", 98.5),
    (Unit.PERCENT, "98.5", 98.5),
    (Unit.PERCENT, " 99,1 % ", 99.1),
    (Unit.PERCENT, "0", 0.0),
    (Unit.PERCENT, "100", 100.0),
    (Unit.PER_MILLE, "4,8‰", 4.8),
    (Unit.PER_MILLE, "1000", 1000.0),
    (Unit.COUNT, "12", 12.0),
    (Unit.COUNT, "1.250", 1250.0),
    (Unit.PER_100K, "1.250", 1250.0),  # the thousands dot, as the hint writes 100.000
    (Unit.PER_100K, "1.250,5", 1250.5),
    (Unit.PER_MILLE, "1.000‰", 1000.0),
    (Unit.PER_100K, "550", 550.0),
    (Unit.PER_100K, "550/100.000", 550.0),
    (Unit.YES_NO, "Có", 1.0),
    (Unit.YES_NO, "co", 1.0),
    (Unit.YES_NO, "Không", 0.0),
    (Unit.YES_NO, "chưa đạt", 0.0),
])
def test_values_typed_the_vietnamese_way_are_read(unit: Unit, text: str, value: float) -> None:
    assert parse_value(unit, text) == value


@pytest.mark.parametrize(("unit", "text"), [
    (Unit.PERCENT, "101"),
    (Unit.PERCENT, "-3"),
    (Unit.PERCENT, "abc"),
    (Unit.PERCENT, "9,123"),  # more than two decimals
    (Unit.PERCENT, ""),
    (Unit.PERCENT, "<b>5</b>"),
    (Unit.PER_MILLE, "1001"),
    (Unit.PERCENT, "1.000"),  # a thousands dot, out of range: not 1,0 %
    (Unit.PERCENT, "95.555"),
    (Unit.PER_100K, "1.25.0"),
    (Unit.PERCENT, "9 5"),
    (Unit.COUNT, "2,5"),  # half a child
    (Unit.COUNT, "1e3"),
    (Unit.PER_100K, "100001"),
    (Unit.YES_NO, "maybe"),
    (Unit.YES_NO, "2"),
])
def test_values_outside_the_unit_are_refused(unit: Unit, text: str) -> None:
    with pytest.raises(InvalidInput) as problem:
        parse_value(unit, text)
    assert problem.value.code == "target_value_invalid"


def test_check_value_refuses_fractions_of_counts_and_out_of_range() -> None:
    check_value(Unit.COUNT, 3)
    with pytest.raises(InvalidInput):
        check_value(Unit.COUNT, 3.5)
    with pytest.raises(InvalidInput):
        check_value(Unit.PERCENT, 100.01)


@pytest.mark.parametrize(("unit", "value", "text"), [
    (Unit.PERCENT, 98.5, "98,5%"),
    (Unit.PERCENT, 90.0, "90%"),
    (Unit.PER_MILLE, 4.8, "4,8‰"),
    (Unit.COUNT, 1250.0, "1.250"),
    (Unit.PER_100K, 550.0, "550/100.000"),
    (Unit.YES_NO, 1.0, "Có"),
    (Unit.YES_NO, 0.0, "Không"),
    (Unit.PERCENT, None, ""),
])
def test_values_are_shown_the_vietnamese_way(unit: Unit, value: float | None, text: str) -> None:
    assert format_value(unit, value) == text


@pytest.mark.parametrize(("rule", "value", "target", "last", "met"), [
    (Rule.AT_LEAST, 90, 90, None, True),
    (Rule.AT_LEAST, 89.9, 90, None, False),
    (Rule.AT_MOST, 550, 550, None, True),
    (Rule.AT_MOST, 551, 550, None, False),
    (Rule.EQUAL, 1, 1, None, True),
    (Rule.EQUAL, 0, 1, None, False),
    (Rule.BELOW, 4.9, 5, None, True),
    (Rule.BELOW, 5, 5, None, False),
    (Rule.ABOVE, 5.1, 5, None, True),
    (Rule.ABOVE, 5, 5, None, False),
    (Rule.DOWN, 3, None, 4, True),
    (Rule.DOWN, 4, None, 4, False),
    (Rule.DOWN, 4, None, None, None),  # no last period: cannot tell
    (Rule.AT_LEAST, None, 90, None, None),  # not reported
    (Rule.AT_LEAST, 90, None, None, None),  # no target value
])
def test_met_rules(rule: Rule, value, target, last, met) -> None:
    assert is_met(rule, value, target, last) is met


def test_rule_text() -> None:
    assert rule_text(Rule.AT_LEAST, Unit.PERCENT, 90) == "≥ 90%"
    assert rule_text(Rule.BELOW, Unit.PER_MILLE, 5) == "< 5‰"
    assert rule_text(Rule.EQUAL, Unit.YES_NO, 1) == "= Có"
    assert rule_text(Rule.DOWN, Unit.PER_100K, None) == "giảm so với kỳ trước"


def test_target_value_in_force_each_year() -> None:
    target = Target(code="ct2", number="2", name="…", unit=Unit.PERCENT, rule=Rule.AT_LEAST,
                    values={2026: 90.0, 2030: 95.0}, agency="vhxh")
    assert target.value_for(2025) == 90.0  # before the first year: the first value
    assert target.value_for(2026) == 90.0
    assert target.value_for(2029) == 90.0  # the 2026 value holds until 2030
    assert target.value_for(2030) == 95.0
    assert target.value_for(2035) == 95.0
    only_2030 = Target(code="ct6", number="6", name="…", unit=Unit.PERCENT, rule=Rule.BELOW,
                       values={2030: 2.0})
    assert only_2030.value_for(2026) == 2.0
    assert Target(code="x", number="x", name="…", unit=Unit.COUNT,
                  rule=Rule.DOWN).value_for(2026) is None


def test_round_dates_xuan_truong_2026() -> None:
    # 10/11/2026 is a Tuesday.
    dates = round_dates(dt.date(2026, 11, 10), 10)
    assert dates.due == dt.date(2026, 11, 10)
    assert dates.opens == dt.date(2026, 10, 27)  # 10 working days before (Tuesday)
    assert dict(dates.chasers) == {Stage.D3: dt.date(2026, 11, 5), Stage.D1: dt.date(2026, 11, 9),
                                   Stage.D0: dt.date(2026, 11, 10)}
    assert dates.late == dt.date(2026, 11, 11)
    assert dates.stages_due(dt.date(2026, 10, 26)) == []
    assert dates.stages_due(dt.date(2026, 10, 27)) == [Stage.OPEN]
    assert dates.stages_due(dt.date(2026, 11, 6)) == [Stage.OPEN, Stage.D3]
    assert dates.current_chaser(dt.date(2026, 11, 6)) is Stage.D3
    assert dates.current_chaser(dt.date(2026, 11, 10)) is Stage.D0
    assert dates.current_chaser(dt.date(2026, 11, 11)) is None
    assert dates.stages_due(dt.date(2026, 11, 11))[-1] is Stage.LATE


def test_chasers_skip_weekends() -> None:
    # 9/11/2026 is a Monday: three working days before is the Wednesday before.
    dates = round_dates(dt.date(2026, 11, 9), 5)
    assert dict(dates.chasers)[Stage.D3] == dt.date(2026, 11, 4)
    assert dict(dates.chasers)[Stage.D1] == dt.date(2026, 11, 6)  # Friday
    assert dates.late == dt.date(2026, 11, 10)


def test_collection_date_on_a_holiday_moves_back_to_a_working_day() -> None:
    # 2/9/2026 (National Day, a Wednesday) and 1/9 are holidays in 2026.
    dates = round_dates(dt.date(2026, 9, 2), 3)
    assert is_working_day(dates.due) and dates.due < dt.date(2026, 9, 1)
    assert all(is_working_day(day) for _, day in dates.chasers)
    assert is_working_day(dates.opens) and is_working_day(dates.late)


def test_round_dates_around_tet_2027() -> None:
    # Tết 2027: 6/2/2027 is New Year's day; the holidays around it are not working days.
    dates = round_dates(dt.date(2027, 2, 19), 10)
    days = [dates.opens, dates.due, dates.late, *(d for _, d in dates.chasers)]
    assert all(is_working_day(day) for day in days)
    assert (dates.due - dates.opens).days > 14  # ten working days span the Tết break


def test_open_days_must_be_sensible() -> None:
    with pytest.raises(InvalidInput):
        round_dates(dt.date(2026, 11, 10), 0)


def test_collect_date_rules() -> None:
    assert collect_date(RoundSpec("a", "A", "10/11"), 2026) == dt.date(2026, 11, 10)
    # 5 working days before Friday 20/5/2026... 20/5/2026 is a Wednesday.
    assert collect_date(RoundSpec("b", "B", "5 ngày làm việc trước 20/5"),
                        2026) == dt.date(2026, 5, 13)


def test_xuan_truong_example_has_the_24_targets_of_the_plan() -> None:
    setup = load_setup_file(EXAMPLES / "xuan-truong.toml")
    targets = {t.number: t.target() for t in setup.targets}
    assert list(targets) == [str(n) for n in range(1, 25)]
    agencies = {t.agency for t in targets.values()}
    assert agencies <= {a.code for a in setup.agencies}
    assert targets["9"].agency == "cong-an"
    assert targets["14"].agency == "van-phong"
    assert {n for n, t in targets.items() if t.agency == "truong-hoc"} == {
        "7", "15", "16", "17", "18", "19", "20"}
    assert targets["2"].values == {2026: 90.0, 2030: 95.0}
    assert targets["14"].values == {2026: 98.5, 2030: 100.0}
    assert targets["1"].unit is Unit.YES_NO
    # Targets that name several rates track each one as a part, worded as in the plan.
    rows = {r.target.number: r for t in setup.targets for r in t.rows()}
    assert [n for n in rows if n.startswith(("3", "4", "8", "11", "17", "18", "20"))] == [
        "3a", "3b", "3c", "4a", "4b", "4c", "4d", "8a", "8b", "11a", "11b", "17a", "17b",
        "18a", "18b", "20a", "20b"]
    assert len(rows) == 35
    three = [rows[n].target for n in ("3a", "3b", "3c")]
    assert [t.unit for t in three] == [Unit.PER_MILLE] * 3
    assert [t.values for t in three] == [{2026: 5.0, 2030: 4.8}, {2026: 6.0, 2030: 5.8},
                                         {2026: 9.0, 2030: 8.8}]
    assert [t.rule for t in three] == [Rule.BELOW, Rule.AT_MOST, Rule.BELOW]
    assert rows["3b"].target.name == ("giảm tỷ suất tử vong của trẻ em dưới 1 tuổi xuống 6,0‰ "
                                      "vào năm 2026 và 5,8‰ vào năm 2030")
    assert rows["3a"].title == targets["3"].name and rows["3a"].group_code == "ct3"
    assert rows["3a"].target.code == "ct3a" and rows["3a"].target.agency == "vhxh"
    assert rows["11b"].target.unit is Unit.PER_100K
    assert rows["11b"].target.values == {2026: 16.0, 2030: 15.0}
    assert rows["17b"].target.rule is Rule.BELOW
    assert rows["17b"].target.values == {2026: 0.12, 2030: 0.1}
    assert rows["20b"].target.agency == "truong-hoc"
    assert rows["8b"].target.values == {2026: 90.0, 2030: 95.0}
    # Every part's wording is the plan's own text: a clause of the whole target (4c and 4d
    # share one clause, its two halves marked with "…").
    for row in rows.values():
        if row.title is not None:
            for piece in row.target.name.split("…"):
                assert piece.strip() in row.title, row.target.number
    assert targets["2"].name.startswith("Tỷ lệ trẻ em đến 8 tuổi được tiếp cận")
    (annual,) = setup.rounds
    assert annual.collect_by == "10/11" and annual.period == "year"


def test_minh_tan_example_has_its_own_targets() -> None:
    setup = load_setup_file(EXAMPLES / "minh-tan.toml")
    targets = {t.code: t.target() for t in setup.targets}
    assert targets["mt1"].values == {2026: 95.0} and targets["mt1"].rule is Rule.AT_LEAST
    assert targets["mt2"].rule is Rule.DOWN
    assert targets["mt3"].source is Source.BOT and targets["mt3"].figure == "cases_injury"
    assert [r.period for r in setup.rounds] == ["6m", "year"]


def _write(tmp_path: pathlib.Path, extra: str) -> pathlib.Path:
    base = (EXAMPLES / "minh-tan.toml").read_text("utf-8").split("# The report rounds.")[0]
    path = tmp_path / "c.toml"
    path.write_text(base + extra, "utf-8")
    return path


@pytest.mark.parametrize(("extra", "needle"), [
    ('[[targets]]\ncode = "x"\nnumber = "1"\nname = "X"\nunit = "%"\nrule = ">="\n'
     'values = { 2026 = 90 }\nagency = "nobody"\n', "no agency has the code nobody"),
    ('[[targets]]\ncode = "x"\nnumber = "1"\nname = "X"\nunit = "%"\nrule = ">="\n'
     'agency = "vhxh"\n', "give the target value per year"),
    ('[[targets]]\ncode = "x"\nnumber = "1"\nname = "X"\nunit = "kg"\nrule = ">="\n'
     'values = { 2026 = 9 }\nagency = "vhxh"\n', "unit"),
    ('[[targets]]\ncode = "x"\nnumber = "1"\nname = "X"\nunit = "count"\nrule = "down"\n'
     'source = "bot"\nfigure = "weather"\n', "figure"),
    ('[[targets]]\ncode = "x"\nnumber = "1"\nname = "X"\nunit = "count"\nrule = "down"\n'
     'source = "bot"\n', "name the figure"),
    ('[[rounds]]\ncode = "r"\nname = "R"\ncollect_by = "1/6-30/6"\n', "collect_by"),
    ('[[rounds]]\ncode = "r"\nname = "R"\ncollect_by = "10/11"\nopen_working_days = 0\n',
     "open_working_days"),
])
def test_bad_targets_and_rounds_in_the_setup_file(tmp_path, extra, needle) -> None:
    with pytest.raises(SetupFileError) as problem:
        load_setup_file(_write(tmp_path, extra))
    assert needle in str(problem.value)


def _parts(extra: str) -> str:
    return ('[[targets]]\ncode = "x"\nnumber = "3"\nname = "X"\nagency = "vhxh"\n' + extra)


_PART_A = ('[[targets.parts]]\npart = "a"\nname = "A"\nunit = "‰"\nrule = "<"\n'
           'values = { 2026 = 5 }\n')


@pytest.mark.parametrize(("extra", "needle"), [
    (_parts('unit = "%"\n' + _PART_A), "with parts, give unit, rule and values in each part"),
    (_parts(_PART_A + _PART_A), "parts named twice"),
    (_parts('[[targets.parts]]\npart = "a"\nname = "A"\nunit = "‰"\nrule = "<"\n'),
     "give the target value per year"),
    ('[[targets]]\ncode = "x"\nnumber = "3"\nname = "X"\nagency = "vhxh"\n',
     "give its unit and rule"),
    (_parts(_PART_A) + '[[targets]]\ncode = "xa"\nnumber = "9"\nname = "Y"\nunit = "%"\n'
     'rule = ">="\nvalues = { 2026 = 1 }\nagency = "vhxh"\n', "duplicate codes: xa"),
])
def test_target_parts_are_checked(tmp_path: pathlib.Path, extra: str, needle: str) -> None:
    with pytest.raises(SetupFileError) as caught:
        load_setup_file(_write(tmp_path, extra))
    assert needle in str(caught.value)


def test_a_part_may_name_its_own_agency(tmp_path: pathlib.Path) -> None:
    setup = load_setup_file(_write(tmp_path, _parts(
        _PART_A + '[[targets.parts]]\npart = "b"\nname = "B"\nunit = "%"\nrule = ">="\n'
        'values = { 2026 = 90 }\nagency = "tram-y-te"\n')))
    rows = [r.target for r in setup.targets[-1].rows()]
    assert [(t.code, t.number, t.agency) for t in rows] == [("xa", "3a", "vhxh"),
                                                            ("xb", "3b", "tram-y-te")]


def test_a_reimport_keeps_chat_changes_the_file_did_not_change() -> None:
    from storage.setup_import import merged_values

    last = {"2026": 90.0, "2030": 95.0}
    chat = {"2026": 92.0, "2030": 95.0, "2027": 93.0}  # changed in the chat
    # The file unchanged: the chat's values stay.
    assert merged_values(chat, last, dict(last)) == chat
    # The file changed 2030 only: 2030 from the file, the chat's 2026 and 2027 kept.
    assert merged_values(chat, last, {"2026": 90.0, "2030": 96.0}) == {
        "2026": 92.0, "2027": 93.0, "2030": 96.0}
    # The file changed 2026 too: the file wins for 2026.
    assert merged_values(chat, last, {"2026": 91.0, "2030": 95.0})["2026"] == 91.0
    # The file dropped 2030: dropped.
    assert "2030" not in merged_values(chat, last, {"2026": 90.0})
    # First import after the upgrade (nothing recorded): the file as it is.
    assert merged_values(chat, None, {"2026": 90.0}) == {"2026": 90.0}


def test_a_part_is_started_by_its_first_saved_answer():
    from domain.targets import part_started

    assert not part_started({}, None, None)
    assert not part_started(None, None, None)
    assert part_started({"mt1": 0.0}, None, None)  # a zero is an answer
    assert part_started({}, "Hỗ trợ 42 trẻ em.", None)
    assert part_started({}, None, "Thiếu kinh phí.")


def test_a_targets_fingerprint_changes_with_what_the_editor_changes():
    from domain.targets import target_fingerprint

    base = target_fingerprint({"2026": 95.0}, 3, [])
    assert len(base) == 8 and int(base, 16) >= 0
    assert target_fingerprint({"2026": 95}, 3, None) == base  # int/float, None/[] alike
    assert target_fingerprint({"2026": 97.5}, 3, []) != base
    assert target_fingerprint({"2026": 95.0, "2027": 95.0}, 3, []) != base
    assert target_fingerprint({"2026": 95.0}, 4, []) != base
    assert target_fingerprint({"2026": 95.0}, 3, [2026]) != base
    assert (target_fingerprint({"2026": 1.0, "2030": 2.0}, 3, [2027, 2026])
            == target_fingerprint({"2030": 2.0, "2026": 1.0}, 3, [2026, 2027]))
