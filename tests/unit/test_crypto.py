"""AES-256-GCM values: round trip, wrong key refused, tampering detected, rotation."""

from __future__ import annotations

import pytest

from storage.crypto import (
    DataKeyError,
    EncryptedFloat,
    EncryptedJSON,
    EncryptedText,
    Keyring,
    generate_key,
    parse_key,
    stored_key_id,
    use_keyring,
)

STORY = "Em Lan (7 tuổi) bị đánh ở nhà số 12 <b>, gọi 0912 345 678 – ưu tiên"


def test_round_trip_and_fresh_nonce_each_time():
    keyring = Keyring.from_text(generate_key())
    one, two = keyring.encrypt(STORY), keyring.encrypt(STORY)
    assert one != two  # a random nonce per value: equal stories do not look equal
    assert STORY not in one and "0912" not in one
    assert one.startswith(f"enc1:{keyring.current_id}:")
    assert keyring.decrypt(one) == keyring.decrypt(two) == STORY
    assert keyring.decrypt(keyring.encrypt("")) == ""


def test_a_wrong_key_is_refused_not_misread():
    value = Keyring.from_text(generate_key()).encrypt(STORY)
    with pytest.raises(DataKeyError) as err:
        Keyring.from_text(generate_key()).decrypt(value)
    assert err.value.code == "unknown"
    assert err.value.key_id == stored_key_id(value)


@pytest.mark.parametrize("position", [-1, -20, 20])
def test_a_changed_character_is_detected(position):
    keyring = Keyring.from_text(generate_key())
    value = keyring.encrypt(STORY)
    changed = value[:position] + ("A" if value[position] != "A" else "B") + value[position:][1:]
    with pytest.raises(DataKeyError) as err:
        keyring.decrypt(changed)
    assert err.value.code == "tampered"


def test_a_value_under_one_key_id_but_written_with_another_key_is_tampered():
    good, other = Keyring.from_text(generate_key()), Keyring.from_text(generate_key())
    forged = other.encrypt(STORY).replace(other.current_id, good.current_id, 1)
    with pytest.raises(DataKeyError) as err:
        good.decrypt(forged)
    assert err.value.code == "tampered"


def test_rotation_reads_old_values_and_writes_under_the_new_key():
    old_key, new_key = generate_key(), generate_key()
    old = Keyring.from_text(old_key)
    rotating = Keyring.from_text(new_key, old=old_key)
    stored = old.encrypt(STORY)
    assert rotating.decrypt(stored) == STORY
    again = rotating.reencrypt(stored)
    assert stored_key_id(again) == rotating.current_id != old.current_id
    assert rotating.reencrypt(again) == again  # already current: unchanged
    assert Keyring.from_text(new_key).decrypt(again) == STORY  # the old key can go
    plain = rotating.reencrypt("viết trước khi có mã hoá")  # rows from before encryption
    assert rotating.decrypt(plain) == "viết trước khi có mã hoá"


A_KEY = "VXDFZ4vE2u7M-XYIjeK0-9Y74_9qOPX6qN0Ps6H5_S8="  # fixed: xdist workers must agree


@pytest.mark.parametrize("text", ["", "abc", "changeme", A_KEY[:-4], A_KEY + "AAAA",
                                  A_KEY.replace("-", "+")])
def test_malformed_keys_are_refused(text):
    with pytest.raises(DataKeyError):
        parse_key(text)


def test_a_key_from_keygen_is_accepted():
    assert len(parse_key(A_KEY)) == len(parse_key(generate_key())) == 32


def test_blind_index_matches_equal_values_only():
    keyring = Keyring.from_text(generate_key())
    assert keyring.blind_index("Nguyễn  Thị Lan") == keyring.blind_index("nguyễn thị lan")
    assert keyring.blind_index("Nguyễn Thị Lan") != keyring.blind_index("Nguyễn Thị Lân")
    assert "Lan" not in keyring.blind_index("Nguyễn Thị Lan")
    assert (Keyring.from_text(generate_key()).blind_index("0912345678")
            != keyring.blind_index("0912345678"))


def test_column_types_round_trip_through_the_installed_keyring():
    previous = use_keyring(Keyring.from_text(generate_key()))
    try:
        for kind, value in ((EncryptedText(), STORY), (EncryptedFloat(), 21.028511),
                            (EncryptedJSON(), {"story": STORY, "location": [21.0, 105.8]})):
            stored = kind.process_bind_param(value, None)
            assert stored.startswith("enc1:") and "Lan" not in stored
            assert kind.process_result_value(stored, None) == value
            assert kind.process_bind_param(None, None) is None
        use_keyring(None)
        with pytest.raises(DataKeyError) as err:
            EncryptedText().process_bind_param(STORY, None)
        assert err.value.code == "missing"
    finally:
        use_keyring(previous)
