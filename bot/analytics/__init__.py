"""Campaign analytics: the funnel, drop-off per question and the profile mix, k ≥ 5.

Privacy by construction: raw per-conversation rows never leave this package. Reports read
aggregate counters (report_counts) that `aggregates.refresh` keeps up to date from the events
incrementally; every published count of people went through `suppress` (k = 5), with secondary
suppression where cells add up to a published total. No free text, no identifiers.
"""

from __future__ import annotations

from bot.analytics.journeys import TZ
from bot.analytics.report import (
    DIMENSIONS,
    NO_CAMPAIGN,
    UNKNOWN,
    Filters,
    QuestionRow,
    Report,
    TeamReport,
    funnel_report,
    team_report,
)
from bot.analytics.stages import (
    ALL_STAGES,
    COMPLETED,
    RESPONDED_LEAD_STATUSES,
    STAGE_EVENTS,
    STAGE_LABELS,
    STAGES,
)
from bot.analytics.suppression import K, cell, suppress, suppress_partition

__all__ = [
    "ALL_STAGES",
    "COMPLETED",
    "DIMENSIONS",
    "NO_CAMPAIGN",
    "RESPONDED_LEAD_STATUSES",
    "STAGES",
    "STAGE_EVENTS",
    "STAGE_LABELS",
    "TZ",
    "UNKNOWN",
    "Filters",
    "K",
    "QuestionRow",
    "Report",
    "TeamReport",
    "cell",
    "funnel_report",
    "suppress",
    "suppress_partition",
    "team_report",
]
