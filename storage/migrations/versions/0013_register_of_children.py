"""the register of children in special circumstances: children, their support, their history

Names, caregivers and notes are plain Text columns for now (storage.models.SENSITIVE_TEXT),
to be switched to the encrypted column type; duplicates are found by a digest (match_key).

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-03 07:31:08.472653
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types


revision: str = '0013'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('register_children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('match_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('leaves_on', sa.Date(), nullable=False),
    sa.Column('caregiver', sa.Text(), nullable=True),
    sa.Column('caregiver_relation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('groups', sa.JSON(), nullable=True),
    sa.Column('at_risk', sa.Boolean(), nullable=False),
    sa.Column('risk_note', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('leave_reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('leave_note', sa.Text(), nullable=True),
    sa.Column('source_case_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_on', sa.Date(), nullable=True),
    sa.Column('review_due_on', sa.Date(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['source_case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('register_children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_children_leaves_on'), ['leaves_on'], unique=False)
        batch_op.create_index('ix_register_children_match', ['match_key', 'status'], unique=False)
        batch_op.create_index('ix_register_children_place', ['commune_id', 'village_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_children_review_due_on'), ['review_due_on'], unique=False)

    op.create_table('register_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['register_children.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('register_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_events_child_id'), ['child_id'], unique=False)

    op.create_table('register_supports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['register_children.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('child_id', 'kind', name='uq_register_support_kind')
    )
    with op.batch_alter_table('register_supports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_supports_child_id'), ['child_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('register_supports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_supports_child_id'))

    op.drop_table('register_supports')
    with op.batch_alter_table('register_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_events_child_id'))

    op.drop_table('register_events')
    with op.batch_alter_table('register_children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_children_review_due_on'))
        batch_op.drop_index('ix_register_children_place')
        batch_op.drop_index('ix_register_children_match')
        batch_op.drop_index(batch_op.f('ix_register_children_leaves_on'))

    op.drop_table('register_children')
