"""A province's own report deadlines up (to the Ủy ban nhân dân tỉnh and the ministry) as
events of the province unit itself, and the days its communes hand their reports in to it.

The province's set-up file writes `report_6m_by` / `report_year_by` ("trước 20/5"): each
becomes an event of the province (code `tinh-bao-cao-6-thang` / `tinh-bao-cao-nam`), reminded
on the lead days of the communes' report of the same period, to the province's chats and
administrators. Communes never inherit them: they live on the province unit, not in the
calendar every commune resolves (domain/inheritance.resolve)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.calendar import DateRule, EventKind
from domain.inheritance import inherited_calendar
from domain.setup_file import EventChange, EventSetup

OWN_CODES = {"6m": "tinh-bao-cao-6-thang", "year": "tinh-bao-cao-nam"}
_NAMES = {"6m": "Báo cáo 6 tháng của tỉnh", "year": "Báo cáo năm của tỉnh"}
_WHAT = {"6m": "báo cáo 6 tháng", "year": "báo cáo năm"}
# The usual lead days of a report deadline, for a period the communes' calendar has no
# report of (switched off by the province's file)
DEFAULT_LEADS = (14, 7, 3, 1, 0)


def communes_hand_in(province: Sequence[EventChange]) -> dict[str, EventSetup]:
    """{period: the report event every commune of the province inherits} (switched-off ones
    left out). A commune may move its own date; this is the province's calendar for them."""
    found: dict[str, EventSetup] = {}
    for event, _origin in inherited_calendar(province).values():
        if event.report_period and event.active and event.report_period not in found:
            found[event.report_period] = event
    return found


def own_deadlines(deadlines: Mapping[str, str], province: Sequence[EventChange],
                  ) -> list[EventSetup]:
    """The province's own deadline events, one per period its file writes a deadline for
    ({"6m": "trước 20/5", "year": "trước 20/11"}), in the order 6 months, year. Reminded on
    the communes' report's lead days; the message names {report_to}, the province's own
    recipient, and the date its communes hand in by."""
    communes = communes_hand_in(province)
    events = []
    for period in ("6m", "year"):
        rule = deadlines.get(period)
        if not rule:
            continue
        DateRule.parse(rule)  # checked at load; a bad stored rule fails loudly here
        theirs = communes.get(period)
        message = (f"Hạn tỉnh gửi {_WHAT[period]} kết quả thực hiện công tác trẻ em về "
                   f"{{report_to}} (kế hoạch ghi “{rule}”), tổng hợp từ báo cáo của các xã")
        message += (f" (các xã gửi “{theirs.date}”)." if theirs is not None else ".")
        events.append(EventSetup(
            code=OWN_CODES[period], name=_NAMES[period], kind=EventKind.REPORT_DEADLINE,
            date=rule, lead_days=theirs.lead_days if theirs is not None else DEFAULT_LEADS,
            audience=("all",), message=message, report_period=period))
    return events

