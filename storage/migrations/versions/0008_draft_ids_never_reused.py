"""report draft ids are never reused (SQLite AUTOINCREMENT); a report remembers its draft

A draft's id is in every button of the report flow. SQLite gives a new row the highest id
plus one, so after a report was sent (its draft deleted) the next draft got the same id and
an old button could answer the new report. PostgreSQL sequences never reuse ids.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("draft_id", sa.Integer(), nullable=True))
        batch.create_index("ix_reports_draft_id", ["draft_id"], unique=False)
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("report_drafts", recreate="always",
                              table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_draft_id")
        batch.drop_column("draft_id")
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("report_drafts", recreate="always"):
        pass
