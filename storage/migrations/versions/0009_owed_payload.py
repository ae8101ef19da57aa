"""the outbox carries what else the bot owes: media, charts, exports, command menus

A handler no longer promises anything "after the commit" in memory: a chart, an export,
a case's photos and a person's command menu are outbox rows like every message, with
what the sender needs to make them at send time in `payload`.

Revision ID: 0009
Revises: 0013
Create Date: 2026-12-03 07:50:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("payload")
