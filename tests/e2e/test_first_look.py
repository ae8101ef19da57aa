"""Who acts is read once per command or press: the check made before it (is an input armed,
is a report open?) reads the sender's membership in the same statement, and the update's
first unit of work uses it (handlers/interruptions.py, handlers/common.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from bot.fakeapi.driver import FakeUser
from tests.e2e.flows import Reporter, act
from tests.e2e.test_conversation import until_story


@contextlib.contextmanager
def _statements(bot) -> Iterator[list[str]]:
    """The text of every statement the bot sends to its database while the block runs."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        sent.append(" ".join(statement.split()))

    engine = bot.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _member_reads(sent: list[str]) -> list[str]:
    return [s for s in sent
            if s.startswith("SELECT") and ("FROM members" in s or "JOIN members" in s)]


async def test_a_citizens_command_reads_the_database_once(bot):
    citizen = FakeUser(bot.fake, 3101, "Lan")
    await act(citizen, "/start")
    with _statements(bot) as sent:
        help_text = await act(citizen, "/help")
    assert "/baotin" in help_text.text and "Dành cho cán bộ" not in help_text.text
    # The check before the command (flags and membership in one statement), and nothing
    # else: /help needs no more, so its unit of work sends no BEGIN or COMMIT either.
    assert len(sent) == 1, sent
    assert "EXISTS" in sent[0] and "LEFT OUTER JOIN members" in sent[0]


async def test_an_officers_command_is_answered_as_an_officer_without_reading_again(bot,
                                                                                   officer):
    with _statements(bot) as sent:
        help_text = await act(officer, "/help")
    assert "Dành cho cán bộ" in help_text.text  # the membership the first look read
    assert len(_member_reads(sent)) == 1, sent


async def test_a_later_handler_of_the_same_update_reads_the_membership_again(bot, officer):
    """/help in the middle of a report: /help's unit of work uses the first look; the
    report's question asked again after it (a later handler group, which could follow a
    change of membership in the same update) reads who acts itself."""
    await until_story(Reporter(officer))
    with _statements(bot) as sent:
        officer.mark()
        await officer.send("/help")
        help_text, again, question = await officer.replies(3)
    assert "Dành cho cán bộ" in help_text.text
    assert "báo tin dở" in again.text
    assert len(_member_reads(sent)) == 2, sent
    first, later = _member_reads(sent)
    assert "EXISTS" in first and "EXISTS" not in later


async def test_a_member_deactivated_before_a_command_is_a_citizen_for_it(bot, officer):
    """The first look is made for every update: nothing about a membership outlives it."""
    async with bot.db.session() as session:
        await session.exec(sa.text("UPDATE members SET active = false "
                                   "WHERE telegram_user_id = :user"), params={"user": officer.id})
    help_text = await act(officer, "/help")
    assert "Dành cho cán bộ" not in help_text.text


async def test_the_menu_knows_of_an_unsent_report_from_the_first_look(bot):
    """/start: whether a report is open comes from the check before the command (drafts are
    made only in the person's own chat, handled one update at a time), and is right both
    ways."""
    reporter = Reporter(FakeUser(bot.fake, 3102, "Mai"))
    with _statements(bot) as sent:
        (menu,) = await reporter.say("/start")
    assert "Bạn có một tin báo chưa gửi" not in menu.text
    assert not [s for s in sent if "FROM report_drafts" in s and "EXISTS" not in s], sent
    await until_story(reporter)
    reporter.user.mark()
    with _statements(bot) as sent:
        await reporter.user.send("/start")
        menu, *_question = await reporter.user.replies(1)
        await reporter.user.settle()
    assert "Bạn có một tin báo chưa gửi" in menu.text
    # No read of the draft besides the check (the menu offers to go on with the report, so
    # the question is not asked again after /start).
    assert not [s for s in sent if "FROM report_drafts" in s and "EXISTS" not in s], sent


async def test_a_first_look_too_old_is_read_again(bot, officer, monkeypatch):
    """A unit of work that waited long for the database (under load) does not trust the
    membership read before the wait: it reads it again, so a revocation made meanwhile
    counts. Here every look counts as too old."""
    import handlers.common

    monkeypatch.setattr(handlers.common, "FIRST_LOOK_FRESH_SECONDS", -1.0)
    with _statements(bot) as sent:
        help_text = await act(officer, "/help")
    assert "Dành cho cán bộ" in help_text.text
    first, again = _member_reads(sent)
    assert "EXISTS" in first and "EXISTS" not in again
