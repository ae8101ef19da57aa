"""cases.next_alert_at: the alert pass reads only the cases whose alert is due; an index
for one commune's open cases (the officers' lists)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:50:00

Existing rows start empty; the start-up recompute (a new rules fingerprint) fills them in
the background.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import storage.types


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_alert_at', storage.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_next_alert_at'), ['next_alert_at'],
                              unique=False)
        batch_op.create_index('ix_cases_commune_status',
                              ['commune_id', 'status', 'assigned_member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_commune_status')
        batch_op.drop_index(batch_op.f('ix_cases_next_alert_at'))
        batch_op.drop_column('next_alert_at')
