"""What a person has open: one statement for the check made before every command or press."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Broadcast, PendingInput, ReportDraft


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


_user = sa.bindparam("user_id")
# Built once: the statement is the same for every update (SQLAlchemy caches its compiled
# form by this object's cache key, computed once).
_OPEN_INPUTS = sa.select(
    _exists(PendingInput, PendingInput.user_id == _user),
    _exists(Broadcast, Broadcast.created_by == _user, Broadcast.status == "draft",
            sa.or_(Broadcast.text == "", Broadcast.text.is_(None))),
    _exists(ReportDraft, ReportDraft.user_id == _user),
)


async def open_inputs(user_id: int, *, session: AsyncSession) -> OpenInputs:
    row = (await session.exec(_OPEN_INPUTS, params={"user_id": user_id})).one()
    return OpenInputs(*(bool(flag) for flag in row))
