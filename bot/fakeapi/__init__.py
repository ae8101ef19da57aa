"""A fake Telegram Bot API server for tests, benchmarks and the terminal sandbox.

It speaks the Bot API over HTTP on 127.0.0.1 and refuses what Telegram refuses
(long texts, long callback data, malformed HTML, unknown chats, blocked users,
bursts over the rate limits), so the bot is tested the way it runs.
"""

from bot.fakeapi.driver import FakeGroup, FakeUser, SentMessage
from bot.fakeapi.server import FakeTelegram, Limits

__all__ = ["FakeGroup", "FakeTelegram", "FakeUser", "Limits", "SentMessage"]
