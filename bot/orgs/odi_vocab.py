"""The one mapping table between the Volunteering Data Standard and our model.

Standard terms are IRIs under `https://ns.volunteeringdata.io/` (or the compact
`volunteering:Term`). Each table maps a term's local name to one of our ids; the export
tables map our ids back to the term that imports as the same id, so import -> export ->
import is stable. Our ids with no standard term are written under our own namespace
(`https://ns.vrijwilligerskracht.nl/<kind>/<id>`) and read back from it. A term in neither
table is never guessed: the importer keeps it (the vacancy's `unmapped`) and reports it.
"""

from __future__ import annotations

from quiz.model import DAYPARTS, WEEKDAYS

NS = "https://ns.volunteeringdata.io/"
OUR_NS = "https://ns.vrijwilligerskracht.nl/"
CONTEXT = "https://api.volunteeringdata.io/context/v1"
ID_PREFIX = "urn:vrijwilligerskracht:"  # ids we export (and recognise on import)

# Charitable Cause Taxonomy -> our cause ids.
CAUSES: dict[str, str] = {
    "AnimalWelfare": "animals",
    "AntiPoverty": "poverty",
    "LowIncomeHouseholds": "poverty",
    "ArtsAndCulture": "culture",
    "Heritage": "culture",
    "Care": "care",
    "Health": "care",
    "Illness": "care",
    "Community": "neighbourhood",
    "LocalCommunity": "neighbourhood",
    "Disability": "disability",
    "LearningDisabilities": "disability",
    "PhysicalDisability": "disability",
    "SensoryImpairment": "disability",
    "EducationAndLanguages": "education",
    "LiteracyNeeds": "education",
    "Environment": "nature",
    "OlderPeople": "elderly",
    "RefugeesAsylumSeekers": "refugees",
    "ReligionAndFaith": "faith",
    "SportAndOutdoorActivities": "sport",
    "YouthAndChildren": "youth",
}
CAUSE_TERMS: dict[str, str] = {
    "animals": "AnimalWelfare",
    "poverty": "AntiPoverty",
    "culture": "ArtsAndCulture",
    "care": "Care",
    "neighbourhood": "LocalCommunity",
    "disability": "Disability",
    "education": "EducationAndLanguages",
    "nature": "Environment",
    "elderly": "OlderPeople",
    "refugees": "RefugeesAsylumSeekers",
    "faith": "ReligionAndFaith",
    "sport": "SportAndOutdoorActivities",
    "youth": "YouthAndChildren",
}  # events, other: our namespace

# Skill Taxonomy -> our activity ids (what the volunteer does).
SKILLS: dict[str, str] = {
    "Communication": "social",
    "CustomerService": "social",
    "ConfidenceEngagingWithThePublic": "social",
    "EmpathyAndCompassion": "caring",
    "PatienceAndUnderstanding": "caring",
    "BasicFirstAidKnowledge": "caring",
    "Teamwork": "hands_on",
    "Logistics": "hands_on",
    "SafeManualHandling": "hands_on",
    "Driving": "hands_on",
    "LeadingSmallGroupsOrTasks": "organising",
    "BasicRecordKeeping": "organising",
    "CrowdQueueManagement": "organising",
    "SupportingOrMentoringNewVolunteers": "teaching",
    "Mentoring": "teaching",
    "Teaching": "teaching",
    "Photography": "creative",
    "Writing": "creative",
    "BasicITSkills": "digital",
    "DigitalAndTechnology": "digital",
    "SimpleDataEntryAndReporting": "digital",
}
SKILL_TERMS: dict[str, str] = {
    "social": "Communication",
    "caring": "EmpathyAndCompassion",
    "hands_on": "Logistics",
    "organising": "LeadingSmallGroupsOrTasks",
    "teaching": "SupportingOrMentoringNewVolunteers",
    "creative": "Writing",
    "digital": "BasicITSkills",
}  # expert, outdoor: our namespace

# Reward -> our `offers` ids.
REWARDS: dict[str, str] = {
    "TrainingProvided": "learn",
    "ExpensesReimbursed": "expenses",
    "Certificate": "certificate",
    "Accreditation": "certificate",
    "WorkExperience": "work_experience",
    "FlexibleHours": "flexible",
}
REWARD_TERMS: dict[str, str] = {
    "learn": "TrainingProvided",
    "expenses": "ExpensesReimbursed",
    "certificate": "Certificate",
    "work_experience": "WorkExperience",
    "flexible": "FlexibleHours",
}  # social, meaningful, practise_dutch: our namespace

# Requirement -> a boolean column of ours.
REQUIREMENTS: dict[str, str] = {"DBSCheck": "vog_required"}
VOG_TERM = "DBSCheck"  # the UK's DBS check is the Dutch VOG

# Time slots such as MondayAfternoon -> (weekday, daypart).
TIME_SLOTS: dict[str, tuple[str, str]] = {
    f"{day.capitalize()}{part.capitalize()}": (day, part) for day in WEEKDAYS for part in DAYPARTS
}

KINDS = ("cause", "skill", "reward", "requirement", "time")
_OUR_KIND = {"cause": "cause", "skill": "activity", "reward": "offer"}


def local_name(term: str) -> str | None:
    """`Term` of a standard IRI or CURIE; None for anything else."""
    term = term.strip()
    if term.startswith(NS):
        return term[len(NS) :].strip("/")
    if term.startswith("volunteering:"):
        return term.split(":", 1)[1]
    return None


def our_term(kind: str, value: str) -> str:
    """An id of ours with no standard term, written under our namespace."""
    return f"{OUR_NS}{_OUR_KIND[kind]}/{value}"


def from_our_ns(kind: str, term: str) -> str | None:
    prefix = f"{OUR_NS}{_OUR_KIND.get(kind, kind)}/"
    return term[len(prefix) :] if term.startswith(prefix) else None


def term_iri(name: str) -> str:
    return NS + name
