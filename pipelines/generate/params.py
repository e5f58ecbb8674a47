"""Parameters of the simulated company: segments, levels, pay, selling and leaving.

Every number that shapes the simulation lives here, with the reason it has that value,
so a reader can see what the generator assumes without reading the simulation loop.
"""

from __future__ import annotations

import numpy as np

# Index order of segments everywhere in the generator: SMB, Mid-Market, Enterprise.
SEGMENT_SHARE_OF_TEAMS = np.array([0.40, 0.35, 0.25])
# New opportunities per fully ramped level-2 rep per month.
OPPS_PER_MONTH = np.array([9.0, 4.5, 2.4])
# Median deal size: Enterprise ~10x SMB.
MEDIAN_AMOUNT = np.array([9_000.0, 27_000.0, 92_000.0])
AMOUNT_SIGMA = 0.55
# Mean days spent in each open stage: Enterprise cycles ~3.7x SMB.
DAYS_PER_STAGE = np.array([6.0, 11.0, 22.0])
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
# Accounts in a rep's book at full ramp.
BOOK_SIZE = np.array([28, 15, 7])
# Share of accounts worked by an account team (multi-threaded).
ACCOUNT_TEAM_SHARE = np.array([0.20, 0.40, 0.70])
KEY_ACCOUNT_SHARE = np.array([0.03, 0.10, 0.30])

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
RAMP = np.array([0.25, 0.5, 0.75])  # share of full quota and output in months 1-3
QUOTA_MONTH_WEIGHTS = np.array([0.30, 0.30, 0.40])  # months of a quarter
QUOTA_HEADROOM = 1.0  # quotas equal expected output of an average rep

# Voluntary exit hazard: logit contributions per month (see simulation.exit_drivers).
HAZARD_INTERCEPT = -6.5
HAZARD_ATTAINMENT = 1.5  # per unit of trailing-3-month shortfall below 100%
HAZARD_PAY = 9.0  # per unit of pay below band midpoint (10% below -> +0.9)
HAZARD_PROMOTION = 0.03  # per month since last promotion beyond 18 months
HAZARD_MANAGER_CHANGE = 0.8  # manager changed in the last 6 months
HAZARD_ENGAGEMENT = 0.9  # per point of latent satisfaction below 3.6
HAZARD_PEERS = 0.3  # per teammate who left voluntarily in the last 6 months
HAZARD_NEW_HIRE = 0.7  # first 12 months
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
INVOLUNTARY_REASONS = ("Performance", "Restructuring")

# Account loss after the owner leaves (logit), calibrated so that the average share of
# trailing-12-month revenue lost on a departure is near 15% (Shi et al. 2017: 13-18%).
LOSS_INTERCEPT = -4.1
LOSS_SINGLE_THREADED = 1.7
LOSS_POOR_DOCUMENTATION = 1.6  # per unit of (1 - logging discipline)
LOSS_DELAY_PER_30_DAYS = 0.45
LOSS_PLANNED_KEY_HANDOVER = -1.4
HANDOVER_DELAY_MEAN_DAYS = 24.0
PLANNED_HANDOVER_PROBABILITY = 0.6  # for key accounts of voluntary leavers

MANAGER_MONTHLY_EXIT = 0.012
REORG_TRANSFER_SHARE = 0.08  # reps moved to another team each January
BACKFILL_MEAN_MONTHS = 1.5
SURVEY_RESPONSE_RATE = 0.8
SURVEY_MONTHS = (3, 6, 9, 12)
REVIEW_MONTHS = (6, 12)


def band_midpoint(level: np.ndarray, segment: np.ndarray, year_offset: np.ndarray) -> np.ndarray:
    """Band midpoint for a level and segment in a year (0 = first simulated year)."""
    return (
        BAND_MIDPOINT_LEVEL2
        * BAND_LEVEL_STEP ** (np.asarray(level) - 2)
        * BAND_SEGMENT_FACTOR[segment]
        * (1 + BAND_ANNUAL_DRIFT) ** np.asarray(year_offset)
    )
