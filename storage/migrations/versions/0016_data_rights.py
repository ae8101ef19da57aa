"""data rights: consent recorded with the reporter, data requests, append-only audit log

Revision ID: 0016
Revises: 0008
Create Date: 2026-12-03 08:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The audit log is append-only: the database refuses to change or delete a row, whatever
# code asks (the bot has no such path; this stops a future one, or a slip in a console).
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION treem_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION treem_audit_log_append_only()
"""
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]


def upgrade() -> None:
    with op.batch_alter_table("report_reporters") as batch:
        batch.add_column(sa.Column("consent", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("contact_withdrawn_at", sa.DateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("data_requests") as batch:
        batch.create_index(batch.f("ix_data_requests_user_id"), ["user_id"], unique=False)
        batch.create_index(batch.f("ix_data_requests_received_at"), ["received_at"],
                           unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS treem_audit_log_append_only()")
    with op.batch_alter_table("data_requests") as batch:
        batch.drop_index(batch.f("ix_data_requests_received_at"))
        batch.drop_index(batch.f("ix_data_requests_user_id"))
    op.drop_table("data_requests")
    with op.batch_alter_table("report_reporters") as batch:
        batch.drop_column("contact_withdrawn_at")
        batch.drop_column("consent")
