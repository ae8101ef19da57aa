"""The `treem` command: run the bot, the sandbox, migrations, set-up import, invitations."""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys

from bot.i18n import _
from bot.settings import ConfigError, Settings, load_settings


def _settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        print(_("Invalid configuration (environment or .env):"), file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    if settings.telegram_bot_token is None:
        print(_("TELEGRAM_BOT_TOKEN is not set: starting the sandbox instead of the real bot."))
        return cmd_sandbox(args)
    from bot.runner import configure_logging, run_bot

    configure_logging(settings.log_level)
    asyncio.run(run_bot(settings))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox import run_sandbox

    return asyncio.run(run_sandbox(
        database=getattr(args, "db", None) or "data/sandbox.db",
        reset=getattr(args, "reset", False),
        script=sys.stdin if not sys.stdin.isatty() else None,
    ))


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import Database

    settings = _settings_or_exit()

    async def upgrade() -> str | None:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            return await migrate.current_revision(db)
        finally:
            await db.dispose()

    print(_("Database is at revision {revision}.").format(revision=asyncio.run(upgrade())))
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
    from domain.setup_file import SetupFileError, load_setup_file
    from services.setup import import_commune

    settings = _settings_or_exit()
    try:
        setup = load_setup_file(pathlib.Path(args.file))
    except SetupFileError as exc:
        print(_("The set-up file cannot be used:"), file=sys.stderr)
        print(exc.details, file=sys.stderr)
        return 2
    summary = asyncio.run(import_commune(settings.database_url, setup))
    print(_("Imported {commune}: {created} created, {updated} updated, {deactivated} "
            "deactivated.").format(commune=setup.commune.name, created=len(summary.created),
                                   updated=len(summary.updated),
                                   deactivated=len(summary.deactivated)))
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    from domain.errors import DomainError
    from domain.roles import Role

    settings = _settings_or_exit()
    try:
        link, expires = asyncio.run(_cli_invite(settings, args, Role(args.role)))
    except DomainError as exc:
        print(_("Cannot create the invitation: {reason}").format(reason=exc), file=sys.stderr)
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
    try:
        path, count = asyncio.run(_posters(settings, args))
    except DomainError as exc:
        print(_("Cannot make the posters: {reason}").format(reason=exc), file=sys.stderr)
        return 2
    print(_("{count} posters written to {path} – open it in a browser and print.").format(
        count=count, path=path))
    return 0


async def _posters(settings: Settings, args: argparse.Namespace) -> tuple[pathlib.Path, int]:
    from telegram import Bot

    from bot.posters import PosterVillage, render_posters, write_posters
    from domain.errors import NotFound
    from domain.roles import UnitKind
    from storage import migrate
    from storage.db import Database
    from storage.units import find_unit, list_children

    username = args.bot_username
    if not username:
        if settings.telegram_bot_token is None:
            raise NotFound("set TELEGRAM_BOT_TOKEN or pass --bot-username")
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
            if not commune:
                raise NotFound(f"commune {args.province}/{args.commune}")
            villages = [PosterVillage(v.id, v.name) for v in
                        await list_children(commune.id, session=session, kind=UnitKind.VILLAGE)]
    finally:
        await db.dispose()
    content = render_posters(bot_username=username, commune_name=commune.name,
                             on_duty_phone=commune.on_duty_phone, villages=villages)
    return write_posters(pathlib.Path(args.out), commune.code, content), len(villages)


def cmd_check(_args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    mode = settings.mode if settings.telegram_bot_token else "sandbox"
    print(_("Configuration is valid (mode: {mode}).").format(mode=mode))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="treem", description="treem-bot")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the bot (the sandbox when no token is set)")
    run.set_defaults(func=cmd_run)
    sandbox = sub.add_parser("sandbox", help="chat with the bot in this terminal, no token needed")
    sandbox.add_argument("--db", help="sandbox database file (default data/sandbox.db)")
    sandbox.add_argument("--reset", action="store_true", help="start from an empty sandbox")
    sandbox.set_defaults(func=cmd_sandbox)
    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    revision = db.add_parser("revision", help="(developers) write a migration from the models")
    revision.add_argument("message")
    revision.set_defaults(func=cmd_db_revision)
    setup = sub.add_parser("setup", help="commune set-up").add_subparsers(
        dest="setup_command", required=True)
    imp = setup.add_parser("import", help="import a commune set-up file (TOML or YAML)")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_setup_import)
    invite = sub.add_parser("invite", help="print a single-use invitation link")
    invite.add_argument("--province", required=True, help="province code, e.g. ninh-binh")
    invite.add_argument("--commune", help="commune code, e.g. minh-tan (omit for a province admin)")
    invite.add_argument("--role", default="admin",
                        choices=["admin", "officer", "agency", "collaborator"])
    invite.add_argument("--agency", help="agency code (role agency)")
    invite.add_argument("--village", help="village code (role collaborator)")
    invite.set_defaults(func=cmd_invite)
    poster = sub.add_parser("poster", help="printable QR posters, one per village")
    poster.add_argument("--province", required=True)
    poster.add_argument("--commune", required=True)
    poster.add_argument("--out", default="posters", help="output folder (default posters/)")
    poster.add_argument("--bot-username", help="the bot's @username (default: asked from "
                        "Telegram with the token)")
    poster.set_defaults(func=cmd_poster)
    sub.add_parser("check", help="validate the configuration").set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
