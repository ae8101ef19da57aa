"""calendar: events that repeat within a year, "trước ngày" read per commune

A reminder names which occurrence of its year it belongs to (`seq`: 0 for a yearly event,
the month of a monthly one, the quarter of a quarterly one), and the unique key includes it.
An event remembers whether its commune reads "trước ngày 20/5" as 20/5 still counting.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03 08:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_events") as batch:
        batch.add_column(sa.Column("before_includes_day", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_reminders_occurrence", type_="unique")
        batch.create_unique_constraint("uq_reminders_occurrence",
                                       ["event_id", "year", "seq", "lead_days"])


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.drop_constraint("uq_reminders_occurrence", type_="unique")
        batch.create_unique_constraint("uq_reminders_occurrence",
                                       ["event_id", "year", "lead_days"])
        batch.drop_column("seq")
    with op.batch_alter_table("calendar_events") as batch:
        batch.drop_column("before_includes_day")
