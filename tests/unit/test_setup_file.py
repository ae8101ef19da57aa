"""domain/setup_file.py: a commune's set-up file loads, or fails with a readable reason."""

from __future__ import annotations

import copy
import pathlib
import tomllib

import pytest
import yaml

from domain.errors import InvalidInput
from domain.roles import AgencyKind
from domain.setup_file import SetupFileError, load_setup_file

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "minh-tan.toml"


@pytest.fixture
def raw() -> dict:
    """The example file as plain data, to break in each test."""
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def write_yaml(path: pathlib.Path, data: object) -> pathlib.Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def error_of(path: pathlib.Path) -> SetupFileError:
    with pytest.raises(SetupFileError) as info:
        load_setup_file(path)
    return info.value


# --- the example file ----------------------------------------------------------------------


def test_example_file_loads() -> None:
    setup = load_setup_file(EXAMPLE)
    assert "Minh Tân" in setup.commune.name
    assert setup.commune.code == "minh-tan"
    assert setup.province.code == "ninh-binh"
    assert len(setup.villages) >= 8
    assert AgencyKind.POLICE in {a.kind for a in setup.agencies}
    assert "111" in {h.number for h in setup.commune.hotlines}


def test_example_codes_are_unique() -> None:
    setup = load_setup_file(EXAMPLE)
    village_codes = [v.code for v in setup.villages]
    agency_codes = [a.code for a in setup.agencies]
    assert len(set(village_codes)) == len(village_codes)
    assert len(set(agency_codes)) == len(agency_codes)


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML"])
def test_yaml_version_loads_equal(tmp_path: pathlib.Path, raw: dict, suffix: str) -> None:
    path = write_yaml(tmp_path / f"minh-tan{suffix}", raw)
    assert load_setup_file(path) == load_setup_file(EXAMPLE)


def test_whitespace_around_values_is_stripped(tmp_path: pathlib.Path, raw: dict) -> None:
    raw["villages"][0]["name"] = "  Thôn Đông  "
    setup = load_setup_file(write_yaml(tmp_path / "s.yaml", raw))
    assert setup.villages[0].name == "Thôn Đông"


def test_minimal_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(
        '[province]\ncode = "p"\nname = "Tỉnh P"\n'
        '[commune]\ncode = "c"\nname = "Xã C"\non_duty_phone = "+84 229 3800000"\n',
        encoding="utf-8",
    )
    setup = load_setup_file(path)
    assert setup.villages == ()
    assert setup.agencies == ()
    assert setup.commune.hotlines == ()


# --- schema errors: the message names the file and the field -------------------------------


def _duplicate_village(d: dict) -> None:
    d["villages"][1]["code"] = d["villages"][0]["code"]


def _duplicate_agency(d: dict) -> None:
    d["agencies"][2]["code"] = d["agencies"][0]["code"]


def _bad_slug(d: dict) -> None:
    d["villages"][0]["code"] = "Thôn 1"


def _unknown_kind(d: dict) -> None:
    d["agencies"][0]["kind"] = "army"


def _extra_key(d: dict) -> None:
    d["commune"]["mayor"] = "Ông A"


def _extra_top_level_key(d: dict) -> None:
    d["district"] = {"code": "x"}


def _missing_commune(d: dict) -> None:
    del d["commune"]


def _bad_phone(d: dict) -> None:
    d["commune"]["on_duty_phone"] = "gọi ông trưởng thôn"


def _bad_hotline_number(d: dict) -> None:
    d["commune"]["hotlines"][0]["number"] = "1"


def _phone_as_number(d: dict) -> None:
    d["commune"]["hotlines"][0]["number"] = 111


def _empty_name(d: dict) -> None:
    d["villages"][3]["name"] = "   "


def _bad_agency_phone(d: dict) -> None:
    d["agencies"][7]["phone"] = "113a"


@pytest.mark.parametrize(
    ("breaks", "where", "says"),
    [
        (_duplicate_village, "villages:", "duplicate codes: thon-dong"),
        (_duplicate_agency, "agencies:", "duplicate codes: vhxh"),
        (_bad_slug, "villages.0.code:", "pattern"),
        (_unknown_kind, "agencies.0.kind:", "'police'"),
        (_extra_key, "commune.mayor:", "Extra inputs are not permitted"),
        (_extra_top_level_key, "district:", "Extra inputs are not permitted"),
        (_missing_commune, "commune:", "Field required"),
        (_bad_phone, "commune.on_duty_phone:", "pattern"),
        (_bad_hotline_number, "commune.hotlines.0.number:", "pattern"),
        (_phone_as_number, "commune.hotlines.0.number:", "valid string"),
        (_empty_name, "villages.3.name:", "at least 1 character"),
        (_bad_agency_phone, "agencies.7.phone:", "pattern"),
    ],
)
def test_schema_errors_name_the_field(
    tmp_path: pathlib.Path, raw: dict, breaks, where: str, says: str
) -> None:
    data = copy.deepcopy(raw)
    breaks(data)
    path = write_yaml(tmp_path / "setup.yaml", data)
    error = error_of(path)
    assert isinstance(error, InvalidInput)
    assert error.code == "setup_file_invalid"
    text = str(error)
    assert text.startswith(f"{path}:")
    line = next((ln for ln in text.splitlines() if ln.strip().startswith(where)), None)
    assert line is not None, text
    assert says in line


def test_every_schema_problem_is_listed(tmp_path: pathlib.Path, raw: dict) -> None:
    _bad_slug(raw)
    _unknown_kind(raw)
    _bad_phone(raw)
    text = str(error_of(write_yaml(tmp_path / "setup.yaml", raw)))
    assert "villages.0.code" in text
    assert "agencies.0.kind" in text
    assert "commune.on_duty_phone" in text


# --- file-level errors ---------------------------------------------------------------------


def test_wrong_extension(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "setup.json"
    path.write_text("{}", encoding="utf-8")
    error = error_of(path)
    assert str(error) == f"{path}: use a .toml, .yaml or .yml file"


def test_invalid_toml(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "setup.toml"
    path.write_text('[commune\nname = "Xã"\n', encoding="utf-8")
    text = str(error_of(path))
    assert text.startswith(f"{path}: ")
    assert "line 1" in text


def test_invalid_yaml(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "setup.yaml"
    path.write_text("commune: [\n", encoding="utf-8")
    text = str(error_of(path))
    assert text.startswith(f"{path}: ")
    assert "line" in text


def test_not_utf8(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "setup.toml"
    path.write_bytes('[province]\nname = "Tỉnh"\n'.encode("utf-16"))
    assert str(error_of(path)).startswith(f"{path}: ")


def test_missing_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nope.toml"
    assert str(error_of(path)) == f"{path}: the file cannot be opened (No such file or directory)"
