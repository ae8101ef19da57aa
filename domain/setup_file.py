"""A commune's set-up file (TOML or YAML): name, villages, agencies, phones.

Parsing and validation only; storage/setup_import.py writes it to the database.
"""

from __future__ import annotations

import pathlib
import tomllib

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.calendar import DateRule, EventKind, EventSpec
from domain.errors import N_, InvalidInput, Problem
from domain.roles import AgencyKind

SLUG = r"^[a-z0-9][a-z0-9-]{0,23}$"
PHONE = r"^\+?[0-9][0-9 .-]{1,18}[0-9]$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Hotline(_Strict):
    name: str = Field(min_length=1, max_length=100)
    number: str = Field(pattern=PHONE)


class ProvinceSetup(_Strict):
    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)


class CommuneSetup(_Strict):
    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)
    on_duty_phone: str = Field(pattern=PHONE)
    report_to: str = Field(default="", max_length=200)
    hotlines: tuple[Hotline, ...] = ()
    # Plans and closings go to the commune's leader (Decree 56/2017, Điều 28, 30); a small
    # commune may switch it off.
    leader_approval: bool = True


class VillageSetup(_Strict):
    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)


class AgencySetup(_Strict):
    code: str = Field(pattern=SLUG)
    kind: AgencyKind
    name: str = Field(min_length=1, max_length=150)
    phone: str | None = Field(default=None, pattern=PHONE)


class EventSetup(_Strict):
    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    kind: EventKind
    date: str
    lead_days: tuple[int, ...] = (7, 1, 0)
    audience: tuple[str, ...] = ("all",)
    message: str = Field(default="", max_length=1500)
    report_period: str | None = Field(default=None, pattern=r"^(6m|year)$")

    @field_validator("date")
    @classmethod
    def _date_rule(cls, value: str) -> str:
        try:
            DateRule.parse(value)
        except InvalidInput:
            raise Problem(N_("use 20/5, 1/6-30/6, 15/8 âm lịch or "
                             "'5 ngày làm việc trước 20/5'")) from None
        return value

    @field_validator("lead_days")
    @classmethod
    def _leads(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 0 <= lead <= 60 for lead in value):
            raise Problem(N_("one to several whole numbers of days from 0 to 60"))
        return value

    def spec(self) -> EventSpec:
        return EventSpec(code=self.code, name=self.name, kind=self.kind,
                         rule=DateRule.parse(self.date), lead_days=self.lead_days,
                         audience=self.audience, message=self.message,
                         report_period=self.report_period)


class CommuneSetupFile(_Strict):
    province: ProvinceSetup
    commune: CommuneSetup
    villages: tuple[VillageSetup, ...] = ()
    agencies: tuple[AgencySetup, ...] = ()
    events: tuple[EventSetup, ...] = ()

    @field_validator("villages", "agencies", "events")
    @classmethod
    def _codes_unique(cls, items: tuple) -> tuple:
        codes = [item.code for item in items]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise Problem(N_("duplicate codes: {codes}"), codes=", ".join(duplicates))
        return items


class SetupFileError(InvalidInput):
    """The file cannot be read or does not follow the schema; `details` says where (English),
    `errors` are the schema's problems for a translated rendering (bot/problems.py)."""

    def __init__(self, details: str, errors: list[dict] | None = None,
                 problem: Problem | None = None) -> None:
        super().__init__("setup_file_invalid")
        self.details = details
        self.errors = errors or []
        self.problem = problem

    @classmethod
    def of(cls, message: str, **values: object) -> SetupFileError:
        problem = Problem(message, **values)
        return cls(str(problem), problem=problem)

    def __str__(self) -> str:
        return self.details


def load_setup_file(path: pathlib.Path) -> CommuneSetupFile:
    """Read and validate a set-up file; raise SetupFileError with a readable reason."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SetupFileError.of(N_("{path}: the file cannot be opened ({reason})"), path=path,
                                reason=exc.strerror) from exc
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix.lower() in {".yaml", ".yml"}:
            data = yaml.safe_load(raw.decode("utf-8"))
        else:
            raise SetupFileError.of(N_("{path}: use a .toml, .yaml or .yml file"), path=path)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SetupFileError.of(N_("{path}: not valid TOML or YAML ({reason})"), path=path,
                                reason=exc) from exc
    try:
        return CommuneSetupFile.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        ]
        raise SetupFileError(f"{path}:\n" + "\n".join(lines), exc.errors()) from exc


class _EventsFile(_Strict):
    events: tuple[EventSetup, ...]


DEFAULT_EVENTS_FILE = pathlib.Path(__file__).with_name("data") / "default_events.toml"


def default_events() -> tuple[EventSetup, ...]:
    """The events every commune starts with (domain/data/default_events.toml)."""
    return _EventsFile.model_validate(tomllib.loads(DEFAULT_EVENTS_FILE.read_text("utf-8"))).events


def events_for(setup: CommuneSetupFile) -> tuple[EventSetup, ...]:
    """The defaults, each replaced by the set-up file's event of the same code, plus the
    file's own events."""
    own = {event.code: event for event in setup.events}
    merged = [own.pop(event.code, event) for event in default_events()]
    return tuple(merged) + tuple(own.values())
