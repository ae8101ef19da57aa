"""targets with several rates (parts), the administrator's in-chat changes to targets

A target that names several rates is stored as one row per part ("3a", "3b"…) with the
whole target's wording in `title`; `off_years` are the years the commune's administrator
switched a target off in the chat; `file_values` is what the set-up file last said, so a
re-import changes only what the file itself changed. Existing rows and rounds are left as
they are: the import turns a target that gained parts into its first part (and the values
sent for it into that part's).

Revision ID: 0019
Revises: 0017p
Create Date: 2026-12-03 13:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0019'
down_revision: Union[str, None] = '0017p'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("plan_targets") as batch_op:
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("group_code",
                                      sqlmodel.sql.sqltypes.AutoString(length=24),
                                      nullable=True))
        batch_op.add_column(sa.Column("off_years", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("file_values", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("edited_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_targets") as batch_op:
        for column in ("edited_by", "edited_at", "file_values", "off_years", "group_code",
                       "title"):
            batch_op.drop_column(column)
