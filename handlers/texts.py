"""Shared pieces of text: role names, escaping, the hotline block."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.i18n import _
from domain.roles import Role


def esc(value: object) -> str:
    """Escape anything that did not come from our catalog before it goes into HTML."""
    return html.escape(str(value), quote=False)


def role_name(role: Role) -> str:
    return {
        Role.ADMIN: _("administrator"),
        Role.OFFICER: _("child-protection officer"),
        Role.AGENCY_MEMBER: _("agency member"),
        Role.COLLABORATOR: _("village collaborator"),
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
