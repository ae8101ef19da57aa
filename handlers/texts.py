"""Shared pieces of text: role names, escaping, the hotline block."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.i18n import _
from domain.cases import (
    ApprovalKind,
    CaseStatus,
    Channel,
    ChildSex,
    ClosureReason,
    HarmPlace,
    PublicStatus,
    RiskLevel,
    SpecialGroup,
    is_backward,
)
from domain.reports import AgeGroup, Category, Relation, normalise_tracking_code
from domain.roles import Role


def esc(value: object) -> str:
    """Escape anything that did not come from our catalog before it goes into HTML."""
    return html.escape(str(value), quote=False)


MESSAGE_BUDGET = 3800  # characters per message, under Telegram's 4096


def chunks(blocks: list[str], header: str, *, sep: str = "\n\n") -> list[str]:
    """As few messages as fit, blocks joined by `sep`: a block is kept whole when it can be,
    and one too long for a message (a province's hundreds of villages) is split between
    lines."""
    pieces: list[tuple[str, str]] = []  # (separator before, text)
    for block in blocks:
        part, separator = "", sep
        for line in block.split("\n"):
            if part and len(part) + 1 + len(line) > MESSAGE_BUDGET:
                pieces.append((separator, part))
                part, separator = "", "\n"
            part = f"{part}\n{line}" if part else line
        pieces.append((separator, part))
    messages, current = [], header
    for separator, text in pieces:
        if current and len(current) + len(separator) + len(text) > MESSAGE_BUDGET:
            messages.append(current)
            current = text
        else:
            current = f"{current}{separator}{text}" if current else text
    messages.append(current)
    return messages


BUTTON_CHARS = 30  # what a phone shows on a full-width button without cutting it


def button_label(text: str, limit: int = BUTTON_CHARS) -> str:
    """`text` as a button label that is never cut off: shortened at a word, with '…'."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,–-") + "…"


def numbered_choices(names: Sequence[str], first: int = 0) -> tuple[list[str], str]:
    """Button labels for `names` and, when one is too long for its button, the full names as
    a numbered list for the message ('' when every name fits). `first` is the position of
    names[0] in the whole list (a later page goes on counting)."""
    if all(len(name) <= BUTTON_CHARS for name in names):
        return list(names), ""
    numbered = [(n, name) for n, name in enumerate(names, first + 1)]
    labels = [button_label(f"{n}. {name}") for n, name in numbered]
    return labels, "\n".join(f"{n}. {esc(name)}" for n, name in numbered)


def capitalised(text: str) -> str:
    """First letter upper case (for a button made from a phrase used mid-sentence)."""
    return text[:1].upper() + text[1:]


def role_name(role: Role) -> str:
    return {
        Role.ADMIN: _("administrator"),
        Role.OFFICER: _("child-protection officer"),
        Role.AGENCY_MEMBER: _("agency member"),
        Role.COLLABORATOR: _("village collaborator"),
        Role.LEADER: _("commune leader"),
        Role.CITIZEN: _("citizen"),
    }[role]


NATIONAL_HOTLINES = (("111", "child"), ("113", "police"), ("115", "ambulance"))


def national_hotline_lines() -> list[str]:
    names = {
        "child": _("National child protection hotline, free, 24/7"),
        "police": _("Police"),
        "ambulance": _("Ambulance"),
    }
    return [f"☎️ <b>{number}</b> – {names[key]}" for number, key in NATIONAL_HOTLINES]


def hotline_block(communes: Sequence[tuple[str, str | None, list[dict]]]) -> str:
    """The emergency numbers: national ones first, then each commune's own.

    `communes` holds (name, on-duty phone, extra hotlines) for the communes to show.
    """
    lines = [_("<b>If a child is in danger right now, call at once:</b>")]
    lines += national_hotline_lines()
    national = {number for number, _key in NATIONAL_HOTLINES}
    for name, on_duty, hotlines in communes:
        extra = [h for h in hotlines if h.get("number") not in national]
        if not on_duty and not extra:
            continue
        lines.append("")
        lines.append(f"<b>{esc(name)}</b>")
        if on_duty:
            lines.append(_("☎️ {phone} – commune on-duty phone").format(phone=esc(on_duty)))
        lines += [f"☎️ {esc(h['number'])} – {esc(h['name'])}" for h in extra]
    return "\n".join(lines)


def category_name(category: str) -> str:
    return {
        Category.VIOLENCE: _("👊 Beaten, violence"),
        Category.SEXUAL_ABUSE: _("🚫 Sexual abuse"),
        Category.NEGLECT: _("🏚 Abandoned or neglected"),
        Category.LABOUR: _("⛏ Made to do heavy work"),
        Category.TRAFFICKING: _("🚐 Abducted or trafficked"),
        Category.CHILD_MARRIAGE: _("💍 Child marriage"),
        Category.DROPOUT: _("🎒 Left school"),
        Category.DROWNING_INJURY: _("🌊 Drowning or injury danger"),
        Category.ONLINE: _("📱 Abuse online"),
        Category.OTHER: _("❓ Something else"),
    }[Category(category)]


def age_name(age_group: str) -> str:
    return {
        AgeGroup.UNDER_6: _("under 6"),
        AgeGroup.AGE_6_10: _("6 to 10 years old"),
        AgeGroup.AGE_11_15: _("11 to 15 years old"),
        AgeGroup.AGE_16_17: _("16 or 17 years old"),
        AgeGroup.UNKNOWN: _("age not known"),
    }[AgeGroup(age_group)]


def count_name(count: int) -> str:
    return {1: _("1 child"), 2: _("2 children")}.get(count, _("3 or more children"))


def relation_name(relation: str | None) -> str:
    if relation is None:
        return _("not given")
    return {
        Relation.NEIGHBOUR: _("Neighbour"),
        Relation.TEACHER: _("Teacher"),
        Relation.RELATIVE: _("Relative"),
        Relation.PARENT: _("Parent"),
        Relation.SELF: _("I am that child"),
        Relation.FRIEND: _("Friend"),
        Relation.OTHER: _("Other"),
    }[Relation(relation)]


def public_status_name(status: str) -> str:
    return {
        PublicStatus.RECEIVED: _("Received – an officer will look at it"),
        PublicStatus.VERIFYING: _("Being verified"),
        PublicStatus.SUPPORTING: _("Support under way"),
        PublicStatus.CLOSED: _("Closed"),
    }[PublicStatus(status)]


def status_name(status: str) -> str:
    return {
        CaseStatus.RECEIVED: _("Received"),
        CaseStatus.ASSESSING: _("Verification and risk assessment"),
        CaseStatus.EMERGENCY: _("Emergency protection"),
        CaseStatus.PLANNING: _("Support plan"),
        CaseStatus.SUPPORTING: _("Carrying out the plan"),
        CaseStatus.REVIEWING: _("Follow-up and review"),
        CaseStatus.CLOSED: _("Closed"),
    }[CaseStatus(status)]


def move_label(current: str, target: str) -> str:
    """A card's button to another step: forward, back a step, or reopening."""
    if CaseStatus(current) is CaseStatus.CLOSED:
        return _("🔓 Reopen the case")
    if CaseStatus(current) is CaseStatus.REVIEWING and CaseStatus(target) is CaseStatus.PLANNING:
        return _("🔁 A new support plan")
    if is_backward(CaseStatus(current), CaseStatus(target)):
        return _("↩️ Back to {status}").format(status=status_name(target))
    return f"➡️ {status_name(target)}"


def sex_name(sex: str | None) -> str:
    if sex is None:
        return _("not recorded")
    return {ChildSex.MALE: _("male"), ChildSex.FEMALE: _("female"),
            ChildSex.UNKNOWN: _("not known")}[ChildSex(sex)]


def harm_place_name(place: str | None) -> str:
    if place is None:
        return _("not recorded")
    return {HarmPlace.FAMILY: _("family"), HarmPlace.SCHOOL: _("school"),
            HarmPlace.COMMUNITY: _("community"), HarmPlace.ONLINE: _("online"),
            HarmPlace.OTHER: _("other")}[HarmPlace(place)]


def approval_kind_name(kind: str) -> str:
    return {ApprovalKind.PLAN: _("the support plan"),
            ApprovalKind.CLOSING: _("closing the case")}[ApprovalKind(kind)]


def risk_name(risk: str | None) -> str:
    if risk is None:
        return _("not assessed yet")
    return {RiskLevel.HIGH: _("High"), RiskLevel.MEDIUM: _("Medium"),
            RiskLevel.LOW: _("Low")}[RiskLevel(risk)]


def closure_name(reason: str) -> str:
    return {
        ClosureReason.SAFE: _("The child is safe now"),
        ClosureReason.TRANSFERRED: _("Transferred to another authority"),
        ClosureReason.NOT_VERIFIABLE: _("Could not be verified"),
        ClosureReason.DUPLICATE: _("Duplicate of another case"),
        ClosureReason.OTHER: _("Other reason"),
    }[ClosureReason(reason)]


def special_group_name(group: str) -> str:
    """The 14 groups of Điều 10, Law on Children 2016, in the law's words (shortened)."""
    return {
        SpecialGroup.ORPHAN: _("Orphaned of both parents"),
        SpecialGroup.ABANDONED: _("Abandoned"),
        SpecialGroup.NO_CARER: _("Without anyone to rely on"),
        SpecialGroup.DISABILITY: _("With a disability"),
        SpecialGroup.HIV: _("Living with HIV/AIDS"),
        SpecialGroup.LAW_VIOLATION: _("In conflict with the law"),
        SpecialGroup.DRUGS: _("Addicted to drugs"),
        SpecialGroup.DROPOUT_WORK: _("Left school to earn a living"),
        SpecialGroup.VIOLENCE_HARM: _("Seriously harmed by violence"),
        SpecialGroup.EXPLOITATION: _("Exploited"),
        SpecialGroup.SEXUAL_ABUSE: _("Sexually abused"),
        SpecialGroup.TRAFFICKING: _("Trafficked"),
        SpecialGroup.SERIOUS_ILLNESS: _("Seriously ill, poor or near-poor household"),
        SpecialGroup.MIGRANT: _("Migrant or refugee without parents or carers"),
    }[SpecialGroup(group)]


def special_group_label(group: str) -> str:
    """A special group on a button (≤ 30 characters); the law's words are special_group_name."""
    short = {
        SpecialGroup.DROPOUT_WORK: _("Left school to work"),
        SpecialGroup.VIOLENCE_HARM: _("Badly harmed by violence"),
        SpecialGroup.SERIOUS_ILLNESS: _("Seriously ill, poor household"),
        SpecialGroup.MIGRANT: _("Migrant or refugee child"),
    }
    return short.get(SpecialGroup(group)) or special_group_name(group)


def channel_name(channel: str) -> str:
    return {
        Channel.TELEGRAM: _("reported in the chat"),
        Channel.PHONE: _("a phone call"),
        Channel.SCHOOL: _("a school's notice"),
        Channel.DIRECT: _("came to the commune office"),
        Channel.AGENCY: _("from an agency"),
        Channel.OTHER: _("another way"),
    }[Channel(channel)]


def unknown_case_code(text: str) -> str:
    """/case or /audit with a code that finds nothing: say which, and what a code looks like."""
    code = normalise_tracking_code(text)
    if code is None:
        return _("“{text}” is not a case code: a code has 8 letters and digits, for example "
                 "ABCD-EFGH.").format(text=esc(text))
    return _("There is no case with the code {code}. Please check it against the notice or "
             "the card you have.").format(code=code)


def map_link(latitude: float, longitude: float) -> str:
    """A shared location as a link officers can open (OpenStreetMap), with the coordinates."""
    url = (f"https://www.openstreetmap.org/?mlat={latitude}&amp;mlon={longitude}"
           f"#map=17/{latitude}/{longitude}")
    label = _("open the map")
    return f'<a href="{url}">{label}</a> ({latitude}, {longitude})'
