"""The decree's forms filled from a case, for the officer to print and sign. No Telegram.

Who may: the commune's officers and administrators who can see the case
(CaseRight.EXPORT_FORMS). The person who reported appears on the form only for the officer
handling the case, as on the card. Every export is recorded in the audit log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_access import CaseRight
from domain.decree_forms import (
    FORMS,
    FormCode,
    Informant,
    ReceiptFacts,
    file_name,
    fill_receipt,
)
from domain.errors import NotFound
from domain.roles import Actor
from services import cases as cases_service
from services import form_docx
from storage import audit, units
from storage import reports as store


@dataclass(frozen=True)
class ExportedForm:
    case_code: str
    code: FormCode
    full_name: str  # "Mẫu số 01: Báo cáo tiếp nhận thông tin trẻ em"
    file_name: str
    docx: bytes


async def _place(report, session: AsyncSession) -> str:  # noqa: ANN001
    parts = []
    if report.village_id:
        village = await units.get_unit(report.village_id, session=session)
        if village is not None:
            parts.append(village.name)
    if report.address:
        parts.append(report.address)
    if report.latitude is not None and report.longitude is not None:
        parts.append(f"vị trí {report.latitude:.5f}, {report.longitude:.5f}")
    return "; ".join(parts)


async def export_form(actor: Actor, case_id: int, code: FormCode, *, session: AsyncSession,
                      now: dt.datetime, tz: dt.tzinfo, file: str = "docx") -> ExportedForm:
    """The form filled from the case, as a .docx; NotAllowed for who may not (the handler
    records the refusal), NotFound for a form the bot does not make. `file`: the file it is
    for ("docx", or "pdf" made from it), as the audit records it."""
    if code not in FORMS:
        raise NotFound("form")
    loaded = await cases_service.load(actor, case_id, CaseRight.EXPORT_FORMS, session=session)
    case, report = loaded.case, loaded.report
    informant = None
    if CaseRight.VIEW_REPORTER in loaded.rights:
        reporter = await store.get_reporter(report.id, session=session)
        if reporter is not None:
            informant = Informant(anonymous=reporter.anonymous, name=reporter.name,
                                  phone=reporter.phone, relation=reporter.relation)
    commune = await units.get_unit(case.commune_id, session=session)
    additions = await store.list_additions(report.id, session=session)
    facts = ReceiptFacts(
        commune_name=commune.name if commune else "",
        case_code=report.code,
        received_at=report.created_at.astimezone(tz),
        written_on=now.astimezone(tz).date(),
        channel=report.channel,
        category=report.category,
        urgent=case.urgent,
        age_group=report.age_group,
        child_count=report.child_count,
        child_name=report.child_name,
        place=await _place(report, session),
        story=report.story,
        additions=tuple(a.text for a in additions if a.text),
        informant=informant,
        child_sex=case.child_sex,
    )
    filled = fill_receipt(facts)
    await audit.record(session=session, at=now, actor_user_id=actor.user_id,
                       action="case_form_exported", object_type="case", object_id=case.id,
                       unit_id=case.commune_id, form=code.value, file=file,
                       with_reporter=informant is not None)
    return ExportedForm(case_code=report.code, code=code, full_name=filled.spec.full_name,
                        file_name=file_name(code, report.code),
                        # ~0.1 s of CPU: off the event loop, other chats keep being answered
                        docx=await asyncio.to_thread(form_docx.render, filled))
