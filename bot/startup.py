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
