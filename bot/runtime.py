"""What every handler and job needs, built once at start and passed in (never global)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.settings import Settings
from domain.clock import Clock, SystemClock
from services.cases import CaseConfig
from services.identity import NOT_LOOKED
from storage.db import Database
from storage.members import MemberBrief

RUNTIME_KEY = "treem.runtime"


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    bot_username: str = ""
    # Set by bot.app: the outbox sender (bot.sender.Sender) and who is the active
    # instance (bot.leader.Leadership).
    outbox: Any = None
    leadership: Any = None

    @property
    def tz(self) -> dt.tzinfo:
        return self.settings.tz

    @functools.cached_property
    def case_config(self) -> CaseConfig:
        settings = self.settings
        return CaseConfig(tz=settings.tz, rules=settings.deadline_rules,
                          alerts=settings.alert_rules)

    def local_now(self) -> dt.datetime:
        return self.clock.now().astimezone(self.tz)


class TreemContext(CallbackContext[ExtBot, dict, dict, dict]):
    """CallbackContext with typed access to the Runtime. PTB builds one per update and
    hands it to every handler group, so it also carries what an earlier group learnt."""

    # Whether the person had a report open when their command or press arrived (None: not
    # looked at). Set before the features run (handlers/interruptions.py).
    report_was_open: bool | None = None
    # The sender's active membership as the check before a command or press read it
    # (None: a citizen), for the first unit of work of this update; unset: not read. And
    # when it was read (time.monotonic()).
    first_look_member: MemberBrief | object | None = NOT_LOOKED
    first_look_at: float = 0.0

    @property
    def runtime(self) -> Runtime:
        return self.application.bot_data[RUNTIME_KEY]


def attach_runtime(application: Application, runtime: Runtime) -> None:
    application.bot_data[RUNTIME_KEY] = runtime


def get_runtime(application: Application) -> Runtime:
    return application.bot_data[RUNTIME_KEY]
