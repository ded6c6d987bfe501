"""The funnel's stages, in order, and the events that move a journey to each.

Extensible: a new stage is a name here, its labels and the events that reach it. Stages in
OPTIONAL appear in reports once any event of theirs has been seen (so a report's shape does not
change before the feature that records them is in use).
"""

from __future__ import annotations

ALL_STAGES: tuple[str, ...] = (
    "entries",
    "consent",
    "started",
    "completed",
    "recommendations_shown",
    "want_to_help",
    "lead_delivered",
    "organisation_responded",
    "volunteer_started",
)
OPTIONAL: frozenset[str] = frozenset({"lead_delivered", "volunteer_started"})
# The stages every report shows (the optional ones join once seen).
STAGES: tuple[str, ...] = tuple(s for s in ALL_STAGES if s not in OPTIONAL)
STAGE_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "entries": "Binnengekomen",
        "consent": "Toestemming",
        "started": "Gestart",
        "completed": "Test af",
        "recommendations_shown": "Vacatures gezien",
        "want_to_help": "Ik wil helpen",
        "lead_delivered": "Aanmelding bezorgd",
        "organisation_responded": "Organisatie reageerde",
        "volunteer_started": "Begonnen als vrijwilliger",
    },
    "en": {
        "entries": "Entries",
        "consent": "Consent",
        "started": "Started",
        "completed": "Completed",
        "recommendations_shown": "Recommendations shown",
        "want_to_help": "Want to help",
        "lead_delivered": "Lead delivered",
        "organisation_responded": "Organisation responded",
        "volunteer_started": "Volunteer started",
    },
}
# Event names that move a journey to a stage.
STAGE_EVENTS: dict[str, tuple[str, ...]] = {
    "consent": ("consent", "quiz_started"),
    "started": ("answered", "skipped"),
    "completed": ("completed",),
    "recommendations_shown": ("recommendations_shown",),
    "want_to_help": ("want_to_help",),
    "lead_delivered": ("lead_delivered",),
    "organisation_responded": ("organisation_responded",),
    "volunteer_started": ("volunteer_started",),
}
RANK: dict[str, int] = {
    event: ALL_STAGES.index(stage) for stage, names in STAGE_EVENTS.items() for event in names
}
# A lead an organisation answered raises its journey to this stage.
# (`responded` from before the lead page; the page's three answers, bot/leads/tables.py).
RESPONDED_LEAD_STATUSES: tuple[str, ...] = ("responded", "contacted", "not_a_fit", "vacancy_full")
RESPONDED = ALL_STAGES.index("organisation_responded")
COMPLETED = ALL_STAGES.index("completed")
# Journeys started from a shared result card carry this campaign code.
REFERRAL_CAMPAIGN = "vriend"
