"""Rules of the citizen report: the order of questions, editing, what a report needs,
the description limit, phone numbers and tracking codes."""

from __future__ import annotations

import pytest

from domain.cases import CaseStatus, PublicStatus, public_status
from domain.errors import InvalidInput
from domain.reports import (
    CODE_ALPHABET,
    MAX_STORY_CHARS,
    Step,
    add_story_part,
    append_story,
    missing_for_send,
    new_tracking_code,
    next_step,
    normalise_phone,
    normalise_tracking_code,
    replace_story_part,
    split_contact,
    step_after,
    story_parts,
)


def _walk(answers: dict, communes: int = 1) -> list[Step]:
    step, seen = Step.DANGER, [Step.DANGER]
    while step is not Step.REVIEW:
        step = next_step(step, answers, communes=communes)
        seen.append(step)
    return seen


def test_shortest_path_for_one_commune_with_a_typed_story():
    answers = {"commune_id": 1, "village_id": 5, "story": "x", "anonymous": True}
    assert _walk(answers) == [Step.DANGER, Step.CATEGORY, Step.AGE, Step.COUNT, Step.NAME,
                              Step.STORY, Step.MEDIA, Step.IDENTITY, Step.RELATION, Step.REVIEW]


def test_province_without_a_village_asks_commune_and_place():
    answers = {"story": "x", "anonymous": False}
    assert _walk(answers, communes=3) == [
        Step.DANGER, Step.COMMUNE, Step.CATEGORY, Step.PLACE, Step.AGE, Step.COUNT, Step.NAME,
        Step.STORY, Step.MEDIA, Step.IDENTITY, Step.CONTACT, Step.RELATION, Step.REVIEW]


def test_a_story_waits_for_more_parts_until_continue():
    """People tell a story over several messages: after the first part the draft waits on
    the step that takes more text, photos and voice messages."""
    assert next_step(Step.STORY, {"story": "x"}, communes=1) is Step.MEDIA


def test_photo_only_story_waits_on_the_media_step():
    assert next_step(Step.STORY, {"media": [["photo", "f"]]}, communes=1) is Step.MEDIA
    assert next_step(Step.MEDIA, {"media": [["photo", "f"]]}, communes=1) is Step.IDENTITY


@pytest.mark.parametrize(("current", "answers", "expected"), [
    (Step.CATEGORY, {"village_id": 1}, Step.REVIEW),  # one-step group
    (Step.AGE, {}, Step.COUNT),  # the child group goes on: age → count → name
    (Step.NAME, {}, Step.REVIEW),
    (Step.IDENTITY, {"anonymous": False}, Step.CONTACT),
    (Step.CONTACT, {}, Step.RELATION),
    (Step.RELATION, {}, Step.REVIEW),
    (Step.PLACE, {}, Step.REVIEW),
    (Step.STORY, {"story": "x"}, Step.MEDIA),  # more parts may follow
    (Step.MEDIA, {"story": "x"}, Step.REVIEW),
    (Step.DANGER, {}, Step.REVIEW),
])
def test_editing_returns_to_the_review_after_the_group(current, answers, expected):
    assert step_after(current, answers, communes=1, editing=True) is expected


def test_missing_for_send_lists_what_blocks_sending():
    assert missing_for_send({}) == ["danger", "commune", "category", "place", "child", "story",
                                    "identity"]
    complete = {"urgent": False, "commune_id": 1, "category": "other", "address": "x",
                "age_group": "u6", "media": [["photo", "f"]], "anonymous": True}
    assert missing_for_send(complete) == []


def test_story_limit_is_exact_and_never_cuts():
    text = "a" * MAX_STORY_CHARS
    assert append_story("", text) == text
    with pytest.raises(InvalidInput) as caught:
        append_story("", text + "b")
    assert caught.value.code == "story_too_long"
    assert append_story("đầu", "cuối") == "đầu\ncuối"
    with pytest.raises(InvalidInput, match="story_empty"):
        append_story("x", "   ")


@pytest.mark.parametrize(("typed", "phone"), [
    ("0912 345 678", "0912345678"),
    ("0912.345.678", "0912345678"),
    ("+84 912 345 678", "0912345678"),
    ("02293800000", "02293800000"),
])
def test_phone_numbers(typed, phone):
    assert normalise_phone(typed) == phone


@pytest.mark.parametrize("typed", ["abc", "123", "0912 345 678 999 999 9", "<b>0912</b>"])
def test_bad_phone_numbers(typed):
    with pytest.raises(InvalidInput, match="phone_invalid"):
        normalise_phone(typed)


@pytest.mark.parametrize(("text", "expected"), [
    ("0912 345 678 Lan", ("0912 345 678", "Lan")),
    ("Chị Lan, 0912345678", ("0912345678", "Chị Lan")),
    ("Lan", ("Lan", None)),
])
def test_split_contact(text, expected):
    assert split_contact(text) == expected


def test_tracking_codes_are_readable_unique_and_normalised():
    codes = {new_tracking_code() for _ in range(20_000)}
    assert len(codes) == 20_000
    for code in list(codes)[:500]:
        assert len(code) == 9 and code[4] == "-"
        assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
        assert not set(code) & set("01OI")
        assert normalise_tracking_code(code.lower().replace("-", " ")) == code
    assert normalise_tracking_code("ABCD-EFG0") is None  # 0 is never in a code
    assert normalise_tracking_code("ABCD-EFG") is None
    assert normalise_tracking_code("<script>") is None


def test_reporters_see_coarse_statuses_only():
    assert {public_status(s) for s in CaseStatus} == set(PublicStatus)
    assert public_status(CaseStatus.EMERGENCY) is PublicStatus.SUPPORTING
    assert public_status(CaseStatus.ASSESSING) is PublicStatus.VERIFYING


def test_story_parts_keep_their_messages_and_an_edit_replaces_one_in_place():
    answers: dict = {}
    add_story_part(answers, " Em bị đánh. ", 10)
    add_story_part(answers, "Bố say rượu.", 11)
    assert answers["story"] == "Em bị đánh.\nBố say rượu."
    assert replace_story_part(answers, 10, "Em bị bố đánh.")
    assert answers["story"] == "Em bị bố đánh.\nBố say rượu."
    assert not replace_story_part(answers, 99, "khác")  # not a part: nothing changes
    assert answers["story"] == "Em bị bố đánh.\nBố say rượu."
    with pytest.raises(InvalidInput):
        replace_story_part(answers, 11, "\u200b ")
    with pytest.raises(InvalidInput):
        replace_story_part(answers, 11, "x" * MAX_STORY_CHARS)
    assert answers["story"] == "Em bị bố đánh.\nBố say rượu."  # a refused edit changes nothing
    add_story_part(answers, "Kể lại.", 12, fresh=True)
    assert answers["story"] == "Kể lại." and story_parts(answers) == [[12, "Kể lại."]]


def test_a_draft_from_before_parts_were_kept_is_one_part_without_a_message():
    answers = {"story": "Lời kể cũ."}
    assert story_parts(answers) == [[None, "Lời kể cũ."]]
    assert not replace_story_part(answers, 5, "mới")
    add_story_part(answers, "Thêm.", 6)
    assert answers["story"] == "Lời kể cũ.\nThêm."
