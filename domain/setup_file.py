"""A commune's set-up file (TOML or YAML): name, villages, agencies, phones.

Parsing and validation only; storage/setup_import.py writes it to the database.
"""

from __future__ import annotations

import pathlib
import tomllib
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.calendar import AUDIENCE_ALL, DateRule, EventKind, EventSpec, LunarDayMissing
from domain.errors import N_, InvalidInput, Problem
from domain.roles import AgencyKind, Role
from domain.targets import BOT_FIGURES, RoundSpec, Rule, Source, Target, Unit

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
    # "trước ngày 20/5": False (as the words read) → the last day to hand in is 19/5;
    # True → 20/5 itself still counts.
    before_includes_day: bool = False
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


AUDIENCES = frozenset({AUDIENCE_ALL, *(str(k) for k in AgencyKind), *(str(r) for r in Role)})


def check_audience(values: tuple[str, ...]) -> tuple[str, ...]:
    """"all", agency kinds or roles; InvalidInput("audience_invalid") otherwise."""
    if not values or any(v not in AUDIENCES for v in values):
        raise InvalidInput("audience_invalid")
    return tuple(dict.fromkeys(values))


def check_leads(values: tuple[int, ...]) -> tuple[int, ...]:
    """Whole numbers of days from 0 to 60; InvalidInput("lead_days_invalid") otherwise."""
    if not values or len(values) > 10 or any(not 0 <= lead <= 60 for lead in values):
        raise InvalidInput("lead_days_invalid")
    return tuple(sorted(set(values), reverse=True))


class EventSetup(_Strict):
    """An event of the calendar. Only `code` is required when it changes a default event:
    every field left out keeps the default's value (`active = false` switches it off)."""

    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    kind: EventKind
    date: str = Field(max_length=60)
    lead_days: tuple[int, ...] = (7, 1, 0)
    audience: tuple[str, ...] = ("all",)
    message: str = Field(default="", max_length=1500)
    report_period: str | None = Field(default=None, pattern=r"^(6m|year)$")
    active: bool = True

    @field_validator("date")
    @classmethod
    def _date_rule(cls, value: str) -> str:
        try:
            DateRule.parse(value)
        except LunarDayMissing as missing:
            raise Problem(N_("lunar month {month} has only 29 days in some years: write "
                             "'cuối tháng {month} âm lịch' for its last day"),
                          month=missing.month) from None
        except InvalidInput:
            raise Problem(N_("use 20/5, trước 20/5, 1/6-30/6, 15/8 âm lịch, "
                             "'5 ngày làm việc trước 20/5', 'ngày 25 hằng tháng', "
                             "'ngày 20 tháng cuối hằng quý' or 31/12/2030")) from None
        return value

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return check_audience(value)
        except InvalidInput:
            raise Problem(N_("use all, agency kinds ({kinds}) or roles (officer, admin)"),
                          kinds=", ".join(str(k) for k in AgencyKind)) from None

    @field_validator("lead_days")
    @classmethod
    def _leads(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        try:
            return check_leads(value)
        except InvalidInput:
            raise Problem(N_("one to several whole numbers of days from 0 to 60")) from None

    def spec(self, *, before_includes_day: bool = False) -> EventSpec:
        return EventSpec(code=self.code, name=self.name, kind=self.kind,
                         rule=DateRule.parse(self.date, before_includes_day=before_includes_day),
                         lead_days=self.lead_days, audience=self.audience,
                         message=self.message, report_period=self.report_period,
                         active=self.active)


class EventChange(_Strict):
    """A set-up file's [[events]] entry: a new event (all of name, kind and date given) or a
    change to a default event of the same code (only the fields written change)."""

    code: str = Field(pattern=SLUG)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: EventKind | None = None
    date: str | None = Field(default=None, max_length=60)
    lead_days: tuple[int, ...] | None = None
    audience: tuple[str, ...] | None = None
    message: str | None = Field(default=None, max_length=1500)
    report_period: str | None = Field(default=None, pattern=r"^(6m|year)$")
    active: bool | None = None

    @field_validator("date")
    @classmethod
    def _date_rule(cls, value: str | None) -> str | None:
        return None if value is None else EventSetup._date_rule(value)

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else EventSetup._audience(value)

    @field_validator("lead_days")
    @classmethod
    def _leads(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        return None if value is None else EventSetup._leads(value)

    def over(self, base: EventSetup | None) -> EventSetup:
        """The event this entry describes, on top of the default `base` (if any)."""
        given = self.model_dump(exclude_unset=True, exclude_none=True)
        if base is None:
            missing = [f for f in ("name", "kind", "date") if f not in given]
            if missing:
                raise Problem(N_("a new event needs {fields} (no default event has the code "
                                 "{code})"), fields=", ".join(missing), code=self.code)
            return EventSetup(**given)
        return EventSetup(**{**base.model_dump(), **given})


def _checked_values(values: dict[int, float]) -> dict[int, float]:
    if any(not 2000 <= year <= 2099 for year in values):
        raise Problem(N_("years from 2000 to 2099"))
    if any(value < 0 for value in values.values()):
        raise Problem(N_("target values are zero or more"))
    return dict(sorted(values.items()))


class TargetPartSetup(_Strict):
    """One rate of a target that names several ("3a": newborn mortality of target 3)."""

    part: str = Field(pattern=r"^[a-z]{1,2}$")
    name: str = Field(min_length=1, max_length=600)
    unit: Unit
    rule: Rule
    values: dict[int, float] = Field(default_factory=dict)
    agency: str | None = Field(default=None, pattern=SLUG)

    @field_validator("values")
    @classmethod
    def _values(cls, values: dict[int, float]) -> dict[int, float]:
        return _checked_values(values)


class TargetSetup(_Strict):
    """One target (chỉ tiêu) of the commune's plan; one with several rates has `parts`, each
    tracked on its own (its unit, rule and target value per year)."""

    code: str = Field(pattern=SLUG)
    number: str = Field(min_length=1, max_length=8)
    name: str = Field(min_length=1, max_length=1200)
    unit: Unit | None = None
    rule: Rule | None = None
    values: dict[int, float] = Field(default_factory=dict)
    agency: str | None = Field(default=None, pattern=SLUG)
    source: Source = Source.AGENCY
    figure: str | None = None
    parts: tuple[TargetPartSetup, ...] = ()

    @field_validator("values")
    @classmethod
    def _values(cls, values: dict[int, float]) -> dict[int, float]:
        return _checked_values(values)

    @field_validator("figure")
    @classmethod
    def _figure(cls, value: str | None) -> str | None:
        if value is not None and value not in BOT_FIGURES:
            raise Problem(N_("one of: {names}"), names=", ".join(BOT_FIGURES))
        return value

    @model_validator(mode="after")
    def _shape(self) -> TargetSetup:
        if self.parts:
            if self.unit is not None or self.rule is not None or self.values:
                raise Problem(N_("target {code}: with parts, give unit, rule and values in "
                                 "each part"), code=self.code)
            if self.source is Source.BOT:
                raise Problem(N_("target {code}: a figure the bot computes has no parts"),
                              code=self.code)
            if len(self.code) + 2 > 24 or len(self.number) + 2 > 8:
                raise Problem(N_("target {code}: a code of at most 22 characters and a "
                                 "number of at most 6 when it has parts"), code=self.code)
            labels = [part.part for part in self.parts]
            if len(set(labels)) != len(labels):
                raise Problem(N_("target {code}: parts named twice"), code=self.code)
        elif self.unit is None or self.rule is None:
            raise Problem(N_("target {code}: give its unit and rule"), code=self.code)
        return self

    def rows(self) -> list[TargetRow]:
        """What is tracked: the target itself, or each of its parts (code "ct3a", number
        "3a"), with the whole target's wording as their title."""
        if not self.parts:
            return [TargetRow(self.target(), None, None)]
        return [TargetRow(Target(code=f"{self.code}{part.part}",
                                 number=f"{self.number}{part.part}", name=part.name,
                                 unit=part.unit, rule=part.rule, values=dict(part.values),
                                 agency=part.agency or self.agency, source=self.source),
                          self.name, self.code)
                for part in self.parts]

    def target(self) -> Target:
        return Target(code=self.code, number=self.number, name=self.name,
                      unit=self.unit or Unit.PERCENT, rule=self.rule or Rule.AT_LEAST,
                      values=dict(self.values), agency=self.agency, source=self.source,
                      figure=self.figure)


@dataclass(frozen=True)
class TargetRow:
    """One tracked row of the plan: a target, or one part of a target with several rates."""

    target: Target
    title: str | None  # the whole target's wording, for a part
    group_code: str | None  # the whole target's code, for a part


class RoundSetup(_Strict):
    """A report the commune collects agencies' parts for (the report round)."""

    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    collect_by: str
    open_working_days: int = Field(default=10, ge=1, le=60)
    period: str | None = Field(default=None, pattern=r"^(6m|year)$")
    year: int | None = Field(default=None, ge=2000, le=2099)

    @field_validator("collect_by")
    @classmethod
    def _date_rule(cls, value: str) -> str:
        try:
            rule = DateRule.parse(value)
        except InvalidInput:
            rule = None
        if rule is None or rule.kind not in ("fixed", "before"):
            raise Problem(N_("use 10/11 or '5 ngày làm việc trước 15/11'"))
        return value

    def spec(self) -> RoundSpec:
        return RoundSpec(code=self.code, name=self.name, collect_by=self.collect_by,
                         open_working_days=self.open_working_days, period=self.period,
                         year=self.year)


def _unique_codes(items: tuple) -> tuple:
    codes = [item.code for item in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise Problem(N_("duplicate codes: {codes}"), codes=", ".join(duplicates))
    return items


class CommuneSetupFile(_Strict):
    province: ProvinceSetup
    commune: CommuneSetup
    villages: tuple[VillageSetup, ...] = ()
    agencies: tuple[AgencySetup, ...] = ()
    events: tuple[EventChange, ...] = ()
    targets: tuple[TargetSetup, ...] = ()
    rounds: tuple[RoundSetup, ...] = ()

    @field_validator("villages", "agencies", "events", "targets", "rounds")
    @classmethod
    def _codes_unique(cls, items: tuple) -> tuple:
        return _unique_codes(items)

    @model_validator(mode="after")
    def _events_complete(self) -> CommuneSetupFile:
        _merge(self.events)  # a new event without its date, a changed one made invalid...
        self._targets_checked()
        return self

    def _targets_checked(self) -> None:
        agencies = {agency.code for agency in self.agencies}
        codes = [row.target.code for target in self.targets for row in target.rows()]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise Problem(N_("duplicate codes: {codes}"), codes=", ".join(duplicates))
        for setup in self.targets:
            if setup.source is Source.BOT and setup.figure is None:
                raise Problem(N_("target {code}: name the figure the bot computes"),
                              code=setup.code)
            for row in setup.rows():
                target = row.target
                if target.agency is not None and target.agency not in agencies:
                    raise Problem(N_("target {code}: no agency has the code {agency}"),
                                  code=target.code, agency=target.agency)
                if target.source is Source.AGENCY and target.agency is None:
                    raise Problem(N_("target {code}: name the agency that reports it"),
                                  code=target.code)
                if target.rule is not Rule.DOWN and not target.values:
                    raise Problem(N_("target {code}: give the target value per year"),
                                  code=target.code)


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


class ProvinceSection(_Strict):
    """[province] of a province set-up file: the province's own deadlines up (to the ministry
    and the provincial People's Committee) and whom it reports to."""

    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)
    report_to: str = Field(default="", max_length=200)
    # Whom its communes send their reports to, for a commune whose file names nobody
    # ({report_to} in messages); a commune's own report_to wins.
    communes_report_to: str = Field(default="", max_length=200)
    # The province's own report deadlines, used for its figures (/stats at province level).
    report_6m_by: str | None = Field(default=None, max_length=60)
    report_year_by: str | None = Field(default=None, max_length=60)
    before_includes_day: bool = False

    @field_validator("report_6m_by", "report_year_by")
    @classmethod
    def _deadline(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            rule = DateRule.parse(value)
        except InvalidInput:
            rule = None
        if rule is None or rule.kind not in ("fixed", "by"):
            raise Problem(N_("use 20/5 or trước 20/5"))
        return value


class ProvinceSetupFile(_Strict):
    """A province's set-up file: its calendar, which every commune of the province inherits
    ([[events]] change a default by its code or add an event), unless a commune changes the
    same event in its own file or with /event."""

    province: ProvinceSection
    events: tuple[EventChange, ...] = ()

    @field_validator("events")
    @classmethod
    def _codes_unique(cls, items: tuple) -> tuple:
        return _unique_codes(items)

    @model_validator(mode="after")
    def _events_complete(self) -> ProvinceSetupFile:
        _merge(self.events)
        return self

    def deadline_rules(self) -> dict[str, str]:
        """{"6m": rule, "year": rule} of the province's own deadlines it writes."""
        found = {"6m": self.province.report_6m_by, "year": self.province.report_year_by}
        return {kind: rule for kind, rule in found.items() if rule}


def _read(path: pathlib.Path) -> object:
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
    return data


def load_setup_file(path: pathlib.Path) -> CommuneSetupFile:
    """Read and validate a commune's set-up file; raise SetupFileError with a readable reason."""
    return _validated(path, _read(path), CommuneSetupFile)


def load_any_setup_file(path: pathlib.Path) -> CommuneSetupFile | ProvinceSetupFile:
    """A commune's set-up file, or a province's (a [province] section and no [commune])."""
    data = _read(path)
    if isinstance(data, dict) and "commune" not in data and "province" in data:
        return _validated(path, data, ProvinceSetupFile)
    return _validated(path, data, CommuneSetupFile)


def _validated(path: pathlib.Path, data: object, model: type[BaseModel]):  # noqa: ANN202
    try:
        return model.model_validate(data)
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
    """The defaults, each changed by the set-up file's entry of the same code (a whole new
    definition, or only the fields it writes, e.g. `active = false`), plus the file's own
    events."""
    return _merge(setup.events)


def _merge(changes: tuple[EventChange, ...]) -> tuple[EventSetup, ...]:
    own = {event.code: event for event in changes}
    try:
        merged = [own.pop(event.code).over(event) if event.code in own else event
                  for event in default_events()]
        merged += [change.over(None) for change in own.values()]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Problem(N_("{field}: {reason}"), field=".".join(str(p) for p in first["loc"]),
                      reason=first["msg"]) from None
    return tuple(merged)
