"""Citizen reports: what is asked, in which order, and the rules on the answers.

A report is a draft, saved after every answer, until the reporter presses Send;
only then does it become a record (a report and a case) that officers must follow up.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidInput
from domain.text import visible_strip


class Category(StrEnum):
    """What is happening to the child (Law on Children 2016, art. 6; the seed plans)."""

    VIOLENCE = "violence"  # bạo lực, đánh đập
    SEXUAL_ABUSE = "sexual"  # xâm hại tình dục
    NEGLECT = "neglect"  # bỏ rơi, bỏ mặc
    LABOUR = "labour"  # bóc lột sức lao động
    TRAFFICKING = "trafficking"  # mua bán, bắt cóc
    CHILD_MARRIAGE = "marriage"  # tảo hôn
    DROPOUT = "dropout"  # bỏ học
    DROWNING_INJURY = "injury"  # đuối nước, tai nạn thương tích
    ONLINE = "online"  # xâm hại trên mạng
    OTHER = "other"


class AgeGroup(StrEnum):
    UNDER_6 = "u6"
    AGE_6_10 = "6-10"
    AGE_11_15 = "11-15"
    AGE_16_17 = "16-17"
    UNKNOWN = "unknown"


class Relation(StrEnum):
    NEIGHBOUR = "neighbour"
    TEACHER = "teacher"
    RELATIVE = "relative"
    PARENT = "parent"
    SELF = "self"  # the child is writing
    FRIEND = "friend"
    OTHER = "other"


class Step(StrEnum):
    """What the draft waits for next, in the order the reporter is asked."""

    DANGER = "danger"
    COMMUNE = "commune"
    CATEGORY = "category"
    PLACE = "place"
    ADDRESS = "address"
    AGE = "age"
    COUNT = "count"
    NAME = "name"
    STORY = "story"
    MEDIA = "media"
    IDENTITY = "identity"
    CONTACT = "contact"
    RELATION = "relation"
    REVIEW = "review"
    ADDITION = "addition"  # adding information to a report already sent


# Fields the reporter can change from the review screen, and the step that asks each.
EDITABLE = {
    "danger": Step.DANGER,
    "category": Step.CATEGORY,
    "place": Step.PLACE,
    "child": Step.AGE,
    "story": Step.STORY,
    "identity": Step.IDENTITY,
}

MAX_STORY_CHARS = 3000  # the whole description, over one or several messages
MAX_ADDRESS_CHARS = 300
MAX_NAME_CHARS = 100
MAX_MEDIA = 5  # photos and voice notes together
CHILD_COUNTS = (1, 2, 3)  # 3 means "three or more"


@dataclass(frozen=True)
class ReportLimits:
    per_hour: int = 3  # sent reports per person per hour; more is kept as a draft
    remind_after: dt.timedelta = dt.timedelta(hours=1)
    expire_after: dt.timedelta = dt.timedelta(hours=24)
    escalate_after: dt.timedelta = dt.timedelta(minutes=30)
    status_failures_per_hour: int = 5


def next_step(current: Step, answers: dict, *, communes: int) -> Step:
    """The step after `current` given the answers so far (draft data)."""
    if current is Step.DANGER:
        return Step.COMMUNE if communes > 1 and not answers.get("commune_id") else Step.CATEGORY
    if current is Step.COMMUNE:
        return Step.CATEGORY
    if current is Step.CATEGORY:
        return Step.AGE if answers.get("village_id") else Step.PLACE
    if current in (Step.PLACE, Step.ADDRESS):
        return Step.AGE
    if current is Step.AGE:
        return Step.COUNT
    if current is Step.COUNT:
        return Step.NAME
    if current is Step.NAME:
        return Step.STORY
    if current is Step.STORY:
        # People tell a story over several messages: wait on the next step, which takes
        # more text, photos and voice messages, until they press Continue.
        return Step.MEDIA
    if current is Step.MEDIA:
        return Step.IDENTITY
    if current is Step.IDENTITY:
        return Step.RELATION if answers.get("anonymous") else Step.CONTACT
    if current is Step.CONTACT:
        return Step.RELATION
    return Step.REVIEW


# Steps that belong together: editing one field from the review walks its whole group.
GROUP_OF = {
    Step.DANGER: "danger",
    Step.CATEGORY: "category",
    Step.PLACE: "place",
    Step.ADDRESS: "place",
    Step.AGE: "child",
    Step.COUNT: "child",
    Step.NAME: "child",
    Step.STORY: "story",
    Step.MEDIA: "story",
    Step.IDENTITY: "identity",
    Step.CONTACT: "identity",
    Step.RELATION: "identity",
}


def step_after(current: Step, answers: dict, *, communes: int, editing: bool) -> Step:
    """The next step; when editing from the review, back to the review after the group."""
    following = next_step(current, answers, communes=communes)
    if editing and GROUP_OF.get(following) != GROUP_OF.get(current):
        return Step.REVIEW
    return following


def missing_for_send(answers: dict) -> list[str]:
    """Answers a report cannot be sent without (the reporter is sent back to them)."""
    missing = []
    if "urgent" not in answers:
        missing.append("danger")
    if not answers.get("commune_id"):
        missing.append("commune")
    if not answers.get("category"):
        missing.append("category")
    if not (answers.get("village_id") or answers.get("address") or answers.get("location")):
        missing.append("place")
    if not answers.get("age_group"):
        missing.append("child")
    if not (answers.get("story") or answers.get("media")):
        missing.append("story")
    if "anonymous" not in answers:
        missing.append("identity")
    return missing


def append_story(current: str, addition: str) -> str:
    """The description with `addition` appended; InvalidInput if it would be too long or empty.
    Nothing is ever cut: a part that does not fit is refused whole."""
    addition = visible_strip(addition)
    if not addition:
        raise InvalidInput("story_empty")
    combined = f"{current}\n{addition}" if current else addition
    if len(combined) > MAX_STORY_CHARS:
        raise InvalidInput("story_too_long")
    return combined


# The description is kept with the message each part came from ([message id, text]), so an
# edit of one of those messages (Telegram sends it as an update of its own) corrects that
# part in place: never added twice, never lost. `story` stays the parts joined by newlines.


def story_parts(answers: dict) -> list[list]:
    """The description's parts as [message id or None, text]; a draft written before parts
    were kept is one part without a message."""
    parts = answers.get("parts")
    if parts is not None:
        return [list(part) for part in parts]
    story = answers.get("story", "")
    return [[None, story]] if story else []


def _set_parts(answers: dict, parts: list[list]) -> None:
    story = "\n".join(text for _mid, text in parts)
    if len(story) > MAX_STORY_CHARS:
        raise InvalidInput("story_too_long")
    answers["parts"], answers["story"] = parts, story


def add_story_part(answers: dict, text: str, message_id: int | None = None, *,
                   fresh: bool = False) -> None:
    """One more part of the description (`fresh`: the first part of a retold one); the same
    checks as append_story. Nothing is changed when it is refused."""
    addition = visible_strip(text)
    if not addition:
        raise InvalidInput("story_empty")
    parts = [] if fresh else story_parts(answers)
    _set_parts(answers, [*parts, [message_id, addition]])


def replace_story_part(answers: dict, message_id: int, text: str) -> bool:
    """The part that came from `message_id`, edited: replaced where it is. False when no
    part came from that message; InvalidInput (nothing changed) if the edit is empty or
    makes the description too long."""
    parts = story_parts(answers)
    index = next((i for i, (mid, _text) in enumerate(parts)
                  if mid is not None and mid == message_id), None)
    if index is None:
        return False
    replacement = visible_strip(text)
    if not replacement:
        raise InvalidInput("story_empty")
    parts[index] = [message_id, replacement]
    _set_parts(answers, parts)
    return True


_PHONE = re.compile(r"^\+?[0-9][0-9 .-]{7,16}[0-9]$")


def normalise_phone(text: str) -> str:
    """A Vietnamese phone number as typed; InvalidInput if it is not one."""
    text = text.strip()
    if not _PHONE.match(text):
        raise InvalidInput("phone_invalid")
    digits = re.sub(r"[ .-]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    if not 9 <= len(digits.lstrip("+")) <= 12:
        raise InvalidInput("phone_invalid")
    return digits


_PHONE_IN_TEXT = re.compile(r"\+?\d[\d .-]{7,16}\d")


def split_contact(text: str) -> tuple[str, str | None]:
    """'0912 345 678 Lan' → ('0912 345 678', 'Lan'); the phone is checked later."""
    match = _PHONE_IN_TEXT.search(text)
    if match is None:
        return text.strip(), None
    name = (text[: match.start()] + " " + text[match.end():]).strip(" ,;-")
    return match.group(0), (" ".join(name.split()) or None)


def looks_like_contact(text: str) -> bool:
    """A short message with a phone number in it: someone leaving their number."""
    return len(text) <= 80 and _PHONE_IN_TEXT.search(text) is not None


def story_used(answers: dict) -> int:
    """Characters of the description used so far."""
    return len(answers.get("story", ""))


# Tracking codes: easy to read aloud, no 0/O or 1/I, 8 characters (32^8 ≈ 1.1e12).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_tracking_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_tracking_code(text: str) -> str | None:
    """'abcd efgh', 'ABCD-EFGH', 'abcdefgh' → 'ABCD-EFGH'; None if it cannot be a code
    (wrong length, or a character outside the alphabet such as 0, O, 1 or I)."""
    cleaned = re.sub(r"[\s\-_.]", "", text.upper())
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return f"{cleaned[:4]}-{cleaned[4:]}"
