"""What stops the bot from starting, said in one line (Vietnamese / English).

Kept light (no Telegram, no handlers) so `treem check` answers quickly.
"""

from __future__ import annotations

from bot.i18n import N_, both
from storage.db import Database, DatabaseProblem
from storage.db import where as database_location


class StartupError(Exception):
    """The bot cannot start; the message is one line in Vietnamese and English."""


DATABASE_PROBLEMS = {
    DatabaseProblem.REFUSED: N_("Cannot connect to the database at {where}: nothing answers "
                                "there (check DATABASE_URL, and that the server is running)."),
    DatabaseProblem.NO_ANSWER: N_("The database at {where} did not answer within {seconds} "
                                  "seconds (check DATABASE_URL and the server)."),
    DatabaseProblem.LOGIN: N_("The database at {where} refused the user name or password in "
                              "DATABASE_URL."),
    DatabaseProblem.NO_DATABASE: N_("The database server at {where} has no database of that "
                                    "name (create it, or correct DATABASE_URL)."),
    DatabaseProblem.FILE: N_("The SQLite database file {where} cannot be created or written "
                             "(check the folder exists and is writable, or change "
                             "DATABASE_URL)."),
    DatabaseProblem.OTHER: N_("The database at {where} cannot be used (check DATABASE_URL)."),
}


def database_problem_text(problem: DatabaseProblem, db: Database) -> str:
    return both(DATABASE_PROBLEMS[problem], where=database_location(db.url),
                seconds=f"{db.connect_timeout:g}")


async def check_database(db: Database) -> None:
    """StartupError, within the connect timeout, when the database cannot be used."""
    problem = await db.check_connection()
    if problem is not None:
        raise StartupError(database_problem_text(problem, db))


DATA_KEY_PROBLEMS = {
    "missing": N_("TREEM_DATA_KEY is not set: the cases are stored encrypted with this key. "
                  "Create one with `treem keygen`, put it in .env and keep a copy in a safe "
                  "place (README, “Data key”)."),
    "missing_with_data": N_("The database holds encrypted cases but TREEM_DATA_KEY is not set: "
                            "set the key this bot was using (README, “Data key”)."),
    "unknown": N_("The database holds cases encrypted with key {key_id}, and TREEM_DATA_KEY "
                  "is not that key: set the right key (during a rotation, the old one goes in "
                  "TREEM_DATA_KEY_OLD)."),
    "tampered": N_("TREEM_DATA_KEY does not decrypt the stored cases (key {key_id}): the key "
                   "is wrong or the data was altered. Set the right key; restore a backup if "
                   "the data was altered."),
}


def data_key_problem_text(code: str, key_id: str | None = None) -> str:
    return both(DATA_KEY_PROBLEMS[code], key_id=key_id or "?")


async def check_data_key(db: Database, keyring, *, encrypt_plaintext: bool = True) -> None:  # noqa: ANN001
    """StartupError when the key is missing or cannot read the stored values; otherwise the
    values still in plain text are encrypted (with encrypt_plaintext)."""
    from storage import data_key
    from storage.crypto import DataKeyError

    try:
        if keyring is None:
            check = await data_key.inspect(db, None)
            raise StartupError(data_key_problem_text(
                "missing_with_data" if check.key_ids else "missing"))
        if encrypt_plaintext:
            await data_key.prepare(db, keyring)
        else:
            check = await data_key.inspect(db, keyring)
            if check.unknown:
                raise DataKeyError("unknown", sorted(check.unknown)[0])
    except DataKeyError as exc:
        raise StartupError(data_key_problem_text(exc.code, exc.key_id)) from None
