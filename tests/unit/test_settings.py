"""bot/settings.py: configuration is checked once at start, with every problem named."""

from __future__ import annotations

import os
import re
import zoneinfo

import pytest

from bot.settings import DEFAULT_DATABASE_URL, ConfigError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cr3t-webhook_Value42"
WEBHOOK = {
    "TREEM_MODE": "webhook",
    "TREEM_WEBHOOK_URL": "https://bot.example.vn/telegram",
    "TREEM_WEBHOOK_SECRET": SECRET,
    "TELEGRAM_BOT_TOKEN": TOKEN,
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No .env from the repository and no variables from the developer's shell."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "TREEM_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    return info.value.problems


# --- defaults ------------------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_url.startswith("sqlite+aiosqlite:///./data/")
    assert settings.mode == "polling"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.tz == zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.bot_base_url == "https://api.telegram.org/bot"
    assert settings.bot_file_url == "https://api.telegram.org/file/bot"
    assert settings.admin_ids == frozenset()
    assert settings.invite_ttl.total_seconds() == 72 * 3600


def test_api_url_trailing_slash_is_dropped() -> None:
    settings = load_settings(TELEGRAM_API_URL="http://127.0.0.1:8081/ ")
    assert settings.bot_base_url == "http://127.0.0.1:8081/bot"
    assert settings.bot_file_url == "http://127.0.0.1:8081/file/bot"


def test_api_url_must_be_http() -> None:
    (problem,) = problems(TELEGRAM_API_URL="api.telegram.org")
    assert problem.startswith("TELEGRAM_API_URL: ")


def test_token_is_kept_secret_and_stripped() -> None:
    settings = load_settings(TELEGRAM_BOT_TOKEN=f"  {TOKEN}\n")
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)


def test_empty_token_means_no_token() -> None:
    assert load_settings(TELEGRAM_BOT_TOKEN="  ").telegram_bot_token is None


# --- admin ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", frozenset()),
        ("1", {1}),
        ("1, 2", {1, 2}),
        (" 1 ,2 , ", {1, 2}),
        ("1;2", {1, 2}),
        ("1; 2, 3", {1, 2, 3}),
        ("900000000001", {900_000_000_001}),
        ("5,5", {5}),
    ],
)
def test_admin_ids(raw: str, expected: set[int]) -> None:
    assert load_settings(TREEM_ADMIN_IDS=raw).admin_ids == frozenset(expected)


def test_admin_ids_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREEM_ADMIN_IDS", "11; 22")
    assert load_settings().admin_ids == {11, 22}


@pytest.mark.parametrize("raw", ["abc", "1, abc", "1 2", "1.5", "-"])
def test_bad_admin_ids(raw: str) -> None:
    (problem,) = problems(TREEM_ADMIN_IDS=raw)
    assert problem.startswith("TREEM_ADMIN_IDS: ")


# --- token ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "changeme",
        "CHANGEME",
        "your-token",
        "123456",
        "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # bot id must be digits
        "123456789:short",
        "123456789 AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    ],
)
def test_bad_token(token: str) -> None:
    (problem,) = problems(TELEGRAM_BOT_TOKEN=token)
    assert problem.startswith("TELEGRAM_BOT_TOKEN: ")
    assert "@BotFather" in problem


# --- webhook mode --------------------------------------------------------------------------


def test_webhook_mode_complete() -> None:
    settings = load_settings(**WEBHOOK)
    assert settings.mode == "webhook"
    assert settings.webhook_url == "https://bot.example.vn/telegram"
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"TREEM_WEBHOOK_URL": None}, "TREEM_WEBHOOK_URL"),
        ({"TREEM_WEBHOOK_URL": "http://bot.example.vn/telegram"}, "TREEM_WEBHOOK_URL"),
        ({"TREEM_WEBHOOK_SECRET": None}, "TREEM_WEBHOOK_SECRET"),
        ({"TREEM_WEBHOOK_SECRET": ""}, "TREEM_WEBHOOK_SECRET"),
        ({"TREEM_WEBHOOK_SECRET": "a" * 15}, "TREEM_WEBHOOK_SECRET"),
        ({"TREEM_WEBHOOK_SECRET": "a" * 15 + "!"}, "TREEM_WEBHOOK_SECRET"),
        ({"TREEM_WEBHOOK_SECRET": "abc def ghi jkl mno"}, "TREEM_WEBHOOK_SECRET"),
        ({"TELEGRAM_BOT_TOKEN": None}, "TELEGRAM_BOT_TOKEN"),
    ],
)
def test_webhook_mode_requirements(override: dict, named: str) -> None:
    found = problems(**{**WEBHOOK, **override})
    assert len(found) == 1
    assert named in found[0]


def test_webhook_secret_of_exactly_16_characters_is_enough() -> None:
    settings = load_settings(**{**WEBHOOK, "TREEM_WEBHOOK_SECRET": "aB3_-" * 3 + "z"})
    assert settings.webhook_secret is not None


def test_polling_mode_needs_no_webhook_settings() -> None:
    assert load_settings(TREEM_MODE="polling", TELEGRAM_BOT_TOKEN=TOKEN).webhook_url is None


def test_unknown_mode() -> None:
    (problem,) = problems(TREEM_MODE="push")
    assert problem.startswith("TREEM_MODE: ")


# --- other fields --------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "UTC+7", "Hà Nội"])
def test_bad_timezone(tz: str) -> None:
    (problem,) = problems(TREEM_TIMEZONE=tz)
    assert problem.startswith("TREEM_TIMEZONE: ")
    assert "unknown time zone" in problem


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///treem.db",
        "postgresql://user@host/db",
        "mysql+aiomysql://user@host/db",
        "treem.db",
    ],
)
def test_bad_database_url(url: str) -> None:
    (problem,) = problems(DATABASE_URL=url)
    assert problem.startswith("DATABASE_URL: ")


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:////var/lib/treem/treem.db", "postgresql+asyncpg://u:p@db/treem"]
)
def test_good_database_url(url: str) -> None:
    assert load_settings(DATABASE_URL=url).database_url == url


@pytest.mark.parametrize(
    ("name", "value"),
    [("TREEM_HTTP_PORT", 0), ("TREEM_HTTP_PORT", 70000), ("TREEM_INVITE_TTL_HOURS", 0),
     ("TREEM_LOG_LEVEL", "TRACE")],
)
def test_out_of_range_values(name: str, value: object) -> None:
    (problem,) = problems(**{name: value})
    assert problem.startswith(f"{name}: ")


# --- all problems at once ------------------------------------------------------------------


def test_every_field_problem_is_listed_at_once() -> None:
    found = problems(TELEGRAM_BOT_TOKEN="changeme", TREEM_ADMIN_IDS="abc")
    assert len(found) == 2
    assert any(p.startswith("TELEGRAM_BOT_TOKEN: ") for p in found)
    assert any(p.startswith("TREEM_ADMIN_IDS: ") for p in found)


def test_config_error_message_has_one_line_per_problem() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(TREEM_TIMEZONE="Nowhere/Land", DATABASE_URL="mysql://x", TREEM_ADMIN_IDS="x")
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert {line.split(":")[0] for line in lines} == {
        "TREEM_TIMEZONE", "DATABASE_URL", "TREEM_ADMIN_IDS"
    }


def test_webhook_mode_lists_every_missing_setting_at_once() -> None:
    found = "\n".join(problems(TREEM_MODE="webhook"))
    assert "TREEM_WEBHOOK_URL" in found
    assert "TREEM_WEBHOOK_SECRET" in found
    assert "TELEGRAM_BOT_TOKEN" in found


# --- the .env file -------------------------------------------------------------------------


def test_dotenv_in_the_working_directory_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nTREEM_ADMIN_IDS=7; 8\nTREEM_TIMEZONE=Asia/Bangkok\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert settings.admin_ids == {7, 8}
    assert settings.timezone == "Asia/Bangkok"


def test_problems_in_dotenv_are_reported(tmp_path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=changeme\n", encoding="utf-8")
    (problem,) = problems()
    assert problem.startswith("TELEGRAM_BOT_TOKEN: ")


def test_overrides_beat_dotenv(tmp_path) -> None:
    (tmp_path / ".env").write_text("TREEM_ADMIN_IDS=7\n", encoding="utf-8")
    assert load_settings(TREEM_ADMIN_IDS="9").admin_ids == {9}


# --- Vietnamese and English ------------------------------------------------------------------

_VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]")


@pytest.mark.parametrize(
    "overrides",
    [
        {"TELEGRAM_BOT_TOKEN": "changeme"},
        {"TREEM_ADMIN_IDS": "abc"},
        {"TREEM_MODE": "push"},
        {"TREEM_HTTP_PORT": "abc"},
        {"TREEM_HTTP_PORT": "0"},
        {"TREEM_INVITE_TTL_HOURS": "100000"},
        {"TREEM_REMINDER_TIME": "8h"},
        {"TREEM_DIGEST_TIME": "sáng"},
        {"TREEM_TIMEZONE": "Hà Nội"},
        {"TREEM_DB_CONNECT_TIMEOUT": "0"},
        {"DATABASE_URL": "mysql://x"},
        {"DATABASE_URL": "postgresql+asyncpg://"},
        {"TELEGRAM_API_URL": "api.telegram.org"},
        {"TREEM_MODE": "webhook"},
    ],
)
def test_each_problem_is_in_vietnamese_then_english(overrides: dict) -> None:
    for line in problems(**overrides):
        name, _sep, text = line.partition(": ")
        assert name.isupper() or name.startswith("TREEM_"), line
        vietnamese, _slash, english = text.partition(" / ")
        assert _VIETNAMESE.search(vietnamese), line
        assert english and english != vietnamese, line


@pytest.mark.parametrize(
    "url",
    ["postgresql+asyncpg://", "postgresql+asyncpg://user@host", "postgresql+asyncpg:///treem",
     "postgresql+asyncpg://u@h:abc/db", "sqlite+aiosqlite://"],
)
def test_database_url_must_name_server_and_database(url: str) -> None:
    (problem,) = problems(DATABASE_URL=url)
    assert problem.startswith("DATABASE_URL: ")


def test_connect_timeout_setting() -> None:
    assert load_settings().db_connect_timeout == 10
    assert load_settings(TREEM_DB_CONNECT_TIMEOUT="2.5").db_connect_timeout == 2.5


def test_redis_is_optional_and_checked() -> None:
    assert load_settings().redis_url is None  # one instance, no Redis: the default install
    assert load_settings(REDIS_URL="").redis_url is None
    assert load_settings(REDIS_URL="redis://127.0.0.1:6379/0").redis_url == \
        "redis://127.0.0.1:6379/0"
    with pytest.raises(ConfigError, match=r"REDIS_URL|redis_url"):
        load_settings(REDIS_URL="127.0.0.1:6379")
