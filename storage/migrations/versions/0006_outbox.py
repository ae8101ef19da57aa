"""the outbox: kind, inline keyboard, what to do on failure, claiming instance

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='notice'))
        batch_op.add_column(sa.Column('markup', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('on_failure', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_deliveries_chat_status', ['chat_id', 'status'], unique=False)
    # Rows written before the outbox: name them after what they point to.
    op.execute("UPDATE deliveries SET kind = 'reminder' WHERE reminder_id IS NOT NULL")
    op.execute("UPDATE deliveries SET kind = 'broadcast' WHERE broadcast_id IS NOT NULL")
    op.execute("UPDATE deliveries SET kind = 'digest' WHERE key LIKE 'digest:%'")
    op.execute("UPDATE deliveries SET kind = 'alert' WHERE key LIKE 'case:%'")


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_chat_status')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('on_failure')
        batch_op.drop_column('markup')
        batch_op.drop_column('kind')
