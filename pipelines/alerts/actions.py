"""Recommended actions for HR, mapped from a rep's risk drivers (model feature names)."""

from __future__ import annotations

STAY_INTERVIEW = (
    "Stay interview with the rep this week (their manager, or HR if the manager is new)"
)
PAY_REVIEW = "Pay review against the band midpoint"
CAREER_TALK = "Career-path / promotion talk: agree what the next level needs and by when"
MANAGER_FOLLOW_UP = "Manager change follow-up: skip-level check-in on how the new manager works out"
QUOTA_REVIEW = "Quota and territory review with the manager (is the number reachable?)"
TEAM_CHECK_IN = "Team check-in after recent exits: who else is being approached?"
ONBOARDING_CHECK_IN = "First-year check-in: ramp support, a buddy, expectations met?"

ACTIONS_BY_DRIVER = {
    "pay_below_band": PAY_REVIEW,
    "promotion_overdue_months": CAREER_TALK,
    "new_manager_6m": MANAGER_FOLLOW_UP,
    "attainment_shortfall_3m": QUOTA_REVIEW,
    "last_engagement": STAY_INTERVIEW,
    "last_satisfaction": STAY_INTERVIEW,
    "last_intent_to_stay": STAY_INTERVIEW,
    "team_voluntary_exits_6m": TEAM_CHECK_IN,
    "first_year": ONBOARDING_CHECK_IN,
}


def handover_action(single_threaded_key_accounts: int) -> str:
    plural = "s" if single_threaded_key_accounts != 1 else ""
    return (
        f"Handover plan for {single_threaded_key_accounts} single-threaded key account{plural}: "
        "introduce a second contact now, document the relationship, name the successor"
    )


def recommended_actions(
    drivers: list[str], band: str, single_threaded_key_accounts: int
) -> list[str]:
    """Actions in the order of the drivers that call for them, without repeats; a High
    band always gets a stay interview; key accounts that depend on the rep alone always
    get a handover plan."""
    actions: list[str] = []
    if band == "High":
        actions.append(STAY_INTERVIEW)
    for driver in drivers:
        action = ACTIONS_BY_DRIVER.get(driver)
        if action and action not in actions:
            actions.append(action)
    if single_threaded_key_accounts:
        actions.append(handover_action(single_threaded_key_accounts))
    if not actions:
        actions.append(STAY_INTERVIEW)
    return actions


def team_actions(team_high_or_medium: int) -> list[str]:
    """What to do when a team loses two or more people in a quarter (peer contagion)."""
    actions = [
        TEAM_CHECK_IN,
        "Manager 1:1s with every remaining rep within two weeks",
        "Check whether the leavers went to the same employer (poaching) and whether they "
        "were in touch with the remaining reps",
    ]
    if team_high_or_medium:
        actions.append(
            f"Stay interviews first with the {team_high_or_medium} rep"
            f"{'s' if team_high_or_medium != 1 else ''} of this team in the High or Medium band"
        )
    return actions
