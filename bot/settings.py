"""Configuration from the environment (and a .env file), validated once at start."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.i18n import N_, both
from bot.problems import problem_lines
from domain.cases import AlertRules, DeadlineRules
from domain.errors import Problem
from domain.reports import ReportLimits
from domain.retention import RetentionRules

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/treem.db"
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_PLACEHOLDERS = {"changeme", "change-me", "your-token", "token", "secret", "xxx"}


class Problems(ValueError):
    """Several problems found together (cross-field checks), each with its variable."""

    def __init__(self, problems: list[tuple[str, Problem]]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in problems))
        self.problems = problems


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    # Several instances of one bot: shared rate limits and per-chat order. None: one instance.
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), alias="TREEM_ADMIN_IDS"
    )
    mode: Literal["polling", "webhook"] = Field(default="polling", alias="TREEM_MODE")
    webhook_url: str | None = Field(default=None, alias="TREEM_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="TREEM_WEBHOOK_SECRET")
    http_host: str = Field(default="127.0.0.1", alias="TREEM_HTTP_HOST")
    http_port: int = Field(default=8080, ge=1, le=65535, alias="TREEM_HTTP_PORT")
    db_connect_timeout: float = Field(default=10.0, gt=0, le=120,
                                      alias="TREEM_DB_CONNECT_TIMEOUT")
    timezone: str = Field(default="Asia/Ho_Chi_Minh", alias="TREEM_TIMEZONE")
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 30, alias="TREEM_INVITE_TTL_HOURS")
    reports_per_hour: int = Field(default=3, ge=1, le=100, alias="TREEM_REPORTS_PER_HOUR")
    draft_remind_minutes: int = Field(default=60, ge=5, le=24 * 60,
                                      alias="TREEM_DRAFT_REMIND_MINUTES")
    draft_expire_hours: int = Field(default=24, ge=1, le=24 * 30, alias="TREEM_DRAFT_EXPIRE_HOURS")
    escalate_minutes: int = Field(default=30, ge=1, le=24 * 60, alias="TREEM_ESCALATE_MINUTES")
    reminder_time: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                               alias="TREEM_REMINDER_TIME")
    # Case deadlines (Law on Children 2016, Decree 56/2017) and the alerts before them.
    emergency_hours: int = Field(default=12, ge=1, le=72, alias="TREEM_EMERGENCY_HOURS")
    assess_hours_urgent: int = Field(default=12, ge=1, le=72, alias="TREEM_ASSESS_HOURS_URGENT")
    assess_working_days: int = Field(default=3, ge=1, le=30, alias="TREEM_ASSESS_WORKING_DAYS")
    plan_working_days: int = Field(default=5, ge=1, le=30, alias="TREEM_PLAN_WORKING_DAYS")
    # How many working days the bot gives itself to answer a person's request about their own
    # data (see, withdraw). Local practice, not a figure from the law: the chat answers at once.
    data_request_working_days: int = Field(default=2, ge=1, le=30,
                                           alias="TREEM_DATA_REQUEST_WORKING_DAYS")
    review_working_days: int = Field(default=20, ge=1, le=120,
                                     alias="TREEM_REVIEW_WORKING_DAYS")
    # Local practice, not the decree's numbers: an urgent case's plan (Điều 28.1 exempts it
    # from the 5 working days) and the leader's decision on a plan or a closing.
    plan_hours_urgent: int = Field(default=48, ge=1, le=240, alias="TREEM_PLAN_HOURS_URGENT")
    approval_working_days: int = Field(default=2, ge=1, le=30,
                                       alias="TREEM_APPROVAL_WORKING_DAYS")
    approval_hours_urgent: int = Field(default=12, ge=1, le=72,
                                       alias="TREEM_APPROVAL_HOURS_URGENT")
    alert_before_hours: int = Field(default=24, ge=1, le=168, alias="TREEM_ALERT_BEFORE_HOURS")
    alert_before_urgent_hours: int = Field(default=3, ge=1, le=12,
                                           alias="TREEM_ALERT_BEFORE_URGENT_HOURS")
    overdue_escalate_hours: int = Field(default=0, ge=0, le=168,
                                        alias="TREEM_OVERDUE_ESCALATE_HOURS")
    digest_time: str = Field(default="07:30", pattern=r"^(off|([01]\d|2[0-3]):[0-5]\d)$",
                             alias="TREEM_DIGEST_TIME")
    rate_limit_time_scale: float = Field(default=1.0, ge=1.0, le=1000.0,
                                         alias="TREEM_RATE_LIMIT_TIME_SCALE")
    # Outbox requests in flight at once on the active instance: also the most messages a
    # crash can leave "uncertain" (sent or not, never resent).
    send_concurrency: int = Field(default=2, ge=1, le=16, alias="TREEM_SEND_CONCURRENCY")
    # AES-256 key of the sensitive fields (`treem keygen`); the old key(s) during a rotation.
    data_key: SecretStr | None = Field(default=None, alias="TREEM_DATA_KEY")
    data_key_old: SecretStr | None = Field(default=None, alias="TREEM_DATA_KEY_OLD")
    # Retention: reporter contact erased this long after the case closes; the closed case
    # de-identified after this long (1826 days = 5 years, to adjust to the commune's records
    # practice).
    retention_contact_days: int = Field(default=90, ge=0, le=3650,
                                        alias="TREEM_RETENTION_CONTACT_DAYS")
    retention_closed_days: int = Field(default=1826, ge=30, le=36500,
                                       alias="TREEM_RETENTION_CLOSED_DAYS")
    register_review_months: int = Field(default=3, ge=1, le=12,
                                        alias="TREEM_REGISTER_REVIEW_MONTHS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="TREEM_LOG_LEVEL"
    )
    # Corrections to the `holidays` package's Vietnamese days off: dates like 2027-02-05,
    # separated by commas (domain/workdays.py).
    extra_holidays: Annotated[frozenset[dt.date], NoDecode] = Field(
        default=frozenset(), alias="TREEM_EXTRA_HOLIDAYS")
    extra_working_days: Annotated[frozenset[dt.date], NoDecode] = Field(
        default=frozenset(), alias="TREEM_EXTRA_WORKING_DAYS")

    @field_validator("extra_holidays", "extra_working_days", mode="before")
    @classmethod
    def _split_dates(cls, value: object) -> object:
        if isinstance(value, str):
            days = set()
            for part in (p.strip() for p in value.replace(";", ",").split(",")):
                if not part:
                    continue
                try:
                    days.add(dt.date.fromisoformat(part))
                except ValueError:
                    raise Problem(N_("not a date like 2027-02-05: {value}"),
                                  value=repr(part[:20])) from None
            return frozenset(days)
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise Problem(N_("not a Telegram user id: {value}"), value=repr(part))
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value().strip()
        if token.lower() in _PLACEHOLDERS or not _TOKEN_RE.match(token):
            raise Problem(N_("does not look like a bot token from @BotFather (123456:ABC...)"))
        return SecretStr(token)

    @field_validator("telegram_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise Problem(N_("must start with http:// or https://"))
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise Problem(N_("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://..."))
        try:
            url = make_url(value)
        except (ArgumentError, ValueError) as exc:
            raise Problem(N_("cannot be read as a database URL")) from exc
        if url.get_backend_name() == "postgresql" and not (url.host and url.database):
            raise Problem(N_("name the server and the database: "
                             "postgresql+asyncpg://user:password@host:5432/database"))
        if url.get_backend_name() == "sqlite" and not url.database:
            raise Problem(N_("name the file: sqlite+aiosqlite:///path/to/treem.db"))
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:6379/0 (or rediss://, unix://)")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise Problem(N_("unknown time zone {value}"), value=repr(value)) from exc
        return value

    @field_validator("data_key", "data_key_old")
    @classmethod
    def _check_data_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from storage.crypto import DataKeyError, parse_key

        for part in value.get_secret_value().split(","):
            try:
                parse_key(part)
            except DataKeyError:
                raise Problem(N_("not a key made by `treem keygen` (44 characters of "
                                 "A-Z a-z 0-9 - _ =)")) from None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        secret = value.get_secret_value()
        if not _SECRET_RE.match(secret):
            raise Problem(N_("1-256 characters of A-Z a-z 0-9 _ - only"))
        if secret.lower() in _PLACEHOLDERS or len(secret) < 16:
            raise Problem(N_("use a random secret of at least 16 characters"))
        return value

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.mode != "webhook":
            return self
        missing = []
        if not self.webhook_url or not self.webhook_url.startswith("https://"):
            missing.append(("TREEM_WEBHOOK_URL",
                            Problem(N_("an https:// URL is required in webhook mode"))))
        if self.webhook_secret is None:
            missing.append(("TREEM_WEBHOOK_SECRET", Problem(N_("required in webhook mode"))))
        if self.telegram_bot_token is None:
            missing.append(("TELEGRAM_BOT_TOKEN", Problem(N_("required in webhook mode"))))
        if missing:
            raise Problems(missing)
        return self

    def keyring(self):  # noqa: ANN201 - storage.crypto.Keyring | None
        """The data keys, or None when TREEM_DATA_KEY is not set."""
        if self.data_key is None:
            return None
        from storage.crypto import Keyring

        old = self.data_key_old.get_secret_value() if self.data_key_old else None
        return Keyring.from_text(self.data_key.get_secret_value(), old)

    @property
    def retention(self) -> RetentionRules:
        return RetentionRules(contact_after=dt.timedelta(days=self.retention_contact_days),
                              closed_after=dt.timedelta(days=self.retention_closed_days))

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def invite_ttl(self) -> dt.timedelta:
        return dt.timedelta(hours=self.invite_ttl_hours)

    @property
    def report_limits(self) -> ReportLimits:
        return ReportLimits(
            per_hour=self.reports_per_hour,
            remind_after=dt.timedelta(minutes=self.draft_remind_minutes),
            expire_after=dt.timedelta(hours=self.draft_expire_hours),
            escalate_after=dt.timedelta(minutes=self.escalate_minutes),
        )

    @property
    def deadline_rules(self) -> DeadlineRules:
        return DeadlineRules(emergency_hours=self.emergency_hours,
                             assessment_hours_urgent=self.assess_hours_urgent,
                             assessment_working_days=self.assess_working_days,
                             plan_working_days=self.plan_working_days,
                             plan_hours_urgent=self.plan_hours_urgent,
                             review_working_days=self.review_working_days,
                             approval_working_days=self.approval_working_days,
                             approval_hours_urgent=self.approval_hours_urgent)

    @property
    def alert_rules(self) -> AlertRules:
        return AlertRules(before_days=dt.timedelta(hours=self.alert_before_hours),
                          before_hours=dt.timedelta(hours=self.alert_before_urgent_hours),
                          escalate_after=dt.timedelta(hours=self.overdue_escalate_hours))

    @property
    def digest_at(self) -> dt.time | None:
        if self.digest_time == "off":
            return None
        hour, minute = self.digest_time.split(":")
        return dt.time(int(hour), int(minute))

    @property
    def reminder_hour_minute(self) -> tuple[int, int]:
        hour, minute = self.reminder_time.split(":")
        return int(hour), int(minute)

    @property
    def bot_base_url(self) -> str:
        return f"{self.telegram_api_url}/bot"

    @property
    def bot_file_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"


class ConfigError(Exception):
    """Raised by load_settings with one readable line per problem ("NAME: vi / en")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_PATTERN_MESSAGES = {
    "TREEM_REMINDER_TIME": N_("must be a time of day like 08:00"),
    "TREEM_DIGEST_TIME": N_("must be a time of day like 07:30, or off"),
}


def _problem_lines(err: dict) -> list[str]:
    """The lines for one error: "NAME: Vietnamese / English" (several for Problems)."""
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, Problems):
        return [f"{name}: {both(problem.message, **problem.values)}"
                for name, problem in cause.problems]
    return problem_lines([err], special=_PATTERN_MESSAGES)


def load_settings(**overrides: object) -> Settings:
    """Read and validate the configuration once; ConfigError lists every problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [line for err in exc.errors() for line in _problem_lines(err)]
        raise ConfigError(problems) from exc
