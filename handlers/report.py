"""A citizen reports a risk to a child: a guided, safe chat that never loses an answer.

The draft in the database is the conversation state (not user_data, not a
ConversationHandler's memory): every answer is saved at once, so a restart, a
second instance or a week-old button all see the same truth. Each step has one
`ask_*` renderer; each callback stores one answer and asks the next question.
"""

from __future__ import annotations

from telegram import (
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.i18n import _, vi_datetime, vi_number
from domain.errors import InvalidInput
from domain.names import in_sentence, matches
from domain.reports import (
    CHILD_COUNTS,
    MAX_MEDIA,
    MAX_STORY_CHARS,
    AgeGroup,
    Category,
    Relation,
    Step,
    looks_like_contact,
    normalise_tracking_code,
    split_contact,
    story_used,
)
from domain.roles import UnitKind
from domain.text import is_blank
from handlers import callback_data as cb
from handlers import cases
from handlers.calendar import take_broadcast_text
from handlers.common import Reply, Request, handles, keyboard, message_for
from handlers.fallback import not_understood_reply
from handlers.texts import (
    age_name,
    capitalised,
    category_name,
    count_name,
    esc,
    hotline_block,
    public_status_name,
    relation_name,
)
from services import cases as cases_service
from services import conversation, profile
from services import reports as service
from storage.models import ReportDraft
from storage.units import get_unit, list_children, list_communes

RP = "rp"
COMMUNES_PER_PAGE = 8
STORY_PREVIEW = 900


def _cancel_button(draft: ReportDraft) -> tuple[str, str]:
    return (_("✖️ Cancel"), cb.build(RP, "x", draft.id))


def _footer(draft: ReportDraft) -> list[tuple[str, str]]:
    """Every question's way back: to the review while editing from it; otherwise to the
    question before, and cancelling the report."""
    if draft.editing:
        return [(_("↩️ Back to the review"), cb.build(RP, "rv", draft.id))]
    row = [_cancel_button(draft)]
    if draft.answers.get("trail"):
        row.insert(0, (_("↩️ Back"), cb.build(RP, "b", draft.id, draft.step)))
    return row


def _used(draft: ReportDraft) -> str:
    return _("{used}/{limit} characters used").format(
        used=vi_number(story_used(draft.answers)), limit=vi_number(MAX_STORY_CHARS))


# --- questions ----------------------------------------------------------------------------


async def ask(request: Request, draft: ReportDraft) -> list[Reply]:
    """The question for the step the draft waits for."""
    step = Step(draft.step)
    d = draft.id
    if step is Step.DANGER:
        return [Reply(_("🆘 <b>Is a child in danger right now?</b>\n"
                        "For example: being beaten, taken away, hurt, or near deep water."),
                      keyboard([[(_("🚨 Yes, right now"), cb.build(RP, "d", d, 1))],
                                [(_("No, but the child needs help"), cb.build(RP, "d", d, 0))],
                                _footer(draft)]))]
    if step is Step.COMMUNE:
        return [await _ask_commune(request, draft, page=0)]
    if step is Step.CATEGORY:
        buttons = [(category_name(c), cb.build(RP, "c", d, c)) for c in Category]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        return [Reply(_("<b>What is happening to the child?</b>"),
                      keyboard([*rows, _footer(draft)]))]
    if step is Step.PLACE:
        return [await _ask_place(request, draft)]
    if step is Step.ADDRESS:
        return [Reply(_("Please type the address or describe the place (for example: near the "
                        "bridge, hamlet 3, the house of Mr A). Up to 300 characters."),
                      keyboard([_footer(draft)]))]
    if step is Step.AGE:
        buttons = [(capitalised(age_name(a)), cb.build(RP, "a", d, a)) for a in AgeGroup]
        return [Reply(_("<b>About how old is the child?</b>"),
                      keyboard([buttons[:2], buttons[2:4], buttons[4:], _footer(draft)]))]
    if step is Step.COUNT:
        buttons = [(count_name(n), cb.build(RP, "n", d, n)) for n in CHILD_COUNTS]
        return [Reply(_("<b>How many children is this about?</b>"),
                      keyboard([buttons, _footer(draft)]))]
    if step is Step.NAME:
        return [Reply(_("If you know the child's name, you can type it.\n"
                        "<b>This is not required</b> – you can skip it."),
                      keyboard([[(_("Skip ➡️"), cb.build(RP, "skipname", d))],
                                _footer(draft)]))]
    if step is Step.STORY:
        if draft.editing and draft.answers.get("rewrite"):
            text = _("<b>Tell it again from the start</b> in one or several messages. The "
                     "description you wrote stays until your first new message arrives.")
        elif draft.editing:
            text = _("<b>Send what you want to add</b> to the description ({used}).").format(
                used=_used(draft))
        else:
            text = _("<b>Tell us briefly what you saw or heard</b>: what happened, when, who "
                     "was involved. Up to {limit} characters, in one or several messages. You "
                     "can also send photos or a voice message.").format(
                         limit=vi_number(MAX_STORY_CHARS))
        return [Reply(text, keyboard([_footer(draft)]))]
    if step is Step.MEDIA:
        count = len(draft.answers.get("media", []))
        return [Reply(_("Saved ({used}; {count}/{limit} photos or voice messages). If there is "
                        "more, just send it: more text, photos or a voice message. When you "
                        "are done, press Continue.")
                      .format(used=_used(draft), count=count, limit=MAX_MEDIA),
                      keyboard([[(_("Continue ➡️"), cb.build(RP, "more", d))],
                                _footer(draft)]))]
    if step is Step.IDENTITY:
        return [Reply(_("Thank you. If you have photos or a voice message, you can send them "
                        "now.\n\n"
                        "<b>Would you like to leave your name and phone number?</b>\n"
                        "Only the officer handling the case will see them. You can stay "
                        "anonymous – the report is handled just the same.")
                      + "\n\n" + consent_notice(),
                      keyboard([[(_("🙈 Stay anonymous"), cb.build(RP, "anon", d, 1))],
                                [(_("👤 Leave my name and phone"), cb.build(RP, "anon", d, 0))],
                                _footer(draft)]))]
    if step is Step.CONTACT:
        share = ReplyKeyboardMarkup([[KeyboardButton(_("📱 Send my phone number"),
                                                     request_contact=True)],
                                     [KeyboardButton(stay_anonymous_label())],
                                     [KeyboardButton(back_label())]],
                                    resize_keyboard=True, one_time_keyboard=True)
        return [Reply(_("Please type your phone number and, if you like, your name – for "
                        "example: 0912 345 678 Lan. Or press the button below to send your "
                        "number. You can still stay anonymous."), share)]
    if step is Step.RELATION:
        buttons = [(relation_name(r), cb.build(RP, "rel", d, r)) for r in Relation]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        return [Reply(_("<b>Who are you to the child?</b>"),
                      keyboard([*rows, _footer(draft)]))]
    if step is Step.REVIEW:
        return [await _review(request, draft)]
    if step is Step.ADDITION:
        return [Reply(_("Send the extra information (text, photos or a voice message). "
                        "When you are done, press Send."),
                      keyboard([[(_("📨 Send the information"), cb.build(RP, "addok", d))],
                                _footer(draft)]))]
    raise AssertionError(step)


def consent_notice() -> str:
    """What is kept, who sees it, for how long, how to have it deleted; and, gently, that a
    child telling about themself needs nobody's permission to get help. Leaving a name or
    phone after reading it is the consent recorded with the report."""
    return _("ℹ️ <i>What is kept: your report, and your name and phone only if you leave them. "
             "Who sees them: the commune's child-protection officers see the report; your name "
             "and phone, only the officer handling it. For how long: according to the "
             "commune's records-keeping rules. You can have your name and phone deleted at any "
             "time with /xoathongtin.</i>\n"
             "If you are a child and this is about you, you do not need permission from your "
             "parents or anyone else to get help.")


async def _ask_commune(request: Request, draft: ReportDraft, page: int) -> Reply:
    communes = await list_communes(session=request.session)
    pages = max(1, -(-len(communes) // COMMUNES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = communes[page * COMMUNES_PER_PAGE:(page + 1) * COMMUNES_PER_PAGE]
    rows = [[(c.name, cb.build(RP, "cm", draft.id, c.id))] for c in chunk]
    nav = []
    if page > 0:
        nav.append(("◀️", cb.build(RP, "cmp", draft.id, page - 1)))
    if page < pages - 1:
        nav.append(("▶️", cb.build(RP, "cmp", draft.id, page + 1)))
    rows += [nav] if nav else []
    return Reply(_("<b>In which commune is this happening?</b>"),
                 keyboard([*rows, _footer(draft)]), edit=request.callback is not None
                 and request.callback.action == "cmp")


VILLAGES_PER_PAGE = 10
TYPED_LABEL_CHARS = 14


async def _ask_place(request: Request, draft: ReportDraft, page: int = 0,
                     filtered: bool | None = None) -> Reply:
    """The villages a page at a time (a commune may have a hundred; Telegram takes at most
    100 buttons), or those matching what the person typed, with that text as an address."""
    villages = await list_children(draft.answers["commune_id"], session=request.session,
                                   kind=UnitKind.VILLAGE)
    typed = draft.answers.get("place_typed")
    filtered = bool(typed) if filtered is None else filtered and bool(typed)
    shown = [v for v in villages if matches(typed, v.name)] if filtered else list(villages)
    pages = max(1, -(-len(shown) // VILLAGES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    chunk = shown[page * VILLAGES_PER_PAGE:(page + 1) * VILLAGES_PER_PAGE]
    buttons = [(v.name, cb.build(RP, "v", draft.id, v.id)) for v in chunk]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    flag = int(filtered)
    nav = []
    if page > 0:
        nav.append((_("◀️ Previous"), cb.build(RP, "vp", draft.id, page - 1, flag)))
    if page < pages - 1:
        nav.append((_("Next ▶️"), cb.build(RP, "vp", draft.id, page + 1, flag)))
    rows += [nav] if nav else []
    if filtered:
        short = typed if len(typed) <= TYPED_LABEL_CHARS else typed[:TYPED_LABEL_CHARS - 1] + "…"
        rows.append([(_("✍️ Use “{text}” as the address").format(text=short),
                      cb.build(RP, "addrq", draft.id))])
        rows.append([(_("🏘 All villages"), cb.build(RP, "vp", draft.id, 0, 0))])
        text = _("<b>Where is this happening?</b> These villages match “{typed}”. Choose one, "
                 "or use what you typed as the address.").format(typed=esc(typed))
    else:
        rows.append([(_("✍️ Type an address"), cb.build(RP, "addr", draft.id))])
        text = _("<b>Where is this happening?</b> Choose the village, type an address, or "
                 "send a location (📎 → Location).")
        if pages > 1:
            text += "\n" + _("Page {page}/{pages}. You can also type part of the village's "
                             "name.").format(page=page + 1, pages=pages)
    rows.append(_footer(draft))
    return Reply(text, keyboard(rows), edit=request.callback is not None
                 and request.callback.action == "vp")


async def _typed_place(request: Request, draft: ReportDraft, text: str) -> list[Reply]:
    """Typed at the place question: matching villages are offered with the text as an
    address; text that names no village is the address."""
    s, now = request.session, request.now
    villages = await list_children(draft.answers["commune_id"], session=s, kind=UnitKind.VILLAGE)
    if any(matches(text, v.name) for v in villages):
        return await _apply(request, draft, service.keep_typed_place(draft, text, session=s,
                                                                     now=now))
    return await _apply(request, draft, service.set_address(draft, text, session=s, now=now))


async def _place_text(request: Request, answers: dict) -> str:
    if answers.get("village_id"):
        village = await get_unit(answers["village_id"], session=request.session)
        commune = await get_unit(village.parent_id, session=request.session)
        return f"{esc(village.name)}, {esc(commune.name)}"
    if answers.get("address"):
        return esc(answers["address"])
    if answers.get("location"):
        lat, lon = answers["location"]
        return _("location sent ({lat}, {lon})").format(lat=lat, lon=lon)
    return _("not given")


async def _review(request: Request, draft: ReportDraft) -> Reply:
    a = draft.answers
    story = a.get("story", "")
    if len(story) > STORY_PREVIEW:
        story = story[:STORY_PREVIEW] + "…"
    child = f"{age_name(a['age_group'])}, {count_name(a.get('child_count', 1))}"
    if a.get("child_name"):
        child += f", {esc(a['child_name'])}"
    if a.get("anonymous"):
        who = _("anonymous")
    else:
        who = ", ".join(esc(x) for x in (a.get("reporter_name"), a.get("reporter_phone")) if x)
    who += f" ({relation_name(a.get('relation'))})"
    lines = [
        _("<b>Please check your report</b>"),
        "",
        _("🚨 Danger right now: {answer}").format(answer=_("yes") if a.get("urgent") else _("no")),
        _("📋 What is happening: {category}").format(category=category_name(a["category"])),
        _("📍 Where: {place}").format(place=await _place_text(request, a)),
        _("👧 Child: {child}").format(child=child),
        _("📝 What you saw ({used}): {story}").format(used=_used(draft),
                                                      story=esc(story) or _("(none)")),
        _("🖼 Photos and voice messages: {count}").format(count=len(a.get("media", []))),
        _("👤 You: {who}").format(who=who),
        "",
        _("Nothing is sent until you press <b>Send the report</b>."),
    ]
    d = draft.id
    return Reply("\n".join(lines), keyboard([
        [(_("✏️ Danger"), cb.build(RP, "e", d, "danger")),
         (_("✏️ What"), cb.build(RP, "e", d, "category"))],
        [(_("✏️ Where"), cb.build(RP, "e", d, "place")),
         (_("✏️ Child"), cb.build(RP, "e", d, "child"))],
        [(_("✏️ Story"), cb.build(RP, "es", d)),
         (_("✏️ About you"), cb.build(RP, "e", d, "identity"))],
        [(_("✅ Send the report"), cb.build(RP, "send", d))],
        [_cancel_button(draft)],
    ]))


def _story_screen(draft: ReportDraft) -> Reply:
    """The whole description as it is, and what can be done with it: never replaced silently."""
    d = draft.id
    story = draft.answers.get("story", "")
    text = "\n".join([_("📝 <b>Your description</b> ({used}):").format(used=_used(draft)), "",
                      esc(story) or _("(none)"), "",
                      _("Would you like to add to it, or tell it again from the start?")])
    return Reply(text, keyboard([
        [(_("➕ Add more"), cb.build(RP, "sta", d)),
         (_("🔄 Tell it again"), cb.build(RP, "str", d))],
        [(_("↩️ Back to the review"), cb.build(RP, "rv", d))]]))


def stay_anonymous_label() -> str:
    return _("🙈 I want to stay anonymous")


def back_label() -> str:
    return _("↩️ Back")


# --- starting -----------------------------------------------------------------------------


async def begin(request: Request, village_id: int | None = None) -> list[Reply]:
    # Whatever an officer was about to type for a case must not swallow the report.
    await cases.drop_pending(request)
    started = await service.start(request.user_id, session=request.session, now=request.now,
                                  village_id=village_id)
    draft = started.draft
    if started.resumed:
        if draft.kind == "addition":
            return [Reply(_("You were adding information to a report. Let's continue."))] + \
                await ask(request, draft)
        return [Reply(_("You have a report you have not sent yet. Would you like to continue "
                        "it, or start a new one?"),
                      keyboard([[(_("▶️ Continue"), cb.build(RP, "resume", draft.id))],
                                [(_("🔄 Start again"), cb.build(RP, "restart", draft.id))]]))]
    intro = _("Thank you for speaking up for a child. I will ask a few short questions; "
              "you can stop at any time with /huy.")
    return [Reply(intro, ReplyKeyboardRemove()), *await ask(request, draft)]


@handles
async def start_report(request: Request) -> list[Reply]:
    """Starts (or offers to resume) a report."""
    return await begin(request)


@handles
async def resume(request: Request) -> list[Reply]:
    """Asks the current question of the draft again."""
    draft = await _draft_for_button(request)
    if draft is None:
        return [_gone()]
    return await ask(request, draft)


@handles
async def restart(request: Request) -> list[Reply]:
    """Asks before throwing away a draft to start again."""
    draft = await _draft_for_button(request)
    if draft is None:
        return [_gone()]
    return [Reply(_("Start again? What you entered in the unsent report will be deleted."),
                  keyboard([[(_("Yes, start again"), cb.build(RP, "restartok", draft.id))],
                            [(_("No, continue"), cb.build(RP, "resume", draft.id))]]), edit=True)]


@handles
async def restart_confirmed(request: Request) -> list[Reply]:
    """Deletes the draft and asks the first question of a new one."""
    draft = await _draft_for_button(request)
    if draft is None:
        return [_gone()]
    fresh = await service.restart(draft, session=request.session, now=request.now)
    return await ask(request, fresh)


def _gone() -> Reply:
    return Reply(_("This report has already been sent or cancelled. Use /start to begin again."))


async def _draft_for_button(request: Request) -> ReportDraft | None:
    """The user's draft if the pressed button belongs to it (not a sent or cancelled one)."""
    draft = await service.get_draft(request.user_id, session=request.session)
    try:
        draft_id = request.callback.int_arg(0)
    except ValueError:
        return None
    if draft is None or draft.id != draft_id:
        return None
    return draft


# --- button answers -----------------------------------------------------------------------


async def _apply(request: Request, draft: ReportDraft, action) -> list[Reply]:  # noqa: ANN001
    """Run one answer; on a problem, explain it and ask the current question again."""
    try:
        await action
    except InvalidInput as problem:
        if problem.code == "stale_step":
            return [Reply(_("That button is from an earlier question. Here is where you are:")),
                    *await ask(request, draft)]
        return [Reply(report_problem(problem, draft)), *await ask(request, draft)]
    return await ask(request, draft)


def report_problem(problem: InvalidInput, draft: ReportDraft) -> str:
    if problem.code == "story_too_long":
        return _("That message is too long: the description can have up to {limit} characters "
                 "in all ({used} used so far). I have not saved this message – please send it "
                 "in shorter parts or shorten it. Nothing you sent before is lost.").format(
                     limit=vi_number(MAX_STORY_CHARS),
                     used=vi_number(story_used(draft.answers)))
    return message_for(problem)


async def _danger_answer(request: Request, draft: ReportDraft, urgent: bool) -> list[Reply]:
    """"Is a child in danger right now?" answered — on the question, or later from an old
    message, which changes the answer where the reporter is (never both an answer and
    "that button is old")."""
    s = request.session
    on_question = Step(draft.step) is Step.DANGER
    before = draft.answers.get("urgent")
    await service.set_danger(draft, urgent, session=s, now=request.now)
    replies: list[Reply] = []
    if urgent:
        communes = await profile.hotline_communes(request.actor, session=s,
                                                  commune_id=draft.answers.get("commune_id"))
        replies.append(Reply(_("🚨 <b>Call now – do not wait:</b>") + "\n" + hotline_block(communes)
                             + "\n\n" + _("After calling, you can go on with the report here; "
                                           "it will be marked urgent.")))
    if not on_question and before != urgent:
        replies.append(Reply(_("Changed: the report is now marked urgent.") if urgent else
                             _("Changed: the report is no longer marked urgent.")))
    return replies + await ask(request, draft)


@handles
async def answered_button(request: Request) -> list[Reply]:
    """Stores the answer a button carries and asks the next question."""
    action, args = request.callback.action, request.callback.args
    draft = await _draft_for_button(request)
    if draft is None:
        if action == "d" and args[1:] == ("1",):  # "yes, in danger" on a finished report
            communes = await profile.hotline_communes(request.actor, session=request.session)
            return [Reply(_("🚨 <b>Call now – do not wait:</b>") + "\n" + hotline_block(communes)),
                    _gone()]
        return [_gone()]
    s, now = request.session, request.now
    if action == "d" and len(args) >= 2 and args[1] in ("0", "1"):
        try:
            return await _danger_answer(request, draft, args[1] == "1")
        except InvalidInput:
            return [Reply(_("That button is from an earlier question. Here is where you are:")),
                    *await ask(request, draft)]
    if action == "cmp":
        return [await _ask_commune(request, draft, page=request.callback.int_arg(1))]
    if action == "es":
        if Step(draft.step) is not Step.REVIEW:
            return [Reply(_("That button is from an earlier question. Here is where you are:")),
                    *await ask(request, draft)]
        return [_story_screen(draft)]
    if action == "vp" and Step(draft.step) is Step.PLACE and len(args) == 3:
        return [await _ask_place(request, draft, page=request.callback.int_arg(1),
                                 filtered=args[2] == "1")]
    steps = {
        "cm": lambda: service.set_commune(draft, cb.parse_int(args[1]), session=s, now=now),
        "c": lambda: service.set_category(draft, args[1], session=s, now=now),
        "v": lambda: service.set_village(draft, cb.parse_int(args[1]), session=s, now=now),
        "addr": lambda: service.ask_address(draft, session=s, now=now),
        "addrq": lambda: service.use_typed_place_as_address(draft, session=s, now=now),
        "a": lambda: service.set_age(draft, args[1], session=s, now=now),
        "n": lambda: service.set_count(draft, cb.parse_int(args[1]), session=s, now=now),
        "skipname": lambda: service.set_child_name(draft, None, session=s, now=now),
        "more": lambda: service.finish_story(draft, session=s, now=now),
        "anon": lambda: service.set_anonymous(draft, args[1] == "1", session=s, now=now),
        "rel": lambda: service.set_relation(draft, args[1], session=s, now=now),
        "e": lambda: service.edit(draft, args[1], session=s, now=now),
        "b": lambda: service.back(draft, args[1], session=s, now=now),
        "rv": lambda: service.back_to_review(draft, session=s, now=now),
        "sta": lambda: service.edit_story(draft, "add", session=s, now=now),
        "str": lambda: service.edit_story(draft, "rewrite", session=s, now=now),
        "lx": lambda: service.drop_loose_text(draft, session=s, now=now),
    }
    no_arg = {"addr", "addrq", "skipname", "more", "rv", "sta", "str", "lx"}
    if action == "lo":
        try:
            used = await service.take_loose_text(draft, session=s, now=now)
        except InvalidInput as problem:
            if problem.code == "stale_step":
                return await ask(request, draft)
            return [Reply(report_problem(problem, draft)), *await ask(request, draft)]
        return [Reply(_("Added to your description ({used}).").format(used=_used(draft))),
                *await ask(request, draft)] if used else await ask(request, draft)
    if action not in steps or (action not in no_arg and len(args) < 2):
        return [Reply(_("That button is from an earlier question. Here is where you are:")),
                *await ask(request, draft)]
    try:
        coroutine = steps[action]()
    except ValueError:
        return await ask(request, draft)
    return await _apply(request, draft, coroutine)


# --- typed answers ------------------------------------------------------------------------


async def _story_part(request: Request, draft: ReportDraft, text: str) -> list[Reply]:
    """One more part of the description; on the identity question it is said aloud."""
    at_identity = Step(draft.step) is Step.IDENTITY
    try:
        await service.add_story(draft, text, session=request.session, now=request.now,
                                message_id=_message_id(request))
    except InvalidInput as problem:
        return [Reply(report_problem(problem, draft)), *await ask(request, draft)]
    if at_identity:
        return [Reply(_("I added this to your description ({used}).").format(used=_used(draft))),
                *await ask(request, draft)]
    return await ask(request, draft)


def _message_id(request: Request) -> int:
    return request.update.effective_message.message_id


async def _loose_text(request: Request, draft: ReportDraft, text: str) -> list[Reply]:
    """Text where a button was expected, after the story: ask whether it is more story."""
    try:
        await service.keep_loose_text(draft, text, session=request.session, now=request.now,
                                      message_id=_message_id(request))
    except InvalidInput as problem:
        return [Reply(report_problem(problem, draft)), *await ask(request, draft)]
    d = draft.id
    return [Reply(_("You sent some more text. Should I add it to your description?"),
                  keyboard([[(_("➕ Yes, add it"), cb.build(RP, "lo", d)),
                             (_("No"), cb.build(RP, "lx", d))]]))]


async def handle_draft_message(request: Request, draft: ReportDraft) -> list[Reply]:
    """A message while a draft is open: text, photo, voice, location or contact."""
    message = request.update.effective_message
    step = Step(draft.step)
    s, now = request.session, request.now
    if message.text is not None:
        text = message.text
        if step is Step.PLACE:
            return await _typed_place(request, draft, text)
        if step is Step.ADDRESS:
            return await _apply(request, draft,
                                service.set_address(draft, text, session=s, now=now))
        if step is Step.NAME:
            return await _apply(request, draft,
                                service.set_child_name(draft, text, session=s, now=now))
        if step in (Step.STORY, Step.MEDIA):
            return await _story_part(request, draft, text)
        if step is Step.IDENTITY:
            if looks_like_contact(text):
                phone, name = split_contact(text)
                return await _contact(request, draft, phone, name)
            return await _story_part(request, draft, text)
        if step is Step.CONTACT:
            if text.strip() == stay_anonymous_label():
                await service.set_anonymous(draft, True, session=s, now=now)
                return [Reply(_("All right, you stay anonymous."), ReplyKeyboardRemove()),
                        *await ask(request, draft)]
            if text.strip() == back_label():
                await service.back(draft, Step.CONTACT, session=s, now=now)
                return [Reply(_("All right."), ReplyKeyboardRemove()), *await ask(request, draft)]
            phone, name = split_contact(text)
            return await _contact(request, draft, phone, name)
        if step is Step.ADDITION:
            try:
                await service.add_addition_text(draft, text, session=s, now=now,
                                                message_id=message.message_id)
            except InvalidInput as problem:
                return [Reply(report_problem(problem, draft))]
            return [_addition_saved(draft)]
        if step in (Step.RELATION, Step.REVIEW):
            return await _loose_text(request, draft, text)
        return [Reply(_("Please choose one of the buttons below.")), *await ask(request, draft)]
    if message.photo or message.voice:
        kind, file_id = (("photo", message.photo[-1].file_id) if message.photo
                         else ("voice", message.voice.file_id))
        if step not in (Step.STORY, Step.MEDIA, Step.IDENTITY, Step.ADDITION):
            return [Reply(_("Thank you. Photos and voice messages can be added when you tell "
                            "what happened; first, please answer this question:")),
                    *await ask(request, draft)]
        caption = message.caption
        if caption and not is_blank(caption):
            try:  # the caption is part of the story: kept whole, or refused with the photo
                if step is Step.ADDITION:
                    await service.add_addition_text(draft, caption, session=s, now=now,
                                                    message_id=message.message_id)
                else:
                    await service.add_story(draft, caption, session=s, now=now,
                                            message_id=message.message_id)
            except InvalidInput as problem:
                return [Reply(report_problem(problem, draft)), *await ask(request, draft)]
        replies = await _apply(request, draft, service.add_media(draft, kind, file_id, session=s,
                                                                 now=now))
        if step is Step.ADDITION:
            return [_addition_saved(draft)]
        if step is Step.IDENTITY:
            return [Reply(_("Photo or voice message added.")), *replies]
        return replies
    if message.location:
        if step not in (Step.PLACE, Step.ADDRESS):
            return [Reply(_("Thank you, but I am not asking for a place right now.")),
                    *await ask(request, draft)]
        loc = message.location
        return await _apply(request, draft, service.set_location(
            draft, loc.latitude, loc.longitude, session=s, now=now))
    if message.contact:
        if step is not Step.CONTACT:
            return [Reply(_("Thank you, but I am not asking for a phone number right now.")),
                    *await ask(request, draft)]
        return await _contact(request, draft, message.contact.phone_number,
                              message.contact.first_name)
    return [Reply(_("I cannot read this kind of message here.")), *await ask(request, draft)]


# --- edits of messages already sent (Telegram sends each edit as an update of its own) ------


async def edited_draft_message(request: Request, draft: ReportDraft) -> list[Reply] | None:
    """An edited message that is part of this unsent draft's description: that part is
    replaced where it is (never added again). None: the message is not part of it."""
    message = request.update.effective_message
    text = message.text if message.text is not None else message.caption
    try:
        which = await service.correct_story(draft, message.message_id, text or "",
                                            session=request.session, now=request.now)
    except InvalidInput as problem:
        if problem.code == "story_too_long":
            hint = _("⚠️ With your edit the description would be longer than {limit} "
                     "characters, so I kept that part as you first sent it. Please shorten "
                     "the edit.").format(limit=vi_number(MAX_STORY_CHARS))
        else:
            hint = _("⚠️ Your edit has no visible text, so I kept that part as you first "
                     "sent it.")
        return [Reply(hint)]
    if which is None:
        return None
    if which == "loose":
        d = draft.id
        return [Reply(_("✏️ Corrected. Should I add this text to your description?"),
                      keyboard([[(_("➕ Yes, add it"), cb.build(RP, "lo", d)),
                                 (_("No"), cb.build(RP, "lx", d))]]))]
    if draft.kind == "addition":
        return [Reply(_("✏️ Corrected in the information you are adding ({used}). Nothing "
                        "has been sent yet.").format(used=_used(draft)))]
    confirmed = Reply(_("✏️ Corrected in your description ({used}).").format(used=_used(draft)))
    if Step(draft.step) is Step.REVIEW:  # the review on screen shows the old words
        return [confirmed, *await ask(request, draft)]
    return [confirmed]


async def edited_outside_draft(request: Request, draft: ReportDraft) -> list[Reply]:
    """An edited message that is no part of the draft's description (an answer to another
    question, or a message from before): nothing changes; the question again."""
    if draft.kind == "addition":
        head = _("✏️ This edit was not used: what is saved stays as you first sent it, and "
                 "nothing was added twice. Send the correction as a new message and it will "
                 "be added to the information.")
    else:
        head = _("✏️ This edit was not used: your answers stay as you first sent them, and "
                 "nothing was added twice. To change an answer, use the ✏️ buttons on the "
                 "review before sending. Here is where you are:")
    return [Reply(head), *await ask(request, draft)]


async def edited_after_sending(request: Request) -> Reply | None:
    """A reporter edits a message after their report went out (the report, what they added,
    an answer to the officer): it is not changed; how to add information. None: this person
    has sent no report."""
    own = await service.own_reports(request.user_id, session=request.session)
    if not own:
        return None
    latest = own[0]
    return Reply(_("✏️ What you sent for report {code} has already been passed on (the report, "
                   "information you added, your answers to the officer), so this edit did not "
                   "change it and nothing was sent twice. To add or correct something, press "
                   "➕ Add information below and send it as a new message.").format(
        code=latest.code), keyboard([
            [(_("➕ Add information"), cb.build(RP, "add", latest.report_id))],
            [(_("📄 Check progress"), cb.build(RP, "st", latest.report_id))]]))


def _addition_saved(draft: ReportDraft) -> Reply:
    return Reply(_("Saved ({used}). Send more, or press Send when you are done.").format(
        used=_used(draft)),
        keyboard([[(_("📨 Send the information"), cb.build(RP, "addok", draft.id))]]))


async def _contact(request: Request, draft: ReportDraft, phone: str,
                   name: str | None) -> list[Reply]:
    try:
        await service.set_contact(draft, phone=phone, name=name, session=request.session,
                                  now=request.now)
    except InvalidInput as problem:
        return [Reply(message_for(problem)), *await ask(request, draft)]
    return [Reply(_("Thank you, I have your phone number."), ReplyKeyboardRemove()),
            *await ask(request, draft)]


# --- cancel ----------------------------------------------------------------------------


@handles
async def cancel_command(request: Request) -> list[Reply]:
    """/huy or /cancel: a note or message being typed is dropped; a report draft is thrown
    away after asking."""
    dropped = await cases.cancel_pending(request)
    if dropped is not None:
        return [dropped]
    draft = await service.get_draft(request.user_id, session=request.session)
    if draft is None:
        return [Reply(_("You have no report in progress. Use /start to see the menu."),
                      ReplyKeyboardRemove())]
    return [_confirm_cancel(draft, edit=False)]


def _confirm_cancel(draft: ReportDraft, *, edit: bool) -> Reply:
    return Reply(_("Cancel this report? What you entered will be deleted and nothing will be "
                   "sent."),
                 keyboard([[(_("Yes, cancel"), cb.build(RP, "xy", draft.id))],
                           [(_("No, continue"), cb.build(RP, "resume", draft.id))]]), edit=edit)


@handles
async def cancel_button(request: Request) -> list[Reply]:
    """The cancel button: asks for confirmation."""
    draft = await _draft_for_button(request)
    if draft is None:
        return [_gone()]
    return [_confirm_cancel(draft, edit=True)]


@handles
async def cancel_confirmed(request: Request) -> list[Reply]:
    """Deletes the draft."""
    draft = await _draft_for_button(request)
    if draft is None:
        return [_gone()]
    await service.cancel(draft, session=request.session)
    return [Reply(_("The report was cancelled and what you entered was deleted. If a child is "
                    "in danger, you can report again at any time, or call 111."), edit=True)]


# --- sending ------------------------------------------------------------------------------


@handles
async def send_report(request: Request) -> list[Reply]:
    """Turns the draft into a report and a case, then tells the reporter and the officers."""
    draft = await _draft_for_button(request)
    if draft is None:
        again = await service.sent_from_draft(request.user_id, request.callback.int_arg(0),
                                              session=request.session)
        if again is not None:  # pressed again (the first answer lost): the code again
            return [await _thanks(request, again)]
        return [_gone()]
    try:
        sent = await service.send(draft, session=request.session, now=request.now,
                                  limits=request.runtime.settings.report_limits,
                                  config=request.runtime.case_config)
    except InvalidInput as problem:
        if problem.code == "too_many_reports":
            return [Reply(_("You have already sent {limit} reports in the last hour. To avoid "
                            "duplicates, please wait a little before sending another; your report "
                            "is kept here. If a child is in danger, call 113 or 111 now.")
                          .format(limit=request.runtime.settings.reports_per_hour))]
        return [Reply(report_problem(problem, draft)), *await ask(request, draft)]
    officers = await service.officers_to_notify(sent.commune.id, session=request.session)
    notice = await cases.new_report_notice(request, sent)
    replies = [Reply(notice.text, notice.keyboard, chat_id=m.telegram_user_id) for m in officers]
    return [await _thanks(request, sent), *replies]


async def _thanks(request: Request, sent: service.SentReport) -> Reply:
    """The reporter's confirmation with the tracking code (shown again on a second press)."""
    communes = await profile.hotline_communes(request.actor, session=request.session,
                                              commune_id=sent.commune.id)
    when = (_("Because it is urgent, the commune is alerted now and must act within 12 hours. "
              "If the child is in danger right now, call 111 or 113 at once.")
            if sent.report.urgent else
            _("They will verify the information and may contact you if you left a number."))
    thanks = _(
        "✅ <b>Your report has been sent. Thank you – you did the right thing.</b>\n\n"
        "Tracking code: <code>{code}</code>\n"
        "Keep this code to check progress: /status {code}\n\n"
        "The child-protection officers of {commune} have been told. {when}"
    ).format(code=sent.report.code, commune=esc(in_sentence(sent.commune.name)), when=when)
    return Reply(thanks + "\n\n" + hotline_block(communes), keyboard([
        [(_("📄 Check progress"), cb.build(RP, "st", sent.report.id))],
        [(_("➕ Add information"), cb.build(RP, "add", sent.report.id))],
    ]), edit=True)


# --- status and additions -------------------------------------------------------------------


def my_data_button() -> tuple[str, str]:
    """From /status to what is kept about the reporter (handlers.data_rights)."""
    return (_("🔐 My data / delete my contact"), cb.build("dr", "see"))


def _render_status(view: service.StatusView, tz) -> str:  # noqa: ANN001
    lines = [_("<b>Report {code}</b>").format(code=view.code),
             _("Received: {when}").format(when=vi_datetime(view.received_at, tz)),
             _("Status: {status}").format(status=public_status_name(view.status))]
    if view.note:
        lines += ["", _("Message from the officer ({when}):").format(
            when=vi_datetime(view.note_at, tz)), esc(view.note)]
    return "\n".join(lines)


@handles
async def status_command(request: Request) -> Reply:
    """/status CODE: the coarse status of a report; /status alone: one's own reports."""
    args = request.context.args or []
    if not args:
        return await status_overview(request)
    return await look_up(request, " ".join(args)[:40])


async def look_up(request: Request, text: str) -> Reply:
    try:
        view = await service.status_by_code(request.user_id, text, session=request.session,
                                            now=request.now,
                                            limits=request.runtime.settings.report_limits)
    except InvalidInput as problem:
        return Reply(message_for(problem))
    markup = None
    if view.report_id is not None and await service.is_own_report(
            request.user_id, view.report_id, session=request.session):
        markup = keyboard([[(_("➕ Add information"), cb.build(RP, "add", view.report_id))],
                           [my_data_button()]])
    return Reply(_render_status(view, request.runtime.tz), markup)


async def status_overview(request: Request) -> Reply:
    """The person's own reports with their codes, and the next message taken as a code."""
    own = await service.own_reports(request.user_id, session=request.session)
    draft = await service.get_draft(request.user_id, session=request.session)
    if draft is None:  # the next message is the code (not an answer to a report question)
        await cases_service.expect_input(request.user_id, "lookup", session=request.session,
                                         now=request.now)
    ask_code = _("Type the tracking code you received (for example ABCD-EFGH) and I will look "
                 "it up.")
    if not own:
        return Reply(ask_code)
    lines = [_("<b>Your reports</b>")]
    lines += [f"• <code>{v.code}</code> · {vi_datetime(v.received_at, request.runtime.tz)} · "
              f"{public_status_name(v.status)}" for v in own]
    rows = [[(_("📄 {code}").format(code=v.code), cb.build(RP, "st", v.report_id))]
            for v in own[:8]]
    rows.append([my_data_button()])
    return Reply("\n".join([*lines, "", ask_code]), keyboard(rows))


async def _took_code(request: Request, pending, message) -> list[Reply]:  # noqa: ANN001
    """After "Check a report": the code typed alone is looked up."""
    if message.text is None:
        return [Reply(_("Please type the tracking code, for example ABCD-EFGH."))]
    return [await look_up(request, message.text[:40])]


cases.register_input("lookup", _took_code)


@handles
async def status_button(request: Request) -> Reply:
    """The reporter's own "check progress" button."""
    report_id = request.callback.int_arg(0)
    view = await service.status_of_own_report(request.user_id, report_id, session=request.session)
    return Reply(_render_status(view, request.runtime.tz), keyboard([
        [(_("➕ Add information"), cb.build(RP, "add", report_id))],
        [my_data_button()]]))


@handles
async def start_addition(request: Request) -> list[Reply]:
    """Begins adding information to a sent report."""
    try:
        draft = await service.start_addition(request.user_id, request.callback.int_arg(0),
                                             session=request.session, now=request.now)
    except InvalidInput as problem:
        if problem.code == "draft_in_progress":
            return await begin(request)
        raise
    return await ask(request, draft)


@handles
async def finish_addition(request: Request) -> list[Reply]:
    """Saves the extra information on the case and tells the officer handling it."""
    draft = await _draft_for_button(request)
    if draft is None:
        return [_gone()]
    try:
        added = await service.finish_addition(draft, session=request.session, now=request.now)
    except InvalidInput as problem:
        return [Reply(message_for(problem)), *await ask(request, draft)]
    replies = [Reply(_("Thank you. The information was added to report {code}.").format(
        code=added.report.code), edit=True)]
    head = _("📎 <b>The reporter added information to case {code}.</b>").format(
        code=added.report.code)
    media = (_("Photos or voice messages added: {count} (in the details).").format(
        count=added.media) if added.media else "")
    view = keyboard([[(_("👁 View the case"), cases.view_button_data(added.case.id))]])
    if added.notify_user_id:  # the officer handling the case reads what was added at once
        body = [head, "", esc(added.text)] if added.text else [head]
        text = "\n".join([*body, media]).strip()
        replies.append(Reply(text[:3900], view, chat_id=added.notify_user_id))
    for user_id in added.notify_others:  # nobody has it yet: a notice, like the report's
        replies.append(Reply("\n".join([head, _("Nobody handles this case yet."), media]).strip(),
                             cases.case_buttons(added.case.id), chat_id=user_id))
    return replies


@handles
async def private_message(request: Request) -> list[Reply]:
    """Any private message that is not a command: an answer to the open draft, if any.

    One statement tells what this person has open (in this unit of work, so it is what the
    reads below would find); only what exists is read. A plain message from someone with
    nothing open costs one statement here instead of three."""
    open_now = await conversation.open_inputs(request.user_id, session=request.session)
    if open_now.broadcast_without_text:
        taken = await take_broadcast_text(request)
        if taken is not None:
            return taken
    if open_now.pending_input:
        taken = await cases.take_case_input(request)
        if taken is not None:
            return taken
    draft = (await service.get_draft(request.user_id, session=request.session)
             if open_now.report_draft else None)
    if draft is None:
        return await unexpected_message(request)
    return await handle_draft_message(request, draft)


async def unexpected_message(request: Request) -> list[Reply]:
    """A message with nothing waiting for it: a tracking code typed alone is looked up; a
    reporter's answer to an officer without the Reply button goes to that case when it can
    only be one, otherwise they are asked which."""
    message = request.update.effective_message
    text = message.text
    if text and normalise_tracking_code(text) is not None:
        return [await look_up(request, text)]
    if text and not is_blank(text):
        taken = await cases.reporter_typed_answer(request, text)
        if taken is not None:
            return taken
    return [not_understood_reply(request.actor)]


def build_handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    p = cb.pattern(RP)
    return [
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, private_message),
        CommandHandler(["baotin", "report"], start_report, filters=private),
        CommandHandler(["huy", "cancel"], cancel_command, filters=private),
        CommandHandler("status", status_command, filters=private),
        CallbackQueryHandler(start_report, pattern=p + "new$"),
        CallbackQueryHandler(resume, pattern=p + r"resume:\d+$"),
        CallbackQueryHandler(restart, pattern=p + r"restart:\d+$"),
        CallbackQueryHandler(restart_confirmed, pattern=p + r"restartok:\d+$"),
        CallbackQueryHandler(cancel_button, pattern=p + r"x:\d+$"),
        CallbackQueryHandler(cancel_confirmed, pattern=p + r"xy:\d+$"),
        CallbackQueryHandler(send_report, pattern=p + r"send:\d+$"),
        CallbackQueryHandler(status_button, pattern=p + r"st:\d+$"),
        CallbackQueryHandler(start_addition, pattern=p + r"add:\d+$"),
        CallbackQueryHandler(finish_addition, pattern=p + r"addok:\d+$"),
        CallbackQueryHandler(answered_button,
                             pattern=p + r"(d|cm|cmp|c|v|vp|addr|addrq|a|n|skipname|more|anon|"
                                         r"rel|e|es|b|rv|sta|str|lo|lx):\d+"),
    ]
