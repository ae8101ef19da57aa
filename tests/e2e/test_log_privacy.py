"""Logs of a whole report at DEBUG carry none of the child's or the reporter's data, nor
the bot token."""

from __future__ import annotations

import io
import logging

from bot import logsafety
from bot.fakeapi.server import SANDBOX_TOKEN
from tests.e2e.flows import Reporter
from tests.e2e.test_data_rights import act, report_with_phone, take

STORY = "Cháu Hoàng Thị Mơ bị người chú trói tay ngoài vườn chuối."


async def test_a_report_at_debug_leaves_no_personal_data_in_the_logs(bot, officer):
    stream = io.StringIO()
    handler = logsafety.protect(logging.StreamHandler(stream), [SANDBOX_TOKEN])
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    before = root.level, {n: logging.getLogger(n).level for n in logsafety.THIRD_PARTY}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logsafety.cap_third_party("DEBUG")
    try:
        citizen = Reporter(bot.user(1001, "Thơm"))
        code, _identity = await report_with_phone(citizen, story=STORY)
        await officer.reply()
        card = await take(officer, code)
        details = await act(officer, press=card, label="Xem chi tiết")
        assert STORY in details.text
        kept = await act(citizen.user, "/xoathongtin")
        ask = await act(citizen.user, press=kept, label="Xóa liên hệ")
        await act(citizen.user, press=ask, label="Đồng ý, xóa")
        await officer.reply()
        # A library logging a request body at WARNING still goes through the filter.
        logging.getLogger("telegram.ext.ExtBot").warning(
            "Calling endpoint with {'chat_id': 1001, 'text': %r} via /bot%s/sendMessage",
            STORY, SANDBOX_TOKEN)
    finally:
        root.removeHandler(handler)
        root.setLevel(before[0])
        for name, level in before[1].items():
            logging.getLogger(name).setLevel(level)
    logs = stream.getvalue()
    assert "contact withdrawn report=" in logs and "Calling endpoint" in logs  # captured
    for secret in (STORY, "trói tay", "0912345678", "0912 345 678", "Thơm", SANDBOX_TOKEN,
                   SANDBOX_TOKEN.split(":")[1]):
        assert secret not in logs, secret
