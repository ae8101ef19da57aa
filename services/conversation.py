"""What a person is in the middle of typing, decided in one place.

A person has at most one armed input at a time: a note, a reason, a message to or from a
reporter, a case being opened, a tracking code to look up, or the text of a broadcast. It
lives in the database (`pending_inputs`, and a broadcast draft without text), so a restart
or another instance sees the same truth. A report draft is different: it is a longer
conversation that a command interrupts and then resumes, never drops.

No Telegram here: the handlers decide which presses belong to the armed input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services import calendar as calendar_service
from services.cases import drop_input, pending_input
from storage import conversation as conversation_store
from storage import reports as report_store
from storage.conversation import FirstLook, OpenInputs


@dataclass(frozen=True)
class Armed:
    """The input waiting for this person's next message."""

    kind: str  # note | risk | close | relay | reply | open | lookup | broadcast
    case_code: str | None = None  # the case it is for, when it is for one
    has_text: bool = False  # a message already typed and waiting for confirmation


async def open_inputs(user_id: int, *, session: AsyncSession) -> OpenInputs:
    """One cheap look before every command or press: is anything armed, is a report open?
    Most people have neither, and then `armed` need not be asked."""
    return await conversation_store.open_inputs(user_id, session=session)


async def first_look(user_id: int, *, session: AsyncSession) -> FirstLook:
    """`open_inputs` and the sender's active membership, in the same one statement: the
    command or press that follows needs to know who is acting, and this saves it a read."""
    return await conversation_store.first_look(user_id, session=session)


async def armed(user_id: int, *, session: AsyncSession, now: dt.datetime) -> Armed | None:
    """What this person's next free text would become, if anything but a report answer."""
    pending = await pending_input(user_id, session=session, now=now)
    if pending is not None:
        code = None
        if pending.case_id is not None:
            case = await report_store.get_case(pending.case_id, session=session)
            report = (await report_store.get_report(case.report_id, session=session)
                      if case else None)
            code = report.code if report else None
        return Armed(pending.kind, code, has_text=bool(pending.data.get("text")))
    if await calendar_service.waiting_broadcast(user_id, session=session) is not None:
        return Armed("broadcast")
    return None


async def disarm(user_id: int, *, session: AsyncSession, now: dt.datetime) -> Armed | None:
    """Drop the armed input (a command or another button came first); returns what it was."""
    what = await armed(user_id, session=session, now=now)
    if what is None:
        return None
    if what.kind == "broadcast":
        await calendar_service.drop_waiting_broadcast(user_id, session=session)
    else:
        await drop_input(user_id, session=session)
    return what
