"""the register's history keeps when a periodic review was due and when it was done

"Reviews done on time" (the /stats register figures and the report workbook) are counted
by the database from these two dates of each "reviewed" history row. Rows written before
this revision have neither and are not counted.

Revision ID: 0018
Revises: 0019
Create Date: 2026-12-03 13:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("register_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("done_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_register_events_due_on"), ["due_on"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("register_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_events_due_on"))
        batch_op.drop_column("done_on")
        batch_op.drop_column("due_on")
