"""Invite codes (domain/invites.py): unguessable, fit a /start deep link, single use, expire."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from domain.errors import InviteProblem
from domain.invites import (
    INVITE_PREFIX,
    check_redeemable,
    deep_link_payload,
    hash_invite_code,
    new_invite_code,
    parse_invite_payload,
)

# What Telegram accepts as a /start parameter.
START_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
EXPIRES = NOW + dt.timedelta(hours=72)


# --- codes and deep links ------------------------------------------------------------------


def test_codes_are_unique_over_10000_draws() -> None:
    codes = [new_invite_code() for _ in range(10_000)]
    assert len(set(codes)) == len(codes)


def test_deep_link_payload_fits_telegram_start_parameter() -> None:
    for _ in range(1_000):
        payload = deep_link_payload(new_invite_code())
        assert len(payload) <= 64
        assert START_PARAMETER.match(payload), payload
        assert payload.startswith(INVITE_PREFIX)


def test_payload_round_trips_to_the_code() -> None:
    for _ in range(200):
        code = new_invite_code()
        assert parse_invite_payload(deep_link_payload(code)) == code


@pytest.mark.parametrize("payload", ["", "hello", "start", "I_" + "a" * 20, "x_" + "a" * 20])
def test_payload_that_is_not_an_invite_gives_none(payload: str) -> None:
    assert parse_invite_payload(payload) is None


@pytest.mark.parametrize(
    "payload",
    [
        "i_",  # no code at all
        "i_short",  # too short to be a code
        "i_" + "a" * 15,  # one below the minimum length
        "i_" + "a" * 41,  # one above the maximum length
        "i_" + "a" * 19 + "!",  # character outside the url-safe alphabet
        "i_" + "a" * 19 + "=",  # base64 padding is not url-safe token output
        "i_" + "ạ" * 20,  # non-ASCII
        "i_" + "a" * 10 + " " + "a" * 10,
    ],
)
def test_malformed_invite_gives_empty_string(payload: str) -> None:
    # "" (not None) lets the bot say "this invite link is broken" instead of ignoring it.
    assert parse_invite_payload(payload) == ""


@pytest.mark.parametrize("length", [16, 40])
def test_code_length_limits_are_inclusive(length: int) -> None:
    code = "A-_z9" * 8
    assert parse_invite_payload("i_" + code[:length]) == code[:length]


def test_trailing_newline_is_malformed() -> None:
    assert parse_invite_payload("i_" + "a" * 20 + "\n") == ""


# --- hashing -------------------------------------------------------------------------------


def test_hash_is_stable_and_not_the_code() -> None:
    code = new_invite_code()
    first = hash_invite_code(code)
    assert first == hash_invite_code(code)
    assert first != code
    assert code not in first
    assert re.fullmatch(r"[0-9a-f]{64}", first)


def test_hash_of_a_known_code() -> None:
    # SHA-256 of "abc": pins the algorithm, so stored hashes stay valid across releases.
    assert (
        hash_invite_code("abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_different_codes_have_different_hashes() -> None:
    codes = [new_invite_code() for _ in range(1_000)]
    assert len({hash_invite_code(c) for c in codes}) == len(codes)


# --- redeeming -----------------------------------------------------------------------------


def _problem(**facts: dt.datetime | None) -> str | None:
    values = {"now": NOW, "expires_at": EXPIRES, "used_at": None, "revoked_at": None}
    values.update(facts)
    try:
        check_redeemable(**values)
    except InviteProblem as exc:
        return exc.code
    return None


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param({}, None, id="fresh"),
        pytest.param({"now": EXPIRES - dt.timedelta(seconds=1)}, None, id="one-second-left"),
        pytest.param({"now": EXPIRES}, InviteProblem.EXPIRED, id="exactly-at-expiry"),
        pytest.param({"now": EXPIRES + dt.timedelta(days=1)}, InviteProblem.EXPIRED, id="expired"),
        pytest.param({"used_at": NOW - dt.timedelta(hours=1)}, InviteProblem.USED, id="used"),
        pytest.param({"revoked_at": NOW}, InviteProblem.REVOKED, id="revoked"),
        pytest.param(
            {"used_at": NOW, "revoked_at": NOW}, InviteProblem.REVOKED, id="revoked-wins-over-used"
        ),
        pytest.param(
            {"now": EXPIRES + dt.timedelta(hours=1), "used_at": NOW},
            InviteProblem.USED,
            id="used-wins-over-expired",
        ),
        pytest.param(
            {"now": EXPIRES + dt.timedelta(hours=1), "used_at": NOW, "revoked_at": NOW},
            InviteProblem.REVOKED,
            id="revoked-wins-over-all",
        ),
    ],
)
def test_check_redeemable(facts: dict, expected: str | None) -> None:
    assert _problem(**facts) == expected
