"""Tables. Telegram ids are BIGINT; every timestamp is timezone-aware UTC.

Personal data kept here is the minimum the feature needs: officers' display
names (so an administrator recognises them) and Telegram ids. Nothing about
children lives in these foundation tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from domain.roles import AgencyKind, Role, UnitKind
from storage.types import StrEnumType, UTCDateTime


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _when(nullable: bool = False, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column_kwargs={"nullable": nullable},
        sa_type=UTCDateTime(),
        index=index,
    )


class Unit(SQLModel, table=True):
    """A province, a commune (xã/phường) or a village (thôn/xóm/tổ dân phố)."""

    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("parent_id", "code", name="uq_units_parent_code"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: UnitKind = Field(sa_type=StrEnumType(UnitKind), index=True)
    code: str = Field(max_length=24)
    name: str = Field(max_length=100)
    parent_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    on_duty_phone: str | None = Field(default=None, max_length=24)
    report_to: str | None = Field(default=None, max_length=200)
    # [{"name": ..., "number": ...}] in display order
    hotlines: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON))
    active: bool = Field(default=True)
    created_at: dt.datetime = _when()


class Agency(SQLModel, table=True):
    """A body inside a commune that takes part in child protection."""

    __tablename__ = "agencies"
    __table_args__ = (sa.UniqueConstraint("commune_id", "code", name="uq_agencies_commune_code"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    code: str = Field(max_length=24)
    kind: AgencyKind = Field(sa_type=StrEnumType(AgencyKind))
    name: str = Field(max_length=150)
    phone: str | None = Field(default=None, max_length=24)
    active: bool = Field(default=True)


class Member(SQLModel, table=True):
    """A Telegram user with a role in a unit (one membership per user)."""

    __tablename__ = "members"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_type=sa.BigInteger, unique=True)
    display_name: str = Field(max_length=128)
    role: Role = Field(sa_type=StrEnumType(Role))
    unit_id: int = Field(foreign_key="units.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agencies.id")
    active: bool = Field(default=True, index=True)
    joined_at: dt.datetime = _when()
    invited_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    revoked_at: dt.datetime | None = _when(nullable=True)
    revoked_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    # Which command list Telegram shows this user; re-sent when it changes.
    commands_key: str | None = Field(default=None, max_length=64)


class Invite(SQLModel, table=True):
    """A single-use, expiring invitation; only the code's hash is stored."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    role: Role = Field(sa_type=StrEnumType(Role))
    unit_id: int = Field(foreign_key="units.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agencies.id")
    created_by: int = Field(sa_type=sa.BigInteger)
    created_at: dt.datetime = _when()
    expires_at: dt.datetime = _when()
    used_at: dt.datetime | None = _when(nullable=True)
    used_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    revoked_at: dt.datetime | None = _when(nullable=True)
    revoked_by: int | None = Field(default=None, sa_type=sa.BigInteger)


class AuditEntry(SQLModel, table=True):
    """Who did what to which object. `details` holds ids and codes, never personal data."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _when(index=True)
    actor_user_id: int | None = Field(default=None, sa_type=sa.BigInteger, index=True)
    action: str = Field(max_length=40)
    object_type: str = Field(max_length=24)
    object_id: str = Field(max_length=40)
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class ProcessedUpdate(SQLModel, table=True):
    """Update ids already accepted by the webhook, shared by every instance."""

    __tablename__ = "processed_updates"

    update_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    received_at: dt.datetime = _when(index=True)
