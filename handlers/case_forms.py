"""The decree's forms from the case card: "📄 Forms" → choose the form → the filled .docx
(and a PDF where LibreOffice is installed) in the officer's private chat, for printing and
signing. Only in a private chat; rights re-checked on every press; every export audited."""

from __future__ import annotations

import logging

from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.i18n import _
from domain.case_access import CaseRight
from domain.decree_forms import FORMS, FormCode
from domain.errors import NotFound
from handlers import callback_data as cb
from handlers.callback_data import StaleButton
from handlers.cases import CF, card_button_data
from handlers.common import Reply, Request, handles, keyboard
from services import case_forms as service
from services import cases as cases_service
from services import form_pdf
from services.identity import resolve_actor

log = logging.getLogger(__name__)


def _private(request: Request) -> bool:
    chat = request.update.effective_chat
    return chat is not None and chat.type == "private"


def _only_private() -> Reply:
    return Reply(_("Forms are sent only in your private chat with me, because they hold a "
                   "child's data. Please open the case there with /case."))


@handles
async def choose_form(request: Request) -> Reply:
    """Shows the forms the bot can fill for this case."""
    if not _private(request):
        return _only_private()
    case_id = request.callback.int_arg(0)
    loaded = await cases_service.load(request.actor, case_id, CaseRight.EXPORT_FORMS,
                                      session=request.session)
    lines = [_("📄 <b>Forms of Decree 56/2017/NĐ-CP for case {code}</b>").format(
                 code=loaded.report.code), "",
             _("I fill in what the case already holds; the rest is left blank for you to write "
               "by hand. Please check the form before you sign it."), "",
             _("Form No. 06 (the review after the support plan) is not available: I have not "
               "found the full official text of that form.")]
    rows = [[(spec.full_name, cb.build(CF, "mk", case_id, spec.code))] for spec in FORMS.values()]
    rows.append([(_("Back to the case"), card_button_data(case_id))])
    return Reply("\n".join(lines), keyboard(rows), edit=True)


@handles
async def make_form(request: Request) -> Reply:
    """Fills the chosen form from the case and sends it as a file (audited)."""
    if not _private(request):
        return _only_private()
    case_id = request.callback.int_arg(0)
    try:
        code = FormCode(request.callback.args[1])
    except (IndexError, ValueError):
        raise StaleButton("unknown form") from None
    if code not in FORMS:
        raise NotFound("form")
    loaded = await cases_service.load(request.actor, case_id, CaseRight.EXPORT_FORMS,
                                      session=request.session)
    # Outbox rows: the form is filled (and the export audited) when it is sent. One row per
    # file, so a failed PDF is retried alone and never sends the .docx a second time.
    await request.owe("form", {"case_id": case_id, "form": code.value, "file": "docx"})
    if form_pdf.converter() is not None:
        await request.owe("form", {"case_id": case_id, "form": code.value, "file": "pdf"})
    return Reply(_("📄 {form}, filled from case {code}: the file follows. Parts the case does "
                   "not know are left blank for you to fill in.").format(
                       form=FORMS[code].full_name, code=loaded.report.code),
                 keyboard([[(_("Back to the case"), card_button_data(case_id))]]))


async def send_owed_form(bot, runtime, delivery) -> int | None:  # noqa: ANN001
    """The outbox's "form" rows: fills the form for the person (rights as they are now,
    audited) and sends one file: the .docx, or its PDF (none where LibreOffice is missing or
    the conversion fails). A row queued before rows were made per file (no "file") sends
    the .docx, then the PDF, as it did then."""
    payload = delivery.payload
    chat_id = delivery.chat_id  # the officer's private chat: their user id
    file = payload.get("file")
    async with runtime.db.session() as session:
        actor = await resolve_actor(chat_id, session=session,
                                    superadmin_ids=runtime.settings.admin_ids)
        form = await service.export_form(actor, int(payload["case_id"]),
                                         FormCode(payload["form"]), session=session,
                                         now=runtime.clock.now(), tz=runtime.tz,
                                         file=file or "docx")
    caption = _("{form} – case {code}").format(form=form.full_name, code=form.case_code)
    if file == "pdf":
        return await _send_pdf(bot, chat_id, form, caption)
    message = await bot.send_document(chat_id, form.docx, filename=form.file_name,
                                      caption=caption)
    if file is None:
        try:
            await _send_pdf(bot, chat_id, form, caption)
        except (BadRequest, Forbidden) as exc:  # the .docx went: the row is sent
            # The delivery row's id, not the case code: the code is the reporter's code.
            log.warning("could not send the PDF of form %s (delivery %s): %s", form.code,
                        delivery.id, exc.__class__.__name__)
    return message.message_id


async def _send_pdf(bot, chat_id: int, form, caption: str) -> int | None:  # noqa: ANN001
    pdf = await form_pdf.to_pdf(form.docx)
    if pdf is None:
        return None
    message = await bot.send_document(chat_id, pdf, caption=caption,
                                      filename=form.file_name.removesuffix(".docx") + ".pdf")
    return message.message_id


def build_handlers() -> list[BaseHandler]:
    p = cb.pattern(CF)
    return [
        CallbackQueryHandler(choose_form, pattern=p + r"ask:\d+$"),
        CallbackQueryHandler(make_form, pattern=p + r"mk:\d+:[a-z0-9]+$"),
    ]

