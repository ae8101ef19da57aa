"""The commune leader's approval of plans and closings (Decree 56/2017, Điều 28 and 30), the
review loop's plan round, and the child's sex and place of harm for the official figures

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 07:45:00

Existing communes keep approval on (the decree's rule); existing cases wait for nothing.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision: str = '0010'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader_approval', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=True))
        batch_op.add_column(sa.Column('approval_requested_at',
                                      storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approval_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('plan_round', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('child_sex', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=True))
        batch_op.add_column(sa.Column('harm_place', sqlmodel.sql.sqltypes.AutoString(length=12),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in ('harm_place', 'child_sex', 'plan_round', 'approval_data',
                       'approval_requested_at', 'approval'):
            batch_op.drop_column(column)
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('leader_approval')
