"""province calendar: a province's events inherited by its communes

`units.province_calendar` keeps a province set-up file's calendar; each commune event says
where it comes from (`origin`: default, province, commune) and which fields the commune wrote
itself (`own`: its set-up file's entry and its /event changes), so that re-importing either
file keeps what belongs to the other.

Revision ID: 0017p
Revises: 0009
Create Date: 2026-12-03 13:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017p'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_calendar', sa.JSON(), nullable=True))
    with op.batch_alter_table('calendar_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=12),
                                      nullable=False, server_default='legacy'))
        batch_op.add_column(sa.Column('own', sa.JSON(), nullable=True))
    # Rows written before read "legacy": an import of the province's file takes what differs
    # from the default as the commune's own (domain/inheritance.legacy_fields), and the
    # commune's next import writes their origin and own fields.


def downgrade() -> None:
    with op.batch_alter_table('calendar_events', schema=None) as batch_op:
        batch_op.drop_column('own')
        batch_op.drop_column('origin')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('province_calendar')
