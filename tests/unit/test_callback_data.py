"""handlers/callback_data.py: the only way buttons are built and read back."""

from __future__ import annotations

import random
import re
import string

import pytest

from handlers import callback_data as cb
from handlers.callback_data import CallbackData

# Buttons the bot really builds (see handlers/start.py and handlers/members.py).
REAL_BUTTONS = [
    ("menu", "main", ()),
    ("menu", "hotline", ()),
    ("menu", "invite", ()),
    ("menu", "members", ()),
    ("menu", "invites", ()),
    ("menu", "help", ()),
    ("inv", "c", (12,)),
    ("inv", "cp", (3,)),
    ("inv", "r", (12, "officer")),
    ("inv", "r", (12, "agency")),
    ("inv", "r", (12, "collaborator")),
    ("inv", "a", (12, 345)),
    ("inv", "v", (9_000_000_000_001,)),
    ("inv", "x", (77,)),
    ("mem", "rv", (42,)),
    ("mem", "ry", (42,)),
    ("mem", "p", (0,)),
    ("mem", "p", (-1,)),
]


@pytest.mark.parametrize(("feature", "action", "args"), REAL_BUTTONS)
def test_round_trip(feature: str, action: str, args: tuple) -> None:
    data = cb.build(feature, action, *args)
    assert len(data.encode("utf-8")) <= 64
    assert cb.parse(data) == CallbackData(feature, action, tuple(str(a) for a in args))


def test_format_is_versioned() -> None:
    assert cb.build("mem", "rv", 42) == "1:mem:rv:42"


def test_int_args_come_back_as_ints() -> None:
    parsed = cb.parse(cb.build("inv", "a", 12, 9_000_000_000_001, -3))
    assert parsed is not None
    assert [parsed.int_arg(i) for i in range(3)] == [12, 9_000_000_000_001, -3]


def test_every_accepted_build_fits_64_bytes() -> None:
    alphabet = string.ascii_letters + string.digits + "_.-"
    rng = random.Random(20260520)
    accepted = 0
    for _ in range(3_000):
        parts = ["".join(rng.choices(alphabet, k=rng.randint(1, 24)))
                 for _ in range(rng.randint(2, 8))]
        try:
            data = cb.build(*parts)
        except ValueError:
            continue
        accepted += 1
        assert len(data.encode("utf-8")) <= 64, data
        assert cb.parse(data) == CallbackData(parts[0], parts[1], tuple(parts[2:]))
    assert accepted > 100  # the loop really exercised accepted data


@pytest.mark.parametrize(
    ("feature", "action", "args"),
    [
        pytest.param("mem", "r:v", (), id="colon-in-action"),
        pytest.param("mem", "rv", ("1:2",), id="colon-in-arg"),
        pytest.param("thành-viên", "rv", (), id="non-ascii-feature"),
        pytest.param("mem", "xoá", (), id="non-ascii-action"),
        pytest.param("mem", "rv", ("😀",), id="emoji-arg"),
        pytest.param("mem", "", (), id="empty-action"),
        pytest.param("", "rv", (), id="empty-feature"),
        pytest.param("mem", "rv", ("",), id="empty-arg"),
        pytest.param("mem", "r v", (), id="space"),
        pytest.param("mem", "a" * 25, (), id="part-over-24-chars"),
        pytest.param("mem", "rv", ("1234567890",) * 6, id="data-over-64-bytes"),
    ],
)
def test_build_rejects(feature: str, action: str, args: tuple) -> None:
    with pytest.raises(ValueError):
        cb.build(feature, action, *args)


def test_build_accepts_exactly_64_bytes() -> None:
    # "1:" + 24 + ":" + 24 + ":" + 12 = 64
    data = cb.build("f" * 24, "a" * 24, "9" * 12)
    assert len(data) == 64
    with pytest.raises(ValueError):
        cb.build("f" * 24, "a" * 24, "9" * 13)


def test_build_rejects_trailing_newline() -> None:
    with pytest.raises(ValueError):
        cb.build("mem", "rv\n")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "0:mem:rv:42",  # a button from an older version of the bot
        "2:mem:rv:42",  # or from a newer one
        "mem:rv:42",
        "1:mem",  # too few parts
        "1",
        ":::",
        "1::rv",
        "1:mem:rv:",
        "1:mem:rv:4 2",
        "1:mem:xoá",
        "garbage",
        "1:mem:" + "a" * 25,
    ],
)
def test_parse_returns_none_for_stale_or_foreign_data(data: str | None) -> None:
    assert cb.parse(data) is None


@pytest.mark.parametrize(
    ("args", "index", "error"),
    [
        (("abc",), 0, ValueError),
        (("1.5",), 0, ValueError),
        (("-",), 0, ValueError),
        (("",), 0, ValueError),
        (("1-2",), 0, ValueError),
    ],
)
def test_int_arg_rejects_non_numbers(args: tuple, index: int, error: type) -> None:
    with pytest.raises(error):
        CallbackData("mem", "rv", args).int_arg(index)


def test_int_arg_absent_raises_value_error() -> None:
    with pytest.raises(ValueError):
        CallbackData("mem", "rv", ()).int_arg(0)


@pytest.mark.parametrize(
    ("feature", "data", "matches"),
    [
        ("mem", "1:mem:rv:42", True),
        ("mem", "1:mem:p:0", True),
        ("mem", "1:menu:main", False),
        ("mem", "1:member:x", False),
        ("mem", "1:inv:c:1", False),
        ("mem", "0:mem:rv:42", False),
        ("mem", "x1:mem:rv:42", False),
        ("menu", "1:menu:main", True),
        ("menu", "1:mem:rv:42", False),
        ("a.b", "1:a.b:x", True),
        ("a.b", "1:axb:x", False),  # '.' is escaped, not "any character"
    ],
)
def test_pattern_matches_only_its_feature(feature: str, data: str, matches: bool) -> None:
    assert bool(re.match(cb.pattern(feature), data)) is matches


@pytest.mark.parametrize("text", ["0", "42", "-1", str(2**53), "9007199254740992"])
def test_numbers_in_range_parse(text: str) -> None:
    assert cb.parse_int(text) == int(text)


@pytest.mark.parametrize(
    "text", ["", "-", "abc", "1.5", "²", "١٢", " 1", "1 ", str(2**53 + 1), str(2**63), "9" * 30]
)
def test_numbers_out_of_range_or_malformed_are_stale(text: str) -> None:
    with pytest.raises(cb.StaleButton):
        cb.parse_int(text)


def test_int_arg_refuses_what_no_button_carries() -> None:
    parsed = cb.parse(cb.build("cs", "take", str(2**63)))
    assert parsed is not None
    with pytest.raises(cb.StaleButton):
        parsed.int_arg(0)
    with pytest.raises(ValueError, match="no argument"):
        parsed.int_arg(1)
    assert cb.parse("1:cs:take:" + "9" * 25) is None  # longer than any part may be
