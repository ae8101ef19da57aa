"""SQLite backup and restore with SQLite's online backup API (safe while the bot runs).

PostgreSQL is backed up with pg_dump / pg_restore (see the README); these functions refuse it.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sqlite3
from collections.abc import Iterator

from sqlalchemy.engine import make_url


class BackupProblem(Exception):
    """Why a backup or a restore cannot be done; `code` names it for the catalog."""

    def __init__(self, code: str, path: pathlib.Path | str | None = None) -> None:
        super().__init__(f"{code}: {path}" if path else code)
        self.code = code
        self.path = str(path) if path is not None else ""


def sqlite_path(database_url: str) -> pathlib.Path:
    """The file of a SQLite DATABASE_URL; BackupProblem("not_sqlite") for PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupProblem("not_sqlite")
    if not url.database or url.database == ":memory:":
        raise BackupProblem("no_file")
    return pathlib.Path(url.database).expanduser()


@contextlib.contextmanager
def _connect(path: pathlib.Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}?mode=rwc"
    connection = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def _check_database_file(path: pathlib.Path) -> None:
    """BackupProblem unless `path` is an intact treem database (SQLite, migrated)."""
    if not path.is_file():
        raise BackupProblem("missing", path)
    try:
        with _connect(path, read_only=True) as connection:
            if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupProblem("damaged", path)
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupProblem("not_a_database", path) from exc
    if "alembic_version" not in tables:
        raise BackupProblem("not_treem", path)


def has_data(path: pathlib.Path) -> bool:
    """True when `path` is a database with at least one table (restoring would replace it)."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        with _connect(path, read_only=True) as connection:
            return connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return True  # something is there; do not overwrite it without --force


def backup(database: pathlib.Path, target: pathlib.Path, *, overwrite: bool = False) -> int:
    """Copies `database` to `target` page by page through SQLite (a consistent snapshot even
    while the bot writes), checks the copy, and returns its size in bytes."""
    _check_database_file(database)
    if target.exists() and not overwrite:
        raise BackupProblem("target_exists", target)
    if not target.parent.is_dir():
        raise BackupProblem("no_folder", target.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))  # a backup is as private
    try:
        with _connect(database, read_only=True) as source, _connect(partial) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupProblem("cannot_write", target) from exc
    _check_database_file(partial)
    os.replace(partial, target)
    return target.stat().st_size


def restore(backup_file: pathlib.Path, database: pathlib.Path, *, overwrite: bool = False) -> None:
    """Writes `backup_file` into `database` through SQLite's backup API (other connections see
    the restored content, never a half-copied file). Refuses to replace data without
    `overwrite`. The caller migrates afterwards (an older backup may need it)."""
    _check_database_file(backup_file)
    if has_data(database) and not overwrite:
        raise BackupProblem("database_has_data", database)
    if not database.parent.is_dir():
        raise BackupProblem("no_folder", database.parent)
    try:
        with _connect(backup_file, read_only=True) as source, _connect(database) as target:
            source.backup(target)
    except sqlite3.Error as exc:
        raise BackupProblem("cannot_write", database) from exc
