"""The redacting filter and the caps on third-party loggers (bot.logsafety)."""

from __future__ import annotations

import io
import logging

from bot import logsafety

TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


def _through_filter(logger_name: str, level: int, msg: str, *args, exc: bool = False) -> str:
    stream = io.StringIO()
    handler = logsafety.protect(logging.StreamHandler(stream), ["webhook-secret-value-123"])
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        if exc:
            try:
                raise ValueError(f"bad token {TOKEN}")
            except ValueError:
                logger.exception(msg, *args)
        else:
            logger.log(level, msg, *args)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


def test_tokens_secrets_phones_invites_and_message_fields_are_masked():
    out = _through_filter(
        "test.redact", logging.INFO,
        "POST https://api.telegram.org/bot%s/sendMessage %s secret=%s invite t.me/x?start=%s",
        TOKEN, {"chat_id": 5, "text": "Bé bị đánh", "first_name": "Lan",
                "phone_number": "+84912345678"},
        "webhook-secret-value-123", "i_AbCdEf123456")
    for leaked in (TOKEN, "AAHfiqks", "Bé bị đánh", "'Lan'", "912345678",
                   "webhook-secret-value-123", "AbCdEf123456"):
        assert leaked not in out, (leaked, out)
    assert "chat_id" in out and "sendMessage" in out  # the rest stays readable


def test_reprs_and_spaced_phone_numbers_are_masked():
    text = ("Update(message=Message(chat=Chat(id=1001, type='private'), text=\"Em bé 'Na' "
            "khóc\", from_user=User(first_name='Hoa', id=1001)), update_id=7) 0912 345 678")
    out = logsafety.redact(text)
    assert "Em bé" not in out and "Hoa" not in out and "0912 345 678" not in out
    assert "id=1001" in out and "update_id=7" in out  # ids are what one needs to follow up


def test_a_traceback_is_masked_too():
    out = _through_filter("test.redact.exc", logging.ERROR, "failed for %s", "x", exc=True)
    assert "Traceback" in out and TOKEN not in out


def test_third_party_loggers_stay_at_info_or_above_in_debug_mode():
    before = {n: logging.getLogger(n).level for n in logsafety.THIRD_PARTY}
    try:
        logsafety.cap_third_party("DEBUG")
        for name in ("telegram.ext.ExtBot", "telegram.ext.Application", "aiosqlite"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        for name in ("httpx", "sqlalchemy.engine.Engine"):  # URLs, SQL parameters at INFO
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        logsafety.cap_third_party("ERROR")
        assert not logging.getLogger("telegram").isEnabledFor(logging.WARNING)
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
