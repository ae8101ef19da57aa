"""Correcting a child's details on the register, end to end through the fake Telegram: a
collaborator fixes the name, the date of birth, the sex and the caregiver of a child of their
village (a bad date explained, a name that matches another record warned about), an officer
moves a child to another village, and what people do mid-way (an old button, a command, a
record changed by someone else while typing) leaves nothing half-saved."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from domain.register import Birth, register_match_key, sixteenth_birthday
from handlers import callback_data as cb
from storage.crypto import blind_index
from storage.models import AuditEntry, RegisterEvent, Unit
from tests.e2e import test_register as base
from tests.e2e.test_register import act, add_child, children

people = base.people


async def events(bot, child_id: int) -> list[RegisterEvent]:
    async with bot.db.session() as session:
        return list((await session.exec(select(RegisterEvent).where(
            RegisterEvent.child_id == child_id).order_by(RegisterEvent.id))).all())


async def test_a_collaborator_corrects_name_birth_sex_and_caregiver(bot, people):
    lan = people["dong"]
    card = await add_child(lan, "Nguyễn Văn Ann", "2015")
    (child,) = await children(bot)
    menu = await act(lan, press=card, label="Sửa thông tin")
    labels = [b["text"] for b in menu.buttons]
    assert "Họ và tên" in labels and "Ngày sinh" in labels and "Quan hệ" in labels
    assert "Thôn" not in labels  # a collaborator keeps the child in their village
    # The name: a date typed by mistake is explained, then the right name.
    prompt = await act(lan, press=menu, label="Họ và tên")
    assert "Hiện ghi: Nguyễn Văn Ann" in prompt.text
    problem = await act(lan, "3/4/2015")
    assert "không có chữ số" in problem.text and "Hiện ghi" in problem.text
    card = await act(lan, "Nguyễn Văn An")
    assert "Đã sửa: họ và tên" in card.text and "<b>Nguyễn Văn An</b>" in card.html
    # The date of birth: an impossible day, then the real one (the year known until now).
    prompt = await act(lan, press=await act(lan, press=card, label="Sửa thông tin"),
                       label="Ngày sinh")
    assert "năm 2015" in prompt.text
    problem = await act(lan, "30/2/2015")
    assert "Không có ngày này" in problem.text
    problem = await act(lan, "2009")
    assert "16 tuổi" in problem.text
    card = await act(lan, "ngày 3 tháng 4 năm 2015")
    assert "Đã sửa: ngày sinh" in card.text and "sinh 03/04/2015" in card.text
    # The sex and the caregiver's relation on buttons, the caregiver typed.
    sex = await act(lan, press=await act(lan, press=card, label="Sửa thông tin"),
                    label="Giới tính")
    card = await act(lan, press=sex, label="Nữ")
    assert "Đã sửa: giới tính" in card.text and "Nữ, sinh 03/04/2015" in card.text
    prompt = await act(lan, press=await act(lan, press=card, label="Sửa thông tin"),
                       label="Người chăm sóc")
    card = await act(lan, "Trần Thị Bính")
    assert "Người chăm sóc: Trần Thị Bính (ông bà)" in card.text
    relation = await act(lan, press=await act(lan, press=card, label="Sửa thông tin"),
                         label="Quan hệ")
    card = await act(lan, press=relation, label="Mẹ")
    assert "Trần Thị Bính (mẹ)" in card.text
    # The same value again: nothing written.
    sex = await act(lan, press=await act(lan, press=card, label="Sửa thông tin"),
                    label="Giới tính")
    same = await act(lan, press=sex, label="Nữ")
    assert "Không có gì thay đổi" in same.text

    (child,) = await children(bot)
    assert child.full_name == "Nguyễn Văn An" and child.sex == "female"
    assert child.birth_date == dt.date(2015, 4, 3) and child.birth_year == 2015
    assert child.leaves_on == sixteenth_birthday(Birth(2015, dt.date(2015, 4, 3)))
    assert child.match_key == register_match_key("Nguyễn Văn An", 2015, child.commune_id,
                                                 digest=blind_index)
    assert child.caregiver == "Trần Thị Bính" and child.caregiver_relation == "mother"
    edited = [e for e in await events(bot, child.id) if e.kind == "edited"]
    assert [e.changes["fields"] for e in edited] == [["name"], ["birth"], ["sex"],
                                                     ["caregiver"], ["relation"]]
    # The history names the fields, never the values (no name, no date of birth).
    stored = " ".join(str(e.changes) for e in edited)
    assert "An" not in stored and "2015" not in stored and "Bính" not in stored
    assert edited[2].changes["sex"] == {"from": "male", "to": "female"}
    history = await act(lan, press=card, label="Lịch sử")
    assert "Lan: sửa họ và tên" in history.text and "Lan: sửa ngày sinh" in history.text
    async with bot.db.session() as session:
        audits = (await session.exec(select(AuditEntry).where(
            AuditEntry.action == "child_edited"))).all()
    assert len(audits) == 5 and audits[0].details["fields"] == ["name"]


async def test_a_corrected_name_matching_another_record_is_warned(bot, people):
    lan = people["dong"]
    await add_child(lan, "Lò Văn Tú", "2014")
    card = await add_child(lan, "Lò Văn Tủ", "2015")  # another child, typed wrongly
    records = {c.full_name: c for c in await children(bot)}
    prompt = await act(lan, press=await act(lan, press=card, label="Sửa thông tin"),
                       label="Ngày sinh")
    warning = await act(lan, "2014")
    assert "có thể đã có trong danh sách của xã" in warning.text
    # The existing record opens; the correction still waits.
    existing = await act(lan, press=warning, label="Mở hồ sơ 1")
    assert "Lò Văn Tú" in existing.text and "năm 2014" in existing.text
    assert (await children(bot))[1].birth_year == 2015
    # It is another child after all: saved.
    anyway = warning.button("Vẫn lưu")["callback_data"]
    card = await act(lan, press=warning, data=anyway)
    assert "Đã sửa: ngày sinh" in card.text
    moved = next(c for c in await children(bot) if c.id == records["Lò Văn Tủ"].id)
    assert moved.birth_year == 2014
    # Pressed again: no longer open, nothing saved twice.
    again = await act(lan, press=card, data=anyway)
    assert "đã đóng" in again.text
    assert len([e for e in await events(bot, moved.id) if e.kind == "edited"]) == 1
    del prompt


async def test_an_officer_moves_a_child_to_another_village(bot, people):
    lan, officer, minh = people["dong"], people["officer"], people["doai"]
    await add_child(lan, "Đinh Thị Hằng", "2016")
    (child,) = await children(bot)
    card = await act(officer, press=await act(officer, "/tre"), data=cb.build("tre", "c",
                                                                               child.id))
    village = await act(officer, press=await act(officer, press=card, label="Sửa thông tin"),
                        label="Thôn")
    card = await act(officer, press=village, label="Thôn Đoài")
    assert "Đã sửa: thôn" in card.text and "Thôn: Thôn Đoài" in card.text
    # Now Thôn Đoài's collaborator has the child, Thôn Đông's no longer.
    listing = await act(minh, "/tre")
    assert "Đinh Thị Hằng" in listing.text
    assert "Đinh Thị Hằng" not in (await act(lan, "/tre")).text
    # A forged "move to another village" from a collaborator is refused.
    (child,) = await children(bot)
    async with bot.db.session() as session:
        dong = (await session.exec(select(Unit).where(Unit.name == "Thôn Đông"))).one()
    refused = await act(minh, press=listing, data=cb.build("tre", "ev", child.id,
                                                           child.revision, "village", dong.id))
    assert "không có quyền" in refused.text
    (child,) = await children(bot)
    assert child.village_id != dong.id


async def test_mid_edit_stale_buttons_commands_and_a_change_by_someone_else(bot, people):
    lan, officer = people["dong"], people["officer"]
    card = await add_child(lan, "Hà Văn Long", "2013")
    (child,) = await children(bot)
    edit_data = card.button("Sửa thông tin")["callback_data"]
    menu = await act(lan, press=card, data=edit_data)
    name_data = menu.button("Họ và tên")["callback_data"]
    sex_data = menu.button("Giới tính")["callback_data"]
    prompt = await act(lan, press=menu, data=name_data)
    # A command mid-way: dropped with a word; the next text is no name.
    dropped, listing = await act(lan, "/tre", replies=2)
    assert "Đã bỏ phần sửa thông tin" in dropped.text
    assert "chưa hiểu" in (await act(lan, "Hà Văn Lâm")).text
    assert (await children(bot))[0].full_name == "Hà Văn Long"
    # The record opened again from the list (it did not change)...
    card = await act(lan, press=listing, label="Hà Văn Long")
    prompt = await act(lan, press=await act(lan, press=card, label="Sửa thông tin"),
                       label="Họ và tên")
    assert "Hiện ghi: Hà Văn Long" in prompt.text
    # ...but the officer changes the record while Lan types: her name is not saved.
    officer_card = await act(officer, press=await act(officer, "/tre"),
                             data=cb.build("tre", "c", child.id))
    await act(officer, press=officer_card, label="BHYT")
    stale = await act(lan, "Hà Văn Lâm")
    assert "vừa thay đổi" in stale.text and "Hà Văn Long" in stale.text
    assert (await children(bot))[0].full_name == "Hà Văn Long"
    # The edit buttons drawn before the change are out of date too.
    stale = await act(lan, press=menu, data=sex_data)
    assert "vừa thay đổi" in stale.text
    stale = await act(lan, press=listing, data=edit_data)
    assert "vừa thay đổi" in stale.text
    # Cancel while typing: nothing saved.
    prompt = await act(lan, press=await act(lan, press=stale, label="Sửa thông tin"),
                       label="Người chăm sóc")
    cancelled = await act(lan, press=prompt, label="Hủy")
    assert "Chưa có gì được lưu" in cancelled.text
    await act(lan, "Ai đó")
    (child,) = await children(bot)
    assert child.caregiver == "Trần Thị Bình"
    # A child who has left cannot be corrected: the card says so, no edit button.
    reasons = await act(officer, press=officer_card, label="Ra khỏi danh sách")
    left = await act(officer, press=reasons, label="Không còn hoàn cảnh")
    assert "Sửa thông tin" not in " ".join(b["text"] for b in left.buttons)
    stale = await act(lan, press=menu, data=name_data)
    assert "vừa thay đổi" in stale.text
