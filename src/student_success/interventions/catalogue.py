"""The kinds of support staff can offer, with tier, usual length and a short, honest evidence note.

Tiers follow multi-tiered systems of support (MTSS): 1 = light-touch, for anyone; 2 = targeted, for a
few students; 3 = intensive and individual. Durations and check-in frequencies are typical starting
points (six weeks with a weekly check-in is common school practice), not prescriptions. Evidence notes
stay general on purpose: they name the kind of evidence, never an effect size we cannot source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CheckInFrequency = Literal["twice a week", "weekly", "every two weeks", "once"]


@dataclass(frozen=True)
class InterventionType:
    """One kind of support staff can offer.

    Attributes:
        key: stable identifier, stored with each intervention plan.
        title: short name shown to staff.
        description: one sentence on what staff do.
        tier: 1 (light-touch), 2 (targeted) or 3 (intensive).
        duration_weeks: typical length of a plan.
        check_in_frequency: how often progress is usually checked.
        evidence: one or two honest sentences on what research says.
    """

    key: str
    title: str
    description: str
    tier: int
    duration_weeks: int
    check_in_frequency: CheckInFrequency
    evidence: str


_TYPES: tuple[InterventionType, ...] = (
    InterventionType(
        key="missing_work_recovery",
        title="Missing-work recovery plan",
        description=(
            "Agree with the student which missing pieces to hand in, in what order and by when, "
            "and check each one off together."
        ),
        tier=2,
        duration_weeks=3,
        check_in_frequency="twice a week",
        evidence=(
            "Course failures and low grades are among the strongest early-warning signs in research on "
            "on-track indicators, and missing work feeds both; evidence on recovery plans themselves is "
            "limited, so check that the work actually comes in."
        ),
    ),
    InterventionType(
        key="tutoring",
        title="Academic tutoring",
        description=(
            "Arrange regular small-group or one-to-one tutoring on the topics where the student's "
            "scores are low."
        ),
        tier=2,
        duration_weeks=10,
        check_in_frequency="weekly",
        evidence=(
            "High-dosage tutoring shows some of the largest effects of school interventions "
            "(e.g. Nickow, Oreopoulos & Quan 2020 meta-analysis); effects are largest when teachers or "
            "paraprofessionals tutor during the school day."
        ),
    ),
    InterventionType(
        key="engagement_outreach",
        title="Attendance and engagement outreach",
        description=(
            "Contact the student personally about attendance or online activity, find out what is "
            "getting in the way, and agree a small next step."
        ),
        tier=2,
        duration_weeks=6,
        check_in_frequency="weekly",
        evidence=(
            "Personalised outreach to families has reduced chronic absence in randomised trials (e.g. "
            "Rogers & Feller 2018), and mentoring such as Check & Connect has helped students stay in "
            "school; effects on grades are smaller and less certain."
        ),
    ),
    InterventionType(
        key="study_skills",
        title="Study-skills coaching",
        description=(
            "Coach the student in planning work against deadlines and in effective study habits such as "
            "self-testing and spacing practice over time."
        ),
        tier=2,
        duration_weeks=6,
        check_in_frequency="weekly",
        evidence=(
            "Teaching metacognition and self-regulation is rated one of the higher-impact, low-cost "
            "approaches in the Education Endowment Foundation's Teaching and Learning Toolkit; practice "
            "testing and spaced practice are well supported by learning research."
        ),
    ),
    InterventionType(
        key="counselling_referral",
        title="Counselling referral",
        description=(
            "Refer the student to the school counsellor or student-support service to talk through "
            "what is behind the difficulties."
        ),
        tier=3,
        duration_weeks=8,
        check_in_frequency="weekly",
        evidence=(
            "School-based counselling and mental-health support can help with problems that sit behind "
            "falling grades; results vary by programme, so agree a clear goal and review it."
        ),
    ),
    InterventionType(
        key="guardian_contact",
        title="Contact with parents or guardians",
        description=(
            "Call or meet the student's parents or guardians to share the concern and agree how school "
            "and home can support the student."
        ),
        tier=1,
        duration_weeks=4,
        check_in_frequency="every two weeks",
        evidence=(
            "Parental engagement has positive average effects on attainment in the Education Endowment "
            "Foundation's Toolkit, and frequent teacher–family communication raised homework completion "
            "in a randomised trial (Kraft & Dougherty 2013)."
        ),
    ),
    InterventionType(
        key="course_load_review",
        title="Course-load review",
        description=(
            "Review with the student whether the current course load fits their other commitments, "
            "and discuss options such as spreading courses over more terms."
        ),
        tier=1,
        duration_weeks=2,
        check_in_frequency="once",
        evidence=(
            "Direct evidence on load reviews is limited; it is a standard advising step that makes sure "
            "a student has realistic time for the work before deadlines pile up."
        ),
    ),
    InterventionType(
        key="early_check_in",
        title="Early check-in",
        description=(
            "Have a short, friendly conversation with the student about how the course is going and "
            "whether they need anything."
        ),
        tier=1,
        duration_weeks=2,
        check_in_frequency="once",
        evidence=(
            "Early, light-touch contact is standard tier-1 practice in multi-tiered systems of support; "
            "its value is in spotting problems early rather than in a measured effect of its own."
        ),
    ),
)

CATALOGUE: dict[str, InterventionType] = {t.key: t for t in _TYPES}
