"""Case statuses (Decree 56/2017, art. 29–30) and what a reporter is told about them."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    RECEIVED = "received"  # tiếp nhận
    ASSESSING = "assessing"  # xác minh, đánh giá nguy cơ
    EMERGENCY = "emergency"  # can thiệp khẩn cấp
    PLANNING = "planning"  # lập kế hoạch hỗ trợ, can thiệp
    SUPPORTING = "supporting"  # thực hiện kế hoạch
    REVIEWING = "reviewing"  # theo dõi, đánh giá
    CLOSED = "closed"


OPEN_STATUSES = frozenset(CaseStatus) - {CaseStatus.CLOSED}


class PublicStatus(StrEnum):
    """The coarse status a reporter sees: nothing about the child or the family."""

    RECEIVED = "received"
    VERIFYING = "verifying"
    SUPPORTING = "supporting"
    CLOSED = "closed"


_PUBLIC = {
    CaseStatus.RECEIVED: PublicStatus.RECEIVED,
    CaseStatus.ASSESSING: PublicStatus.VERIFYING,
    CaseStatus.EMERGENCY: PublicStatus.SUPPORTING,
    CaseStatus.PLANNING: PublicStatus.SUPPORTING,
    CaseStatus.SUPPORTING: PublicStatus.SUPPORTING,
    CaseStatus.REVIEWING: PublicStatus.SUPPORTING,
    CaseStatus.CLOSED: PublicStatus.CLOSED,
}


def public_status(status: CaseStatus) -> PublicStatus:
    return _PUBLIC[status]
