"""A report and its case with recognisable sensitive strings in every encrypted field."""

from __future__ import annotations

import datetime as dt
import pathlib

import sqlalchemy as sa
from sqlmodel import select

from domain.roles import UnitKind
from storage import data_key
from storage.models import (
    Case,
    CaseEvent,
    CaseReferral,
    Delivery,
    PendingInput,
    Report,
    ReportAddition,
    ReportDraft,
    ReportMedia,
    ReportReporter,
    Unit,
)

SECRETS = {
    "story": "Bé Hoa bị bố dượng đánh bầm tím tay",
    "child_name": "Trần Thị Hoa",
    "address": "Ngõ 7 xóm Đình Sẹo",
    "reporter_name": "Lê Văn Báo Tin",
    "phone": "0987654321",
    "addition": "Hôm nay lại nghe tiếng khóc",
    "note": "Đã gặp cô giáo chủ nhiệm",
    "public_note": "Cán bộ đã đến thăm gia đình",
    "referral": "Chuyển công an xác minh gấp",
    "relay": "Chào bác, cháu là cán bộ xã",
    "draft": "Em hàng xóm bị bỏ đói",
    "pending": "Tin nhắn đang gõ dở",
}
LATITUDE, LONGITUDE = 20.2506149, 105.9744536


async def commune_id(session) -> int:
    return (await session.exec(select(Unit.id).where(Unit.kind == UnitKind.COMMUNE))).first()


async def seed_case(session, *, now: dt.datetime, code: str = "AB12CD34", user_id: int = 1001,
                    status: str = "received", closed_at: dt.datetime | None = None,
                    category: str = "violence") -> tuple[Report, Case]:
    cid = await commune_id(session)
    report = Report(code=code, commune_id=cid, category=category, urgent=False,
                    age_group="6-10", child_name=SECRETS["child_name"],
                    story=SECRETS["story"], address=SECRETS["address"], latitude=LATITUDE,
                    longitude=LONGITUDE, created_at=now)
    session.add(report)
    await session.flush()
    session.add(ReportReporter(report_id=report.id, telegram_user_id=user_id, anonymous=False,
                               name=SECRETS["reporter_name"], phone=SECRETS["phone"],
                               relation="neighbour"))
    session.add(ReportMedia(report_id=report.id, kind="photo", file_id="AgACphoto-file-id",
                            added_at=now))
    session.add(ReportAddition(report_id=report.id, text=SECRETS["addition"], created_at=now))
    case = Case(report_id=report.id, commune_id=cid, status=status, created_at=now,
                updated_at=now, public_note=SECRETS["public_note"], closed_at=closed_at,
                closure_reason="resolved" if closed_at else None)
    session.add(case)
    await session.flush()
    session.add(CaseEvent(case_id=case.id, at=now, kind="note", note=SECRETS["note"],
                          media_kind="photo", file_id="AgACnote-photo"))
    session.add(CaseEvent(case_id=case.id, at=now, kind="relay_out", note=SECRETS["relay"]))
    session.add(CaseReferral(case_id=case.id, agency_id=None or await _agency(session, cid),
                             referred_at=now, referred_by=1, note=SECRETS["referral"]))
    session.add(Delivery(case_id=case.id, text=SECRETS["relay"], chat_id=user_id,
                         status="sent", due_at=now, kind="relay"))
    await session.flush()
    return report, case


async def seed_draft_and_input(session, *, now: dt.datetime, case_id: int) -> None:
    session.add(ReportDraft(user_id=2002, step="story", answers={"story": SECRETS["draft"]},
                            created_at=now, updated_at=now))
    session.add(PendingInput(user_id=3003, kind="relay", case_id=case_id,
                             data={"text": SECRETS["pending"]}, created_at=now))
    await session.flush()


async def _agency(session, cid: int) -> int:
    from storage.models import Agency

    return (await session.exec(select(Agency.id).where(Agency.commune_id == cid))).first()


async def raw_encrypted_values(db) -> list[str]:
    """Every stored value of every encrypted column, as the database holds it."""
    values = []
    async with db.engine.connect() as conn:
        for col in data_key.encrypted_columns():
            rows = await conn.execute(sa.text(
                f'SELECT CAST("{col.column}" AS TEXT) FROM "{col.table}"'))
            values += [v for (v,) in rows if v is not None]
    return values


def database_bytes(db) -> bytes:
    path = pathlib.Path(db.engine.url.database)
    return b"".join(p.read_bytes() for p in (path, pathlib.Path(f"{path}-wal")) if p.exists())
