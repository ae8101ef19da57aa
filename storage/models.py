"""Tables. Telegram ids are BIGINT; every timestamp is timezone-aware UTC.

Personal data kept here is the minimum the feature needs: officers' display
names (so an administrator recognises them) and Telegram ids. Nothing about
children lives in these foundation tables. The sensitive fields of reports and cases
(stories, names, phones, places, notes, relayed messages) are encrypted at rest with the
column types of storage/crypto.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from domain.roles import AgencyKind, Role, UnitKind
from storage.crypto import EncryptedFloat, EncryptedJSON, EncryptedText
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
    # A commune: support plans and closings go to the commune's leader for approval
    # (Decree 56/2017, Điều 28 and 30); a small commune may switch it off in its set-up.
    leader_approval: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # A province: its set-up file's calendar, inherited by its communes
    # ({"events": [[events] entries], "deadlines": {"6m": rule, "year": rule}, "report_to": …}).
    province_calendar: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


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


# --- citizen reports and cases ------------------------------------------------------------
# Reports hold children's data: only what the protection process needs. The reporter's
# identity lives in report_reporters, apart from the report, and is shown only to the
# officer handling the case.


class ReportDraft(SQLModel, table=True):
    """A report being written (or information being added), saved after every answer."""

    __tablename__ = "report_drafts"
    # Its id is in every button of the report: never reused (SQLite would otherwise give a
    # new draft the id of the one just sent, and its old buttons would answer the new one).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=sa.BigInteger, unique=True)
    kind: str = Field(default="report", max_length=16)  # report | addition
    report_id: int | None = Field(default=None, foreign_key="reports.id")
    step: str = Field(max_length=16)
    # The answers so far, story and names included: encrypted as one document.
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON()))
    editing: bool = Field(default=False)  # go back to the review after this step
    created_at: dt.datetime = _when()
    updated_at: dt.datetime = _when(index=True)
    reminded_at: dt.datetime | None = _when(nullable=True)


class Report(SQLModel, table=True):
    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=9, unique=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    village_id: int | None = Field(default=None, foreign_key="units.id")
    category: str = Field(max_length=16)
    urgent: bool = Field(default=False)
    age_group: str = Field(max_length=8)
    child_count: int = Field(default=1)
    # Encrypted at rest (storage/crypto.py); emptied by retention (deidentified_at).
    child_name: str | None = Field(default=None, sa_type=EncryptedText())
    story: str = Field(default="", sa_type=EncryptedText())
    address: str | None = Field(default=None, sa_type=EncryptedText())
    latitude: float | None = Field(default=None, sa_type=EncryptedFloat())
    longitude: float | None = Field(default=None, sa_type=EncryptedFloat())
    channel: str = Field(default="telegram", max_length=16)
    created_at: dt.datetime = _when(index=True)
    # The draft it was sent from: a second press of "Send" (the first answer lost in a crash
    # or a bad connection) shows the tracking code again instead of "already sent".
    draft_id: int | None = Field(default=None, index=True)
    # When retention cleared the story, names, places, notes and media of the closed case
    # (the figures keep counting it).
    deidentified_at: dt.datetime | None = _when(nullable=True)


class ReportReporter(SQLModel, table=True):
    """Who reported: needed to answer them; shown only to the officer on the case."""

    __tablename__ = "report_reporters"

    report_id: int = Field(foreign_key="reports.id", primary_key=True)
    telegram_user_id: int = Field(sa_type=sa.BigInteger, index=True)
    anonymous: bool = Field(default=True)
    name: str | None = Field(default=None, sa_type=EncryptedText())
    phone: str | None = Field(default=None, sa_type=EncryptedText())
    relation: str | None = Field(default=None, max_length=16)
    # When retention erased the name, phone and Telegram id (telegram_user_id is then 0).
    contact_erased_at: dt.datetime | None = _when(nullable=True)
    # The answer to the notice shown before a name or phone is asked: "given" (left them),
    # "declined" (stayed anonymous); None for reports from before the notice.
    consent: str | None = Field(default=None, max_length=16)
    # When the reporter withdrew their contact (/xoathongtin): name and phone erased then.
    contact_withdrawn_at: dt.datetime | None = _when(nullable=True)


class DataRequest(SQLModel, table=True):
    """A person's request about their own data (see what is kept, withdraw the contact):
    when it came, the deadline to answer it, and when it was answered."""

    __tablename__ = "data_requests"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=sa.BigInteger, index=True)
    kind: str = Field(max_length=16)  # view | withdraw
    report_id: int | None = Field(default=None, foreign_key="reports.id")
    received_at: dt.datetime = _when(index=True)
    due_at: dt.datetime = _when()
    answered_at: dt.datetime | None = _when(nullable=True)


class ReportMedia(SQLModel, table=True):
    __tablename__ = "report_media"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="reports.id", index=True)
    kind: str = Field(max_length=8)  # photo | voice
    file_id: str = Field(max_length=255)
    added_at: dt.datetime = _when()
    addition_id: int | None = Field(default=None, foreign_key="report_additions.id")


class ReportAddition(SQLModel, table=True):
    """Information the reporter added after sending (same tracking code)."""

    __tablename__ = "report_additions"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="reports.id", index=True)
    text: str = Field(default="", sa_type=EncryptedText())
    created_at: dt.datetime = _when()


class Case(SQLModel, table=True):
    """What officers must follow up; opened with every sent report."""

    __tablename__ = "cases"
    # The officers' lists: one commune's open cases, without walking the province's archive.
    __table_args__ = (sa.Index("ix_cases_commune_status", "commune_id", "status",
                               "assigned_member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="reports.id", unique=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    status: str = Field(max_length=16, index=True)
    urgent: bool = Field(default=False)
    assigned_member_id: int | None = Field(default=None, foreign_key="members.id", index=True)
    assigned_at: dt.datetime | None = _when(nullable=True)
    created_at: dt.datetime = _when()
    updated_at: dt.datetime = _when()
    escalated_at: dt.datetime | None = _when(nullable=True)
    escalation_count: int = Field(default=0)
    public_note: str | None = Field(default=None, sa_type=EncryptedText())
    public_note_at: dt.datetime | None = _when(nullable=True)
    risk: str | None = Field(default=None, max_length=8)
    step_started_at: dt.datetime | None = _when(nullable=True)
    closure_reason: str | None = Field(default=None, max_length=16)
    closed_at: dt.datetime | None = _when(nullable=True)
    # When the risk level was first set (the assessment), for the 12-hour figure.
    assessed_at: dt.datetime | None = _when(nullable=True)
    # The current step's deadline, kept up to date by every change (alerts query it).
    due_at: dt.datetime | None = _when(nullable=True, index=True)
    # Bumped by every change of state: a button drawn for an older revision is stale.
    revision: int = Field(default=0)
    # Codes of domain.cases.SpecialGroup (Law on Children 2016, Điều 10).
    special_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    opened_by: int | None = Field(default=None, sa_type=sa.BigInteger)  # an officer, or None
    # "<deadline as epoch seconds>:<alert kind>": the last deadline alert queued, so the
    # minutely job skips cases whose alerts are all out without querying further.
    alerted: str | None = Field(default=None, max_length=40)
    # When the next deadline alert is due (None: none left for this deadline, or closed),
    # kept with due_at and alerted: the minutely alert pass reads only the cases it names.
    next_alert_at: dt.datetime | None = _when(nullable=True, index=True)
    # What waits for the commune's leader (domain.cases.ApprovalKind: plan | closing), since
    # when, and the proposal: {"text", "target", "reason", "by"} (the submitter's user id).
    approval: str | None = Field(default=None, max_length=8)
    approval_requested_at: dt.datetime | None = _when(nullable=True)
    approval_data: dict[str, Any] = Field(default_factory=dict,
                                          sa_column=Column(EncryptedJSON()))
    # Plans drawn up again after a review (Điều 30): their deadline counts from the step.
    plan_round: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Recorded at the assessment, for the official figures (domain.cases.ChildSex, HarmPlace).
    child_sex: str | None = Field(default=None, max_length=8)
    harm_place: str | None = Field(default=None, max_length=12)


class CaseReferral(SQLModel, table=True):
    """A case handed to an agency: its members may see and annotate that case only."""

    __tablename__ = "case_referrals"
    __table_args__ = (sa.UniqueConstraint("case_id", "agency_id", name="uq_referrals_case_agency"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    agency_id: int = Field(foreign_key="agencies.id", index=True)
    referred_at: dt.datetime = _when()
    referred_by: int = Field(sa_type=sa.BigInteger)
    note: str | None = Field(default=None, sa_type=EncryptedText())
    active: bool = Field(default=True)


class PendingInput(SQLModel, table=True):
    """What the bot waits for an officer (or a reporter) to type next: a note, a reason, a
    message to relay, a case being opened. In the database so a restart keeps it."""

    __tablename__ = "pending_inputs"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=sa.BigInteger, unique=True)
    kind: str = Field(max_length=16)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    revision: int | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON()))
    created_at: dt.datetime = _when()


class CaseEvent(SQLModel, table=True):
    """The history of a case: who, when, what changed."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: dt.datetime = _when()
    actor_user_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    # opened | assigned | escalated | addition | status | reopened | risk | note | referred |
    # groups | relay_out | relay_in
    kind: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, sa_type=EncryptedText())  # notes, relayed messages
    member_id: int | None = Field(default=None, foreign_key="members.id")  # assigned to
    agency_id: int | None = Field(default=None, foreign_key="agencies.id")  # referred to
    media_kind: str | None = Field(default=None, max_length=8)  # a note's photo
    file_id: str | None = Field(default=None, max_length=255)


class StatusLookup(SQLModel, table=True):
    """Tracking-code look-ups, to limit guessing."""

    __tablename__ = "status_lookups"
    __table_args__ = (sa.Index("ix_status_lookups_user_at", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_type=sa.BigInteger)
    at: dt.datetime = _when()
    success: bool = Field(default=False)


# --- calendar, subscriptions and deliveries ---------------------------------------------
# Every message the bot sends on its own (reminders, broadcasts) is first a Delivery row,
# unique per recipient: the rows, not the scheduler, say what is due and what was sent.


class CalendarEvent(SQLModel, table=True):
    __tablename__ = "calendar_events"
    __table_args__ = (sa.UniqueConstraint("commune_id", "code", name="uq_events_commune_code"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    code: str = Field(max_length=24)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    date_rule: str = Field(max_length=60)
    lead_days: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    audience: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    message: str = Field(default="", sa_type=sa.Text)
    report_period: str | None = Field(default=None, max_length=8)
    active: bool = Field(default=True)
    # "trước ngày 20/5" read as 20/5 still counting (the commune's set-up), not 19/5
    before_includes_day: bool = Field(default=False)
    updated_at: dt.datetime = _when()
    # Where the event comes from (domain/inheritance.Origin): "default", "province" (inherited
    # from the province's calendar) or "commune" (the commune's own, or its own change).
    origin: str = Field(default="default", max_length=12,
                        sa_column_kwargs={"server_default": "legacy"})
    # The fields the commune wrote itself: {"file": {...}, "admin": {...}} (its set-up file's
    # entry, its /event changes); re-imports keep what is not theirs.
    own: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Subscription(SQLModel, table=True):
    """A chat that receives a commune's reminders: an agency's group or one person."""

    __tablename__ = "subscriptions"
    __table_args__ = (sa.UniqueConstraint("chat_id", "commune_id", name="uq_subscriptions_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="agencies.id")
    agency_kind: str | None = Field(default=None, max_length=24)
    role: str | None = Field(default=None, max_length=24)
    kind: str = Field(max_length=8)  # group | person
    title: str = Field(default="", max_length=128)
    active: bool = Field(default=True, index=True)
    created_by: int = Field(sa_type=sa.BigInteger)
    created_at: dt.datetime = _when()
    deactivated_at: dt.datetime | None = _when(nullable=True)
    deactivated_reason: str | None = Field(default=None, max_length=40)


class Reminder(SQLModel, table=True):
    """One reminder of one event occurrence (event × year × lead), materialised ahead."""

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "year", "seq", "lead_days",
                            name="uq_reminders_occurrence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="calendar_events.id", index=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    year: int
    # which occurrence in the year: 0 for a yearly event, the month (1–12) of a monthly one,
    # the quarter (1–4) of a quarterly one
    seq: int = Field(default=0)
    lead_days: int
    starts_on: dt.date
    ends_on: dt.date
    send_at: dt.datetime = _when(index=True)
    status: str = Field(default="planned", max_length=12)  # planned | released | stale
    released_at: dt.datetime | None = _when(nullable=True)
    text: str | None = Field(default=None, sa_type=sa.Text)


class Broadcast(SQLModel, table=True):
    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    created_by: int = Field(sa_type=sa.BigInteger, index=True)
    text: str = Field(default="", sa_type=sa.Text)
    audience: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    status: str = Field(default="draft", max_length=12)  # draft | sending | done | cancelled
    created_at: dt.datetime = _when()
    confirmed_at: dt.datetime | None = _when(nullable=True)
    progress_chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    progress_message_id: int | None = None


class Delivery(SQLModel, table=True):
    """The outbox: one message to one chat, written in the transaction of what caused it.

    Unique per reminder (or broadcast) and subscription, or, for a case alert or a morning
    digest to one person, per `key`. Messages to one chat go out in row order (`id`).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("reminder_id", "subscription_id", name="uq_deliveries_reminder"),
        sa.UniqueConstraint("broadcast_id", "subscription_id", name="uq_deliveries_broadcast"),
        sa.Index("ix_deliveries_status_due", "status", "due_at"),
        sa.Index("ix_deliveries_chat_status", "chat_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int | None = Field(default=None, foreign_key="reminders.id")
    broadcast_id: int | None = Field(default=None, foreign_key="broadcasts.id", index=True)
    subscription_id: int | None = Field(default=None, foreign_key="subscriptions.id")
    # Case alerts and digests: "case:<id>:<kind>:<due>:<chat>" / "digest:<date>:<chat>".
    key: str | None = Field(default=None, max_length=80, unique=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    # Relayed messages and case summaries: encrypted like the case itself.
    text: str | None = Field(default=None, sa_type=EncryptedText())
    chat_id: int = Field(sa_type=sa.BigInteger)
    # pending | sending | sent | failed | deactivated | uncertain
    status: str = Field(default="pending", max_length=12)
    attempts: int = Field(default=0)
    due_at: dt.datetime = _when()
    claimed_at: dt.datetime | None = _when(nullable=True)
    sent_at: dt.datetime | None = _when(nullable=True)
    message_id: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    # What it is (reminder, broadcast, alert, digest, notice, relay, escalation, draft,
    # summary): user-caused kinds may be sent by any instance, the rest by the active one.
    # Owed things that are not a text message: media (one of a case's photos or voice
    # messages), chart, export, commands (the person's command menu); see bot/sender.py.
    kind: str = Field(default="notice", max_length=16)
    # An inline keyboard as Telegram's JSON ({"inline_keyboard": [...]}).
    markup: dict | None = Field(default=None, sa_column=Column(JSON))
    # If the chat blocked the bot or is gone: another message to queue, e.g. telling the
    # officer that their message to the reporter could not be delivered ({chat_id, text}).
    on_failure: dict | None = Field(default=None, sa_column=Column(JSON))
    # What an owed kind needs to be made at send time (the chart's figures, the export's
    # scope and period, a file_id and caption); None for plain messages.
    payload: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    # The instance that claimed it (pending → sending); a dead instance's rows are uncertain.
    claimed_by: int | None = Field(default=None, sa_type=sa.BigInteger)


class JobRun(SQLModel, table=True):
    """A once-a-day job that ran (claimed by one instance): "digest:2026-11-24"."""

    __tablename__ = "job_runs"

    key: str = Field(max_length=64, primary_key=True)
    at: dt.datetime = _when()


# --- the plan's targets and the report round ------------------------------------------------
# Agencies send their part of the commune's report through the bot: their targets' values and
# two short texts. Figures about the commune, never about a child.


class PlanTarget(SQLModel, table=True):
    """One target (chỉ tiêu) of a commune's plan, from its set-up file."""

    __tablename__ = "plan_targets"
    __table_args__ = (sa.UniqueConstraint("commune_id", "code", name="uq_targets_commune_code"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    code: str = Field(max_length=24)
    number: str = Field(max_length=8)
    position: int = Field(default=0)
    name: str = Field(sa_type=sa.Text)
    unit: str = Field(max_length=12)
    rule: str = Field(max_length=8)
    # {"2026": 90.0, "2030": 95.0}: JSON keys are strings
    target_values: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    agency_id: int | None = Field(default=None, foreign_key="agencies.id")
    source: str = Field(default="agency", max_length=8)
    figure: str | None = Field(default=None, max_length=24)
    active: bool = Field(default=True)
    # A part of a target that names several rates ("3a" of target 3): the whole target's
    # wording and code; `name` is then the part's own clause.
    title: str | None = Field(default=None, sa_type=sa.Text)
    group_code: str | None = Field(default=None, max_length=24)
    # Years the commune's administrator switched the target off (from the chat).
    off_years: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    # What the set-up file said when last imported ({"values": {...}, "agency": code}): a
    # re-import changes only what the file itself changed since (see storage/setup_import).
    file_values: dict | None = Field(default=None, sa_column=Column(JSON))
    edited_at: dt.datetime | None = _when(nullable=True)
    edited_by: int | None = Field(default=None, sa_type=sa.BigInteger)


class RoundSpecRow(SQLModel, table=True):
    """A report the commune collects agencies' parts for, from its set-up file."""

    __tablename__ = "round_specs"
    __table_args__ = (sa.UniqueConstraint("commune_id", "code", name="uq_round_specs_code"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    code: str = Field(max_length=24)
    name: str = Field(max_length=200)
    collect_by: str = Field(max_length=60)
    open_working_days: int = Field(default=10)
    period: str | None = Field(default=None, max_length=8)
    year: int | None = None
    active: bool = Field(default=True)


class ReportRound(SQLModel, table=True):
    """One collection round: a report of one year (opened once by the scheduled job)."""

    __tablename__ = "report_rounds"
    __table_args__ = (sa.UniqueConstraint("commune_id", "code", "year",
                                          name="uq_report_rounds_occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="units.id", index=True)
    code: str = Field(max_length=24)
    name: str = Field(max_length=200)
    year: int
    collect_on: dt.date
    opens_on: dt.date
    period: str | None = Field(default=None, max_length=8)
    status: str = Field(default="open", max_length=8, index=True)  # open | locked
    opened_at: dt.datetime = _when()
    locked_at: dt.datetime | None = _when(nullable=True)
    locked_by: int | None = Field(default=None, sa_type=sa.BigInteger)


class RoundPart(SQLModel, table=True):
    """An agency's part of a round: its targets' values and its two texts."""

    __tablename__ = "round_parts"
    __table_args__ = (sa.UniqueConstraint("round_id", "agency_id", name="uq_round_parts_agency"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="report_rounds.id", index=True)
    agency_id: int = Field(foreign_key="agencies.id")
    status: str = Field(default="draft", max_length=8)  # draft | sent
    answers: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    highlights: str | None = Field(default=None, sa_type=sa.Text)  # kết quả nổi bật
    difficulties: str | None = Field(default=None, sa_type=sa.Text)  # khó khăn, kiến nghị
    started_at: dt.datetime = _when()
    updated_at: dt.datetime = _when()
    updated_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    sent_at: dt.datetime | None = _when(nullable=True)
    corrected_at: dt.datetime | None = _when(nullable=True)
    late: bool = Field(default=False)  # sent after the collection date, or not at all


class RetentionRun(SQLModel, table=True):
    """One day's retention pass (claimed by one instance): when, and how many rows."""

    __tablename__ = "retention_runs"

    id: int | None = Field(default=None, primary_key=True)
    day: dt.date = Field(unique=True)  # the local day it ran for: once a day
    started_at: dt.datetime = _when()
    finished_at: dt.datetime | None = _when(nullable=True)
    contacts_erased: int = Field(default=0)
    cases_deidentified: int = Field(default=0)
    media_dropped: int = Field(default=0)


# --- the register of children in special circumstances ------------------------------------
# Names, caregivers and notes are the most sensitive data the bot keeps: encrypted at rest
# (storage/crypto.py). Duplicates are found by `match_key`, the data key's blind index of
# the normalised name, birth year and commune (domain.register.register_match_key), never by
# comparing names in SQL; a key rotation recomputes it (storage.register).
SENSITIVE_TEXT = EncryptedText


def _sensitive(nullable: bool = True) -> Any:
    return Field(default=None if nullable else "", sa_type=SENSITIVE_TEXT(),
                 sa_column_kwargs={"nullable": nullable})


class RegisterChild(SQLModel, table=True):
    """One child on a commune's register."""

    __tablename__ = "register_children"
    # The village lists (active children of one village, by name) and the duplicate check.
    __table_args__ = (
        sa.Index("ix_register_children_place", "commune_id", "village_id", "status"),
        sa.Index("ix_register_children_match", "match_key", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="units.id")
    village_id: int | None = Field(default=None, foreign_key="units.id")
    full_name: str = _sensitive(nullable=False)
    match_key: str = Field(max_length=64)
    sex: str = Field(max_length=8)
    birth_year: int
    birth_date: dt.date | None = None  # None: only the year is known
    # The day the child turns 16 (the birthday job reads this, indexed, not every row).
    leaves_on: dt.date = Field(index=True)
    caregiver: str | None = _sensitive()
    caregiver_relation: str | None = Field(default=None, max_length=16)
    # Codes of domain.cases.SpecialGroup (Điều 10), in the law's order.
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    at_risk: bool = Field(default=False)
    risk_note: str | None = _sensitive()
    notes: str | None = _sensitive()
    status: str = Field(default="active", max_length=12)
    leave_reason: str | None = Field(default=None, max_length=16)
    left_on: dt.date | None = None
    leave_note: str | None = _sensitive()
    source_case_id: int | None = Field(default=None, foreign_key="cases.id")
    # The periodic review: the last one (or the day added) and when the next is due.
    reviewed_on: dt.date | None = None
    review_due_on: dt.date | None = Field(default=None, index=True)
    created_at: dt.datetime = _when()
    created_by: int | None = Field(default=None, sa_type=sa.BigInteger)
    updated_at: dt.datetime = _when()
    # Bumped by every change: a button drawn for an older revision is stale.
    revision: int = Field(default=0)


class RegisterSupport(SQLModel, table=True):
    """One kind of support for one child: its status and since when."""

    __tablename__ = "register_supports"
    __table_args__ = (sa.UniqueConstraint("child_id", "kind", name="uq_register_support_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="register_children.id", index=True)
    kind: str = Field(max_length=12)
    status: str = Field(max_length=16)
    since: dt.date
    note: str | None = _sensitive()  # what "other support" is


class RegisterEvent(SQLModel, table=True):
    """The record's "biến động": who, when, what changed. `changes` names the fields and
    holds codes (statuses, groups, reasons), never a name or a note."""

    __tablename__ = "register_events"

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="register_children.id", index=True)
    at: dt.datetime = _when()
    actor_user_id: int | None = Field(default=None, sa_type=sa.BigInteger)  # None: the bot
    kind: str = Field(max_length=16)  # added | updated | edited | support | reviewed | left …
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # A periodic review ("reviewed"): the day it was due and the day it was done (local), so
    # "reviews done on time" is counted by the database (done_on <= due_on).
    due_on: dt.date | None = Field(default=None, index=True)
    done_on: dt.date | None = None
