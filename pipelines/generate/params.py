"""Parameters of the simulated company: the org, selling, HR events, leaving and handovers.

Every number that shapes the simulation lives here, with the reason it has that value,
so a reader can see what the generator assumes without reading the simulation loop.
Sections follow the process modules: org, selling, activities, hr_events, leaving,
handovers.
"""

from __future__ import annotations

import numpy as np

# ------------------------------------------------------------------ org and hiring (org.py)
# Index order of segments everywhere in the generator: SMB, Mid-Market, Enterprise.
SEGMENT_SHARE_OF_TEAMS = np.array([0.40, 0.35, 0.25])
REPS_PER_TEAM = 8  # a typical first-line sales manager's span of control
MANAGER_TENURE_DAYS = (200, 3000)  # managers were hired 0.5-8 years before the first month
REP_TENURE_MEAN_DAYS = 800  # tenure of the starting reps: exponential, mean ~2.2 years
REP_TENURE_MAX_DAYS = 3650  # nobody has been a rep here for more than ten years
# Tenure in years after which a starting rep has reached levels 2, 3 and 4.
LEVEL_TENURE_YEARS = (1.0, 3.5, 6.5)
LEVEL_LAG_PROBABILITY = 0.3  # a starting rep is one level below what tenure suggests
MAX_DAYS_SINCE_PROMOTION = 1100  # a promoted starting rep's last promotion is within 3 years
MAX_DAYS_SINCE_MANAGER_CHANGE = 1000  # a starting rep's manager arrived within ~2.7 years
STARTING_PAY_DRIFT = (-0.01, 0.05)  # extra log-pay mean and spread of tenured starting reps
STARTING_BOOK_SPREAD = (0.7, 1.3)  # a starting rep's book is 70-130% of the full book
STARTING_ACCOUNT_AGE_DAYS = (30, 2500)  # starting accounts were opened 1 month-7 years ago
NEW_HIRE_LEVEL1_SHARE = 0.7  # most hires join as AE I, the rest as AE II
MANAGER_LEVEL = 5
# Latent traits of a new person.
BASE_SATISFACTION = (3.95, 0.35)  # mean and spread of the level satisfaction returns to
INITIAL_SATISFACTION_OFFSET = (-0.1, 0.25)  # satisfaction on day one vs that level
HIRE_AGE = (31, 7)  # mean and spread of age at hire, years
HIRE_AGE_RANGE = (21, 60)
LOGGING_DISCIPLINE_BETA = (4.0, 1.6)  # most reps log most of their work (mean ~0.71)
LOGGING_DISCIPLINE_MIN = 0.25  # even the sloppiest rep logs a quarter of it
HIRE_PAY_POSITION = (-0.02, 0.07)  # log of salary / band midpoint at hire: mean, spread
SCORE_SCALE = (1, 5)  # satisfaction, survey answers and ratings are on a 1-5 scale

# Accounts in a rep's book at full ramp.
BOOK_SIZE = np.array([28, 15, 7])
# Share of accounts worked by an account team (multi-threaded).
ACCOUNT_TEAM_SHARE = np.array([0.20, 0.40, 0.70])
ACCOUNT_TEAM_MANAGER_SHARE = 0.5  # the team's manager joins half of the account teams
KEY_ACCOUNT_SHARE = np.array([0.03, 0.10, 0.30])
ACCOUNT_SIZE_SIGMA = 0.35  # log-normal spread of account size (mean 1 within a segment)
KEY_ACCOUNT_SIZE_FACTOR = 1.8  # key accounts buy 1.8x as much

# Levels 1-4 are account executives; managers are level 5.
LEVEL_TITLES = {
    1: "Account Executive I",
    2: "Account Executive II",
    3: "Senior Account Executive",
    4: "Principal Account Executive",
    5: "Sales Manager",
}
LEVEL_OUTPUT = np.array([0.0, 0.8, 1.0, 1.25, 1.5, 0.0])  # by level index 0..5
BAND_MIDPOINT_LEVEL2 = 72_000.0
BAND_LEVEL_STEP = 1.22  # each level's midpoint is 22% above the one below
BAND_SEGMENT_FACTOR = np.array([1.0, 1.12, 1.30])
BAND_ANNUAL_DRIFT = 0.035  # market moves band midpoints every January
VARIABLE_SHARE = np.array([0.35, 0.45, 0.55])  # variable target / base salary
MONEY_DECIMALS = -2  # pay, bands and quotas are set in whole hundreds

# ----------------------------------------------------------------------- selling.py
# New opportunities per fully ramped level-2 rep per month.
OPPS_PER_MONTH = np.array([9.0, 4.5, 2.4])
# Median deal size: Enterprise ~10x SMB.
MEDIAN_AMOUNT = np.array([9_000.0, 27_000.0, 92_000.0])
AMOUNT_SIGMA = 0.55
AMOUNT_DECIMALS = -1  # deal amounts are quoted in whole tens
LEAD_SOURCES = np.array(["Inbound", "Outbound", "Partner", "Event", "Referral"])
LEAD_SOURCE_SHARE = np.array([0.34, 0.30, 0.14, 0.10, 0.12])
# Mean days spent in each open stage: Enterprise cycles ~3.7x SMB.
DAYS_PER_STAGE = np.array([6.0, 11.0, 22.0])
STAGE_DAYS_GAMMA_SHAPE = 2.0  # days in a stage are gamma: right-skewed, never negative
# Logit of advancing from each open stage to the next (the last one is the win).
ADVANCE_LOGIT = np.array(
    [
        [1.5, 1.2, 0.9, 0.7, 0.8],  # SMB
        [1.4, 1.1, 0.8, 0.6, 0.7],  # Mid-Market
        [1.3, 1.0, 0.7, 0.5, 0.6],  # Enterprise
    ]
)
SKILL_ADVANCE_EFFECT = 0.30  # logit per standard deviation of latent skill
STAGE_SKIP_PROBABILITY = 0.08  # a deal jumps over Contacted or Needs Analysis
# Deals that would close in the last month of a quarter are pushed to its last days.
QUARTER_END_PUSH_PROBABILITY = 0.45
QUARTER_PUSH_WINDOW_DAYS = 28  # wins due in a quarter's last four weeks are pushed ...
QUARTER_PULL_WINDOW_DAYS = 21  # ... and wins due in its first three weeks pulled back
QUARTER_END_SPREAD_DAYS = 5  # a bunched win lands on one of the quarter's last 5 days
# New business: the chance that a deal opens a new account rises as the book falls short.
NEW_ACCOUNT_MIN_PROBABILITY = 0.03  # even a full book brings in some new logos
NEW_ACCOUNT_PER_BOOK_GAP = 0.8  # per unit of (1 - book size / full book)
NEW_ACCOUNT_MAX_PROBABILITY = 0.9  # an empty book still sells some deals to nobody new
# Output: ramp and engagement scale the number of deals a rep opens.
RAMP = np.array([0.25, 0.5, 0.75])  # share of full quota and output in months 1-3
ENGAGEMENT_OUTPUT_PIVOT = 3.7  # satisfaction at which a rep works at full output
ENGAGEMENT_OUTPUT_RANGE = (0.55, 1.15)  # output factor of the least and most engaged
QUOTA_MONTH_WEIGHTS = np.array([0.30, 0.30, 0.40])  # months of a quarter
QUOTA_HEADROOM = 1.0  # quotas equal expected output of an average rep

# -------------------------------------------------------------------- activities.py
ACTIVITY_TYPE_SHARE = np.array(
    [  # call, email, meeting, visit
        [0.45, 0.38, 0.13, 0.04],  # SMB
        [0.38, 0.36, 0.19, 0.07],  # Mid-Market
        [0.30, 0.32, 0.26, 0.12],  # Enterprise: more meetings and visits
    ]
)
ACCOUNT_ACTIVITIES_PER_MONTH = 12.0  # account upkeep by a fully disciplined, engaged owner
TEAM_ACTIVITIES_PER_MONTH = 1.5  # by each account-team member on a live account
DEAL_ACTIVITIES_BASE = 0.6  # logged touches on a deal beyond its first, at discipline 1 ...
DEAL_ACTIVITIES_PER_STAGE = 1.1  # ... plus this many per stage the deal entered
WORKING_HOURS = (8, 18)  # activities happen between 08:00 and 18:00
LOGGING_LAG_MIN_DAYS = 0.2  # mean delay before a disciplined rep logs an activity ...
LOGGING_LAG_DAYS = 12.0  # ... plus this times (1 - discipline) squared
LOGGING_LAG_MIN_SECONDS = 300  # no activity is logged within five minutes of happening

# -------------------------------------------------------------------- hr_events.py
# January pay round: raises follow the last rating (unrated people count as a 3).
RAISE_BASE = 0.022  # the raise of a rating-3 rep
RAISE_PER_RATING_POINT = 0.016
RAISE_NOISE = 0.008
RAISE_MAX = 0.09
MIDDLE_RATING = 3
REORG_TRANSFER_SHARE = 0.08  # reps moved to another team each January
# Reviews in June and December: a rating from six-month attainment and skill.
REVIEW_MONTHS = (6, 12)
REVIEW_DAYS_BEFORE_MONTH_END = 3
REVIEW_MIN_TENURE_MONTHS = 3  # reps still ramping are not rated
REVIEW_WINDOW_MONTHS = 6  # reviews and dismissals judge the last half year
RATING_PER_ATTAINMENT = 2.2  # rating points per unit of attainment ...
RATING_PAR_ATTAINMENT = 0.9  # ... above the attainment that earns a 3
RATING_ATTAINMENT_CAP = 1.6  # overachievement beyond 160% earns no more
RATING_SKILL = 0.3  # managers see skill beyond the numbers
RATING_NOISE = 0.5
PROMOTION_MIN_RATING = 4
PROMOTION_MIN_MONTHS = 12  # since the last promotion (or hire)
TOP_REP_LEVEL = 4  # Principal AEs are not promoted (managers are hired, not grown)
PROMOTION_PROBABILITY = 0.4  # of an eligible rep at a review
PROMOTION_RAISE = 1.06  # at least a 6% raise ...
PROMOTION_BAND_POSITION = (0.92, 0.99)  # ... or into 92-99% of the new band's midpoint
MANAGER_MONTHLY_EXIT = 0.012
MANAGER_EXIT_REASON = "Career advancement"
# Latent satisfaction each month: it returns towards its base level, minus the stressors.
SATISFACTION_REVERSION = 0.15  # share of the gap to the base level closed each month
SATISFACTION_NOISE = 0.12
STRESS_ATTAINMENT = 0.10  # per unit of trailing-3-month shortfall
STRESS_PAY = 0.6  # per unit of pay below band midpoint
STRESS_NEW_MANAGER = 0.25  # in the month the manager changed
STRESS_PEERS = 0.2  # per teammate who left voluntarily this month
STRESS_STALLED = 0.004  # per month since last promotion beyond 18 months
STRESS_SHOCK = 0.9  # a bad month outside work ...
SHOCK_PROBABILITY = 0.02  # ... that hits 2% of reps each month
NEW_MANAGER_STRESS_MONTHS = 1
PEER_EXIT_STRESS_MONTHS = 1
# Quarterly engagement survey: noisy readings of latent satisfaction and exit hazard.
SURVEY_MONTHS = (3, 6, 9, 12)
SURVEY_RESPONSE_RATE = 0.8
SURVEY_CLOSE_DAYS_BEFORE_MONTH_END = 10
SURVEY_ANSWER_DAYS = 7  # answers arrive over the week before the survey closes
ENGAGEMENT_ANSWER_NOISE = 0.35
SATISFACTION_ANSWER_OFFSET = 0.15  # people rate satisfaction a little below engagement
SATISFACTION_ANSWER_NOISE = 0.5
INTENT_BASE = 4.5  # "I plan to be here in a year" of a rep with no exit hazard
INTENT_PER_HAZARD = 28  # per unit of monthly exit hazard (2.5% -> -0.7)
INTENT_SATISFACTION = 0.2  # per point of satisfaction ...
INTENT_SATISFACTION_PIVOT = 3.5  # ... above this
INTENT_ANSWER_NOISE = 0.5

# ---------------------------------------------------------------------- leaving.py
# Voluntary exit hazard: logit contributions per month (see leaving.exit_drivers).
HAZARD_INTERCEPT = -6.5
HAZARD_ATTAINMENT = 1.5  # per unit of trailing-3-month shortfall below 100%
HAZARD_PAY = 9.0  # per unit of pay below band midpoint (10% below -> +0.9)
HAZARD_PROMOTION = 0.03  # per month since last promotion beyond 18 months
HAZARD_MANAGER_CHANGE = 0.8  # manager changed in the last 6 months
HAZARD_ENGAGEMENT = 0.9  # per point of latent satisfaction below 3.6
HAZARD_PEERS = 0.3  # per teammate who left voluntarily in the last 6 months
HAZARD_NEW_HIRE = 0.7  # first 12 months
ATTAINMENT_WINDOW_MONTHS = 3  # quota pressure is felt over the trailing quarter
ATTAINMENT_PRESSURE_AFTER_MONTHS = 3  # reps still ramping feel no quota pressure
PROMOTION_STALL_MONTHS = 18
PROMOTION_STALL_CAP_MONTHS = 60  # beyond five more years a stalled career adds nothing
MANAGER_CHANGE_MONTHS = 6
ENGAGEMENT_PIVOT = 3.6
PEER_EXIT_MONTHS = 6
PEER_EXITS_CAP = 3  # a fourth leaving teammate pulls no harder than the third
NEW_HIRE_MONTHS = 12
DRIVERS = ("attainment", "pay", "promotion", "manager_change", "engagement", "peers", "tenure")
EXIT_REASONS = {
    "attainment": "Quota pressure",
    "pay": "Compensation",
    "promotion": "Career advancement",
    "manager_change": "Manager relationship",
    "engagement": "Job satisfaction",
    "peers": "Followed former colleagues",
    "tenure": "Role not as expected",
}
OTHER_EXIT_REASONS = ("Relocation", "Personal reasons")
OTHER_EXIT_REASON_PROBABILITY = 0.12  # leavers who give a reason unrelated to the drivers
INVOLUNTARY_REASONS = ("Performance", "Restructuring")
EXIT_INTERVIEW_RATE = 0.75
EXIT_INTERVIEW_DAYS = 5  # held within the leaver's last five days
SECONDARY_REASON_MIN_LOGIT = 0.2  # a second driver is named when it added this much
# Leavers for pay or promotion would come back for the right offer more often.
WOULD_RETURN_DRIVERS = ("pay", "promotion")
WOULD_RETURN_PROBABILITY = (0.5, 0.25)  # for those drivers, for the others
# Dismissals: a small base rate, much higher for long-tenured low performers.
DISMISSAL_BASE = 0.002
DISMISSAL_LOW_PERFORMER = 0.05
DISMISSAL_ATTAINMENT = 0.4  # six-month attainment below this ...
DISMISSAL_MAX_RATING = 2  # ... with a last rating of at most this ...
DISMISSAL_MIN_TENURE_MONTHS = 9  # ... after this long
PERFORMANCE_DISMISSAL_ATTAINMENT = 0.6  # below it a dismissal is recorded as performance
BACKFILL_MEAN_MONTHS = 1.5

# -------------------------------------------------------------------- handovers.py
# Account loss after the owner leaves (logit), calibrated so that the average share of
# trailing-12-month revenue lost on a departure is near 15% (Shi et al. 2017: 13-18%).
LOSS_INTERCEPT = -4.1
LOSS_SINGLE_THREADED = 1.7
LOSS_POOR_DOCUMENTATION = 1.6  # per unit of (1 - logging discipline)
LOSS_DELAY_PER_30_DAYS = 0.45
LOSS_DELAY_UNIT_DAYS = 30
LOSS_PLANNED_KEY_HANDOVER = -1.4
HANDOVER_DELAY_MEAN_DAYS = 24.0
PLANNED_HANDOVER_PROBABILITY = 0.6  # for key accounts of voluntary leavers
PLANNED_HANDOVER_DAYS = 6  # a planned handover is done within 0-5 days of the exit


def band_midpoint(level: np.ndarray, segment: np.ndarray, year_offset: np.ndarray) -> np.ndarray:
    """Band midpoint for a level and segment in a year (0 = first simulated year)."""
    return (
        BAND_MIDPOINT_LEVEL2
        * BAND_LEVEL_STEP ** (np.asarray(level) - 2)
        * BAND_SEGMENT_FACTOR[segment]
        * (1 + BAND_ANNUAL_DRIFT) ** np.asarray(year_offset)
    )


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function: turns the logits above into probabilities."""
    return 1.0 / (1.0 + np.exp(-x))
