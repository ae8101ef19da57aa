"""A commune's calendar in layers: defaults, its province's calendar, its own fields.
Inheritance, a commune's override of one field, an event switched off, re-imports."""

from __future__ import annotations

import pathlib

import pytest

from domain.errors import Problem
from domain.inheritance import (
    Origin,
    admin_change,
    admin_fields_after_reimport,
    inherited_calendar,
    legacy_fields,
    resolve,
)
from domain.names import in_sentence
from domain.setup_file import (
    CommuneSetupFile,
    EventChange,
    ProvinceSetupFile,
    SetupFileError,
    default_events,
    load_any_setup_file,
)

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
PROVINCE = (EventChange(code="bao-cao-6-thang", date="trước 15/5", message="Gửi {report_to}."),
            EventChange(code="bao-cao-nam", date="trước 15/11"),
            EventChange(code="tap-huan", name="Tập huấn bảo vệ trẻ em", kind="campaign",
                        date="10/3", lead_days=(7,), audience=("officer",)))


def _by_code(items):
    return {item.event.code: item for item in items}


def test_every_commune_inherits_the_province_dates_and_events():
    found = _by_code(resolve(PROVINCE, {}))
    six = found["bao-cao-6-thang"]
    assert six.origin is Origin.PROVINCE and six.event.date == "trước 15/5"
    assert six.event.message == "Gửi {report_to}."
    # only the fields the province wrote changed: name, reminders and audience stay the default's
    default = {e.code: e for e in default_events()}["bao-cao-6-thang"]
    assert six.event.lead_days == default.lead_days and six.event.audience == default.audience
    assert found["tap-huan"].origin is Origin.PROVINCE and found["tap-huan"].event.date == "10/3"
    assert found["trung-thu"].origin is Origin.DEFAULT
    assert not any(item.own_fields for item in found.values())


def test_no_province_calendar_is_the_defaults():
    found = _by_code(resolve((), {}))
    assert {code: item.event for code, item in found.items()} == {
        e.code: e for e in default_events()}
    assert {item.origin for item in found.values()} == {Origin.DEFAULT}


def test_a_commune_overrides_the_date_and_keeps_the_province_message():
    found = _by_code(resolve(PROVINCE, {"bao-cao-6-thang": {"date": "trước 10/5"}}))
    six = found["bao-cao-6-thang"]
    assert six.origin is Origin.COMMUNE and six.overrides_province
    assert six.event.date == "trước 10/5" and six.event.message == "Gửi {report_to}."
    assert six.inherited.date == "trước 15/5"
    # the province changes its message later: the commune gets it, with its own date
    later = (EventChange(code="bao-cao-6-thang", date="trước 16/5", message="Mới."),)
    six = _by_code(resolve(later, {"bao-cao-6-thang": {"date": "trước 10/5"}}))["bao-cao-6-thang"]
    assert (six.event.date, six.event.message) == ("trước 10/5", "Mới.")


def test_a_commune_switches_an_inherited_event_off():
    found = _by_code(resolve(PROVINCE, {"tap-huan": {"active": False}}))
    assert not found["tap-huan"].event.active and found["tap-huan"].origin is Origin.COMMUNE
    assert found["bao-cao-nam"].event.active


def test_a_commune_overriding_a_default_does_not_override_the_province():
    item = _by_code(resolve(PROVINCE, {"trung-thu": {"lead_days": [3]}}))["trung-thu"]
    assert item.origin is Origin.COMMUNE and not item.overrides_province


def test_a_commune_event_of_its_own_and_a_new_one_without_date():
    own = {"ra-soat": {"name": "Rà soát", "kind": "campaign", "date": "ngày 25 hằng tháng"}}
    item = _by_code(resolve(PROVINCE, own))["ra-soat"]
    assert item.origin is Origin.COMMUNE and item.inherited is None
    with pytest.raises(Problem):
        resolve(PROVINCE, {"ra-soat": {"name": "Rà soát"}})


def test_admin_changes_sit_over_the_file_and_survive_a_province_reimport():
    admin = {"bao-cao-nam": admin_change({}, {"date_rule": "trước 20/11", "lead_days": (7, 1)})}
    assert admin["bao-cao-nam"] == {"date": "trước 20/11", "lead_days": [7, 1]}
    file = {"bao-cao-nam": {"date": "trước 1/12", "message": "Riêng."}}
    item = _by_code(resolve(PROVINCE, file, admin))["bao-cao-nam"]
    assert (item.event.date, item.event.lead_days, item.event.message) == (
        "trước 20/11", (7, 1), "Riêng.")
    # the province file again, with another date: the commune's own fields stay
    again = (EventChange(code="bao-cao-nam", date="trước 10/11", message="Tỉnh."),)
    item = _by_code(resolve(again, file, admin))["bao-cao-nam"]
    assert (item.event.date, item.event.message) == ("trước 20/11", "Riêng.")


def test_commune_reimport_keeps_admin_changes_of_fields_the_file_does_not_write():
    admin = {"date": "trước 20/11", "lead_days": [7, 1]}
    assert admin_fields_after_reimport(admin, {"date": "trước 1/12"}) == {"lead_days": [7, 1]}
    assert admin_fields_after_reimport(admin, {}) == admin


def test_an_admin_change_of_an_event_gone_from_the_file_is_dropped():
    admin = {"ra-soat": {"active": False}}
    found = _by_code(resolve(PROVINCE, {}, admin))
    assert "ra-soat" not in found


def test_legacy_rows_keep_what_differs_from_the_default():
    default = {e.code: e for e in default_events()}["vi-chat-thang-6"]
    values = {**default.model_dump(mode="json"), "date": "30/6", "lead_days": [7, 1]}
    assert legacy_fields(values, default) == {"date": "30/6"}
    own = {"name": "Rà soát", "kind": "campaign", "date": "25/1", "lead_days": [3],
           "audience": ["all"], "message": "", "report_period": None, "active": True}
    assert legacy_fields(own, None) == {k: v for k, v in own.items() if v is not None}


def test_province_file_example_loads_with_its_deadlines():
    setup = load_any_setup_file(EXAMPLES / "binh-thuan.toml")
    assert isinstance(setup, ProvinceSetupFile)
    assert setup.deadline_rules() == {"6m": "trước 20/5", "year": "trước 20/11"}
    inherited = inherited_calendar(setup.events)
    assert inherited["bao-cao-6-thang"][0].date == "trước 15/5"
    assert inherited["bao-cao-nam"][0].date == "trước 15/11"
    assert "{report_to}" in inherited["bao-cao-nam"][0].message
    assert isinstance(load_any_setup_file(EXAMPLES / "minh-tan.toml"), CommuneSetupFile)


@pytest.mark.parametrize("body, words", [
    ('report_6m_by = "ngày 25 hằng tháng"', "20/5"),
    ('[[events]]\ncode = "moi"\nname = "Mới"', "date"),
    ('[[events]]\ncode = "bao-cao-nam"\ndate = "30/12 âm lịch"', "cuối tháng 12"),
    ('[[events]]\ncode = "bao-cao-nam"\n[[events]]\ncode = "bao-cao-nam"', "bao-cao-nam"),
])
def test_province_file_problems_are_readable(tmp_path, body, words):
    head = '[province]\ncode = "binh-thuan"\nname = "Tỉnh Bình Thuận"\n'
    if body.startswith("report"):
        head, body = head + body + "\n", ""
    path = tmp_path / "p.toml"
    path.write_text(head + body + "\n", "utf-8")
    with pytest.raises(SetupFileError) as caught:
        load_any_setup_file(path)
    assert words in str(caught.value)


@pytest.mark.parametrize("name, written", [
    ("Xã Minh Tân", "xã Minh Tân"), ("Phường Đông Sơn", "phường Đông Sơn"),
    ("Thôn Đông", "thôn Đông"), ("Tổ dân phố 3", "tổ dân phố 3"),
    ("Thị trấn Yên Lập", "thị trấn Yên Lập"), ("Tỉnh Bình Thuận", "tỉnh Bình Thuận"),
    ("Minh Tân", "Minh Tân"), ("Xã", "Xã"), ("Xãi Lý", "Xãi Lý"),
    ("Bản Lác", "bản Lác"),
])
def test_unit_names_inside_a_sentence(name, written):
    assert in_sentence(name) == written
