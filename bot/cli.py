"""The `treem` command: run the bot, the sandbox, migrations, set-up import, invitations."""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys

from bot.i18n import N_, _, both
from bot.problems import problem_lines
from bot.settings import ConfigError, Settings, load_settings


async def _upgrade(url: str) -> str | None:
    """Migrate the database to the newest revision; returns the revision it is at."""
    from storage import migrate
    from storage.db import Database

    db = Database(url)
    try:
        await migrate.upgrade(db)
        return await migrate.current_revision(db)
    finally:
        await db.dispose()


def _settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        print(both(N_("Invalid configuration (environment or .env):")), file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def _check_or_exit(settings: Settings, probe) -> None:  # noqa: ANN001
    """Run a start-up check `probe(db)`: one clear line and exit status 1 when it fails."""
    from bot.startup import StartupError
    from storage.db import Database

    async def check() -> None:
        db = Database(settings.database_url, connect_timeout=settings.db_connect_timeout)
        try:
            await probe(db)
        finally:
            await db.dispose()

    try:
        asyncio.run(check())
    except StartupError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None


def _database_or_exit(settings: Settings) -> None:
    """One clear line and exit status 1 when the database cannot be used (within 10 s)."""
    from bot.startup import check_database

    _check_or_exit(settings, check_database)


def _data_key_or_exit(settings: Settings) -> None:
    """One clear line and exit status 1 when TREEM_DATA_KEY is missing or cannot read the
    stored cases (writes nothing: plain-text values are encrypted by the bot at start)."""
    from sqlalchemy.exc import DBAPIError

    from bot.startup import StartupError, check_data_key

    async def probe(db) -> None:  # noqa: ANN001
        try:
            await check_data_key(db, settings.keyring(), encrypt_plaintext=False)
        except DBAPIError:
            # Tables not created yet (a new database): nothing is encrypted.
            if settings.keyring() is None:
                raise StartupError(_data_key_text("missing")) from None

    _check_or_exit(settings, probe)


def _data_key_text(code: str) -> str:
    from bot.startup import data_key_problem_text

    return data_key_problem_text(code)


def cmd_keygen(_args: argparse.Namespace) -> int:
    """Prints a new data key (stdout: the key alone, so it can be piped into a file)."""
    from storage.crypto import generate_key, key_id, parse_key

    key = generate_key()
    print(key)
    print(_("New data key {key_id}: put it in .env as TREEM_DATA_KEY=… and keep a copy "
            "offline (a paper in the commune's safe). Without it the cases cannot be "
            "read.").format(key_id=key_id(parse_key(key))), file=sys.stderr)
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    """Re-encrypts every stored value under TREEM_DATA_KEY (the new key), reading the old
    values with TREEM_DATA_KEY_OLD; in batches, safe while the bot runs with both keys."""
    from storage import data_key, migrate
    from storage import register as register_store
    from storage.crypto import DataKeyError
    from storage.db import Database

    settings = _settings_or_exit()
    _database_or_exit(settings)
    keyring = settings.keyring()
    if keyring is None:
        print(_data_key_text("missing"), file=sys.stderr)
        return 1

    async def rotate() -> tuple[dict[str, int], set[str]]:
        db = Database(settings.database_url, connect_timeout=settings.db_connect_timeout)
        try:
            await migrate.upgrade(db)
            check = await data_key.inspect(db, keyring)
            if check.unknown:
                raise DataKeyError("unknown", sorted(check.unknown)[0])
            changed = await data_key.reencrypt(db, keyring, batch=args.batch)
            keys = await register_store.recompute_match_keys(db, keyring, batch=args.batch)
            if keys:
                changed["register_children.match_key"] = keys
            return changed, (await data_key.inspect(db, keyring)).key_ids
        finally:
            await db.dispose()

    from bot.startup import data_key_problem_text

    try:
        changed, key_ids = asyncio.run(rotate())
    except DataKeyError as exc:
        print(data_key_problem_text(exc.code, exc.key_id), file=sys.stderr)
        return 1
    print(_("{count} values re-encrypted under key {key_id}; keys in use now: {keys}. "
            "Remove TREEM_DATA_KEY_OLD and restart the bot.").format(
        count=f"{sum(changed.values()):,}".replace(",", "."), key_id=keyring.current_id,
        keys=", ".join(sorted(key_ids)) or "–"))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    if settings.telegram_bot_token is None:
        print(_("TELEGRAM_BOT_TOKEN is not set: starting the sandbox instead of the real bot."))
        return cmd_sandbox(args)
    from bot.runner import configure_logging, run_bot
    from bot.startup import StartupError

    configure_logging(settings.log_level, tuple(
        secret.get_secret_value() for secret in (settings.telegram_bot_token,
                                                 settings.webhook_secret) if secret))
    try:
        asyncio.run(run_bot(settings))
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox import run_sandbox

    return asyncio.run(run_sandbox(
        database=getattr(args, "db", None) or "data/sandbox.db",
        reset=getattr(args, "reset", False),
        script=sys.stdin if not sys.stdin.isatty() else None,
    ))


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    _database_or_exit(settings)

    revision = asyncio.run(_upgrade(settings.database_url))
    print(_("Database is at revision {revision}.").format(revision=revision))
    return 0


def cmd_db_revision(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import Database

    settings = _settings_or_exit()

    async def revision() -> None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            await migrate.autogenerate(db, args.message)
        finally:
            await db.dispose()

    asyncio.run(revision())
    return 0


def cmd_setup_import(args: argparse.Namespace) -> int:
    from domain.setup_file import ProvinceSetupFile, SetupFileError, load_any_setup_file
    from services.setup import import_commune

    settings = _settings_or_exit()
    try:
        setup = load_any_setup_file(pathlib.Path(args.file))
    except SetupFileError as exc:
        print(_("The set-up file cannot be used:"), file=sys.stderr)
        if exc.problem is not None:
            print("  " + both(exc.problem.message, **exc.problem.values), file=sys.stderr)
        else:
            print(f"  {args.file}:", file=sys.stderr)
        for line in problem_lines(exc.errors):
            print(f"    {line}", file=sys.stderr)
        return 2
    _database_or_exit(settings)
    summary = asyncio.run(import_commune(settings.database_url, setup))
    name = setup.province.name if isinstance(setup, ProvinceSetupFile) else setup.commune.name
    print(_("Imported {commune}: {created} created, {updated} updated, {deactivated} "
            "deactivated.").format(commune=name, created=len(summary.created),
                                   updated=len(summary.updated),
                                   deactivated=len(summary.deactivated)))
    if summary.kept:
        print(_("Kept the changes made in the chat to: {targets} (the file did not change "
                "them).").format(targets=", ".join(summary.kept)))
    if summary.overridden:
        print(_("Warning: the file changed what was also changed in the chat, so the file's "
                "values now apply to: {targets}.").format(targets=", ".join(summary.overridden)))
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    from domain.errors import DomainError
    from domain.roles import Role

    settings = _settings_or_exit()
    _database_or_exit(settings)
    try:
        link, expires = asyncio.run(_cli_invite(settings, args, Role(args.role)))
    except DomainError as exc:
        print(_("Cannot create the invitation: {reason}").format(reason=_cli_reason(exc)),
              file=sys.stderr)
        return 2
    print(_("Single-use invitation, valid until {expires}:").format(expires=expires))
    print(link)
    return 0


async def _cli_invite(settings: Settings, args: argparse.Namespace, role) -> tuple[str, str]:  # noqa: ANN001
    from telegram import Bot

    from bot.i18n import vi_datetime
    from domain.clock import SystemClock
    from domain.invites import deep_link_payload
    from services.setup import create_invite_by_codes
    from storage import migrate
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
        created = await create_invite_by_codes(
            db, province=args.province, commune=args.commune, role=role, agency=args.agency,
            village=args.village, ttl=settings.invite_ttl, now=SystemClock().now())
    finally:
        await db.dispose()
    payload = deep_link_payload(created.code)
    expires = vi_datetime(created.invite.expires_at, settings.tz)
    if settings.telegram_bot_token is None:
        return _("Open the bot and send: /start {payload}").format(payload=payload), expires
    bot = Bot(settings.telegram_bot_token.get_secret_value(), base_url=settings.bot_base_url,
              base_file_url=settings.bot_file_url)
    async with bot:
        return f"https://t.me/{bot.username}?start={payload}", expires


def cmd_poster(args: argparse.Namespace) -> int:
    from domain.errors import DomainError

    settings = _settings_or_exit()
    _database_or_exit(settings)
    try:
        path, count = asyncio.run(_posters(settings, args))
    except DomainError as exc:
        print(_("Cannot make the posters: {reason}").format(reason=_cli_reason(exc)),
              file=sys.stderr)
        return 2
    print(_("{count} posters written to {path} – open it in a browser and print.").format(
        count=count, path=path))
    return 0


async def _posters(settings: Settings, args: argparse.Namespace) -> tuple[pathlib.Path, int]:
    from telegram import Bot

    from bot.posters import PosterVillage, render_posters, write_posters
    from domain.errors import InvalidInput, UnknownCode
    from domain.roles import UnitKind
    from storage import migrate
    from storage.db import Database
    from storage.units import find_unit, list_children

    username = args.bot_username
    if not username:
        if settings.telegram_bot_token is None:
            raise InvalidInput("bot_username_needed")
        bot = Bot(settings.telegram_bot_token.get_secret_value(), base_url=settings.bot_base_url)
        async with bot:
            username = bot.username
    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
        async with db.session() as session:
            province = await find_unit(UnitKind.PROVINCE, args.province, None, session=session)
            commune = province and await find_unit(UnitKind.COMMUNE, args.commune, province.id,
                                                    session=session)
            if not province:
                raise UnknownCode("province", args.province)
            if not commune:
                raise UnknownCode("commune", args.commune)
            villages = [PosterVillage(v.id, v.name) for v in
                        await list_children(commune.id, session=session, kind=UnitKind.VILLAGE)]
    finally:
        await db.dispose()
    content = render_posters(bot_username=username, commune_name=commune.name,
                             on_duty_phone=commune.on_duty_phone, villages=villages)
    return write_posters(pathlib.Path(args.out), commune.code, content), len(villages)


# What an administrator at the command line can do about each refusal (the bot's own
# messages speak to people in Telegram, these name the options).
CLI_INVALID_INPUT = {
    "agency_required": N_("an agency member needs --agency CODE (the agency's code in the "
                          "set-up file)."),
    "agency_not_allowed": N_("--agency is only for the role agency."),
    "unit_kind_mismatch": N_("this role cannot be given there: a village collaborator needs "
                             "--commune and --village, an officer or agency member needs "
                             "--commune, a province administrator no --commune."),
    "role_not_invitable": N_("this role cannot be given by invitation."),
    "agency_not_in_commune": N_("that agency is not part of this commune any more."),
    "bot_username_needed": N_("set TELEGRAM_BOT_TOKEN, or give the bot's name with "
                              "--bot-username."),
}
CLI_UNKNOWN_CODES = {
    "province": N_("no province has the code {code} (import the set-up file first, or check "
                   "--province)."),
    "commune": N_("no commune of this province has the code {code} (check --commune)."),
    "agency": N_("no agency of this commune has the code {code} (check --agency)."),
    "village": N_("no village of this commune has the code {code} (check --village)."),
}


def _cli_reason(exc: Exception) -> str:
    """A refusal from the rules, in Vietnamese, for the command line."""
    from domain.errors import InvalidInput, UnknownCode

    if isinstance(exc, UnknownCode):
        return _(CLI_UNKNOWN_CODES[exc.kind]).format(code=exc.code)
    if isinstance(exc, InvalidInput) and exc.code in CLI_INVALID_INPUT:
        return _(CLI_INVALID_INPUT[exc.code])
    return _("this cannot be done with these options.")


def cmd_check(_args: argparse.Namespace) -> int:
    """Validates the configuration, then connects to the database (no Telegram call)."""
    settings = _settings_or_exit()
    mode = settings.mode if settings.telegram_bot_token else "sandbox"
    _database_or_exit(settings)
    if settings.telegram_bot_token is not None:
        _data_key_or_exit(settings)
    for warning in privacy_warnings(settings):
        print(warning, file=sys.stderr)
    print(_("Configuration is valid (mode: {mode}); the database answers.").format(mode=mode))
    return 0


def privacy_warnings(settings, env_file: pathlib.Path | None = None) -> list[str]:  # noqa: ANN001
    """Files that other local users can read: `.env` (the token, the database password)
    and the SQLite database's folder (children's cases, reporters' phones)."""
    from sqlalchemy.engine import make_url

    found = []
    env_file = env_file or pathlib.Path(".env")
    if env_file.exists() and env_file.stat().st_mode & 0o077:
        found.append(_("Warning: {path} can be read by other users of this machine; it holds "
                       "the bot token. Run: chmod 600 {path}").format(path=env_file))
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = pathlib.Path(url.database).expanduser().parent
        if folder.exists() and folder.stat().st_mode & 0o077:
            found.append(_("Warning: the database folder {path} can be opened by other users "
                           "of this machine. Run: chmod 700 {path}").format(path=folder))
    return found


BACKUP_PROBLEMS = {
    "not_sqlite": N_("treem backup and restore are for SQLite. For PostgreSQL use pg_dump and "
                     "pg_restore (README, “Backup and restore”)."),
    "no_file": N_("DATABASE_URL names no database file."),
    "missing": N_("{path} does not exist."),
    "damaged": N_("{path} is damaged (SQLite's check failed): it cannot be used."),
    "not_a_database": N_("{path} is not a SQLite database."),
    "not_treem": N_("{path} is not a treem-bot database."),
    "target_exists": N_("{path} already exists. Choose another name, or add --force to "
                        "replace it."),
    "no_folder": N_("The folder {path} does not exist."),
    "cannot_write": N_("{path} cannot be written."),
    "database_has_data": N_("The database {path} already holds data. Stop the bot, back the "
                            "database up if it matters, then add --force to replace it."),
}


def _backup_problem(exc: Exception) -> int:
    print(_(BACKUP_PROBLEMS[exc.code]).format(path=exc.path), file=sys.stderr)
    return 2


def cmd_backup(args: argparse.Namespace) -> int:
    from storage.backup import BackupProblem, backup, sqlite_path

    settings = _settings_or_exit()
    try:
        database = sqlite_path(settings.database_url)
        size = backup(database, pathlib.Path(args.path), overwrite=args.force)
    except BackupProblem as exc:
        return _backup_problem(exc)
    print(_("Backup of {database} written to {path} ({size} kB).").format(
        database=database, path=args.path, size=f"{max(1, size // 1024):,}".replace(",", ".")))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from storage.backup import BackupProblem, restore, sqlite_path

    settings = _settings_or_exit()
    try:
        database = sqlite_path(settings.database_url)
        restore(pathlib.Path(args.path), database, overwrite=args.force)
    except BackupProblem as exc:
        return _backup_problem(exc)

    print(_("{database} restored from {path}; the database is at revision {revision}.").format(
        database=database, path=args.path, revision=asyncio.run(_upgrade(settings.database_url))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="treem", description=_("treem-bot: the child-protection assistant of a commune"))
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help=_("start the bot (the sandbox when no token is set)"))
    run.set_defaults(func=cmd_run)
    sandbox = sub.add_parser("sandbox",
                             help=_("chat with the bot in this terminal, no token needed"))
    sandbox.add_argument("--db", help=_("sandbox database file (default data/sandbox.db)"))
    sandbox.add_argument("--reset", action="store_true", help=_("start from an empty sandbox"))
    sandbox.set_defaults(func=cmd_sandbox)
    db = sub.add_parser("db", help=_("database")).add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help=_("apply migrations")).set_defaults(func=cmd_db_upgrade)
    revision = db.add_parser("revision", help=_("(developers) write a migration from the models"))
    revision.add_argument("message")
    revision.set_defaults(func=cmd_db_revision)
    setup = sub.add_parser("setup", help=_("commune set-up")).add_subparsers(
        dest="setup_command", required=True)
    imp = setup.add_parser("import", help=_("import a commune set-up file (TOML or YAML)"))
    imp.add_argument("file")
    imp.set_defaults(func=cmd_setup_import)
    invite = sub.add_parser("invite", help=_("print a single-use invitation link"))
    invite.add_argument("--province", required=True, help=_("province code, e.g. ninh-binh"))
    invite.add_argument("--commune",
                        help=_("commune code, e.g. minh-tan (omit for a province admin)"))
    invite.add_argument("--role", default="admin",
                        choices=["admin", "officer", "agency", "collaborator"])
    invite.add_argument("--agency", help=_("agency code (role agency)"))
    invite.add_argument("--village", help=_("village code (role collaborator)"))
    invite.set_defaults(func=cmd_invite)
    poster = sub.add_parser("poster", help=_("printable QR posters, one per village"))
    poster.add_argument("--province", required=True)
    poster.add_argument("--commune", required=True)
    poster.add_argument("--out", default="posters", help=_("output folder (default posters/)"))
    poster.add_argument("--bot-username", help=_("the bot's @username (default: asked from "
                                                 "Telegram with the token)"))
    poster.set_defaults(func=cmd_poster)
    backup = sub.add_parser("backup", help=_("copy the SQLite database to a file (safe while "
                                             "the bot runs)"))
    backup.add_argument("path", help=_("the backup file to write"))
    backup.add_argument("--force", action="store_true", help=_("replace an existing file"))
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help=_("put a backup back into the SQLite database, "
                                               "then migrate it"))
    restore.add_argument("path", help=_("the backup file to read"))
    restore.add_argument("--force", action="store_true",
                         help=_("replace a database that already holds data"))
    restore.set_defaults(func=cmd_restore)
    sub.add_parser("keygen", help=_("print a new data key (TREEM_DATA_KEY)")
                   ).set_defaults(func=cmd_keygen)
    rotate = sub.add_parser("rotate-key", help=_("re-encrypt the stored cases under "
                                                  "TREEM_DATA_KEY, reading them with "
                                                  "TREEM_DATA_KEY_OLD"))
    rotate.add_argument("--batch", type=int, default=500,
                        help=_("values per transaction (default 500)"))
    rotate.set_defaults(func=cmd_rotate_key)
    sub.add_parser("check", help=_("validate the configuration and connect to the database")
                   ).set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
