"""the plan's targets and the report round: agencies' parts collected through the bot

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-03 07:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "plan_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("target_values", sa.JSON(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("figure", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["commune_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commune_id", "code", name="uq_targets_commune_code"),
    )
    op.create_index("ix_plan_targets_commune_id", "plan_targets", ["commune_id"])
    op.create_table(
        "round_specs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("collect_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("open_working_days", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["commune_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commune_id", "code", name="uq_round_specs_code"),
    )
    op.create_index("ix_round_specs_commune_id", "round_specs", ["commune_id"])
    op.create_table(
        "report_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("collect_on", sa.Date(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["commune_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commune_id", "code", "year", name="uq_report_rounds_occurrence"),
    )
    op.create_index("ix_report_rounds_commune_id", "report_rounds", ["commune_id"])
    op.create_index("ix_report_rounds_status", "report_rounds", ["status"])
    op.create_table(
        "round_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("highlights", sa.Text(), nullable=True),
        sa.Column("difficulties", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["report_rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "agency_id", name="uq_round_parts_agency"),
    )
    op.create_index("ix_round_parts_round_id", "round_parts", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_round_parts_round_id", table_name="round_parts")
    op.drop_table("round_parts")
    op.drop_index("ix_report_rounds_status", table_name="report_rounds")
    op.drop_index("ix_report_rounds_commune_id", table_name="report_rounds")
    op.drop_table("report_rounds")
    op.drop_index("ix_round_specs_commune_id", table_name="round_specs")
    op.drop_table("round_specs")
    op.drop_index("ix_plan_targets_commune_id", table_name="plan_targets")
    op.drop_table("plan_targets")
