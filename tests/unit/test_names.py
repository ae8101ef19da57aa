"""domain/names.py: Vietnamese alphabetical order and typed-name matching."""

from __future__ import annotations

from domain.names import fold, matches, sort_key


def _ordered(names: list[str]) -> list[str]:
    return sorted(names, key=sort_key)


def test_vietnamese_letters_have_their_own_place():
    assert _ordered(["Thôn Đoài", "Thôn Dương", "Thôn Đông", "Thôn Bắc"]) == [
        "Thôn Bắc", "Thôn Dương", "Thôn Đoài", "Thôn Đông"]
    assert _ordered(["Trung", "Tân", "Tây"]) == ["Tân", "Tây", "Trung"]
    assert _ordered(["Ơn", "Ôn", "On", "Ân", "Ăn", "An"]) == ["An", "Ăn", "Ân", "On", "Ôn", "Ơn"]
    assert _ordered(["Ưng", "Uy", "Yên", "Ấp"]) == ["Ấp", "Uy", "Ưng", "Yên"]


def test_tones_only_decide_between_the_same_letters():
    # ngang, huyền, hỏi, ngã, sắc, nặng
    assert _ordered(["Mạ", "Má", "Mã", "Mả", "Mà", "Ma"]) == ["Ma", "Mà", "Mả", "Mã", "Má", "Mạ"]
    assert _ordered(["Ha Nam", "Hà Bắc"]) == ["Hà Bắc", "Ha Nam"]  # letters of the whole name first
    assert _ordered(["An Lạc", "Anh Sơn", "An"]) == ["An", "An Lạc", "Anh Sơn"]


def test_numbers_in_names_compare_as_numbers_and_case_is_ignored():
    assert _ordered(["Xóm 10", "Xóm 2", "xóm 1"]) == ["xóm 1", "Xóm 2", "Xóm 10"]
    assert _ordered(["thôn Đông", "Thôn Đoài"]) == ["Thôn Đoài", "thôn Đông"]


def test_typed_part_of_a_name_matches_without_tones():
    assert fold("  Thôn  Đông ") == "thon dong"
    assert matches("dong", "Thôn Đông") and matches("Đông", "Thôn Đông")
    assert matches("thon dong", "Thôn Đông") and not matches("doai", "Thôn Đông")
    assert not matches("   ", "Thôn Đông")
