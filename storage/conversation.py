"""What a person has open, and who they are: one statement for the check made before every
command or press."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.members import MemberBrief
from storage.models import Broadcast, Member, PendingInput, ReportDraft


@dataclass(frozen=True)
class OpenInputs:
    """Whether any row exists that could make this person's next text something other than
    a fresh start. A superset: the callers read the rows themselves when a flag is set."""

    pending_input: bool
    broadcast_without_text: bool
    report_draft: bool

    @property
    def armed(self) -> bool:
        return self.pending_input or self.broadcast_without_text


def _exists(table: type, *conditions: sa.ColumnElement[bool]) -> sa.Exists:
    return sa.exists().where(*conditions).select_from(table)


@dataclass(frozen=True)
class FirstLook:
    """What one statement tells about the sender of a command or press."""

    inputs: OpenInputs
    member: MemberBrief | None  # their active membership; None: a citizen


_user = sa.bindparam("user_id")
_FLAGS = (
    _exists(PendingInput, PendingInput.user_id == _user),
    _exists(Broadcast, Broadcast.created_by == _user, Broadcast.status == "draft",
            sa.or_(Broadcast.text == "", Broadcast.text.is_(None))),
    _exists(ReportDraft, ReportDraft.user_id == _user),
)
# Built once: the statements are the same for every update (SQLAlchemy caches the compiled
# form by the object's cache key, computed once).
_OPEN_INPUTS = sa.select(*_FLAGS)
# One row whether or not the sender is a member: the flags, and the member's columns or
# NULLs (a one-row anchor, left-joined to the active membership; telegram_user_id is unique).
_ANCHOR = sa.select(sa.literal(1).label("one")).subquery("anchor")
_FIRST_LOOK = sa.select(
    *_FLAGS, Member.id, Member.role, Member.unit_id, Member.agency_id,
).select_from(_ANCHOR.outerjoin(Member, sa.and_(Member.telegram_user_id == _user,
                                                Member.active.is_(True))))


async def open_inputs(user_id: int, *, session: AsyncSession) -> OpenInputs:
    row = (await session.exec(_OPEN_INPUTS, params={"user_id": user_id})).one()
    return OpenInputs(*(bool(flag) for flag in row))


async def first_look(user_id: int, *, session: AsyncSession) -> FirstLook:
    row = (await session.exec(_FIRST_LOOK, params={"user_id": user_id})).one()
    inputs = OpenInputs(*(bool(flag) for flag in row[:3]))
    member = MemberBrief(*row[3:]) if row[3] is not None else None
    return FirstLook(inputs, member)
