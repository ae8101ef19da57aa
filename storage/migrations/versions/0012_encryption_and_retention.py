"""encryption at rest of the sensitive fields; retention (runs, erased/de-identified marks)

The sensitive columns become TEXT on PostgreSQL, where an encrypted value is longer than
the old VARCHAR limits and is not JSON or a number. On SQLite the declared types stay:
SQLite keeps any text in any column (no length limit; the ciphertext never looks like a
number), and changing a declared type there means rebuilding tables that other tables
reference, which SQLite refuses while foreign keys are enforced.

Values written before this revision are still plain text after it: the bot encrypts them
in batches at its first start with TREEM_DATA_KEY (storage/data_key.py, `prepare`), before
it answers anyone; `treem rotate-key` does the same.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03 08:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0012'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table -> [(column, type before)]
ENCRYPTED = {
    "report_drafts": [("answers", sa.JSON())],
    "reports": [("child_name", sa.String(100)), ("address", sa.String(300)),
                ("latitude", sa.Float()), ("longitude", sa.Float())],
    "report_reporters": [("name", sa.String(100)), ("phone", sa.String(20))],
    # approval_data: the plan or closing proposal waiting for the commune's leader (0010).
    "cases": [("public_note", sa.String(1000)), ("approval_data", sa.JSON())],
    "pending_inputs": [("data", sa.JSON())],
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in ENCRYPTED.items():
            for name, old in columns:
                op.alter_column(table, name, type_=sa.Text(), existing_type=old,
                                postgresql_using=f"{name}::text")
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("deidentified_at", storage.types.UTCDateTime(),
                                   nullable=True))
    with op.batch_alter_table("report_reporters") as batch:
        batch.add_column(sa.Column("contact_erased_at", storage.types.UTCDateTime(),
                                   nullable=True))
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("contacts_erased", sa.Integer(), nullable=False),
        sa.Column("cases_deidentified", sa.Integer(), nullable=False),
        sa.Column("media_dropped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )


def downgrade() -> None:
    # Encrypted values stay encrypted: decrypting them back is not offered (run the older
    # version only on a backup taken before the upgrade).
    op.drop_table("retention_runs")
    with op.batch_alter_table("report_reporters") as batch:
        batch.drop_column("contact_erased_at")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("deidentified_at")
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in ENCRYPTED.items():
            for name, old in columns:
                using = f"{name}::json" if isinstance(old, sa.JSON) else None
                if isinstance(old, sa.Float):
                    using = f"NULLIF({name}, '')::double precision"
                op.alter_column(table, name, type_=old, existing_type=sa.Text(),
                                postgresql_using=using)
