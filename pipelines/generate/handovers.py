"""Handovers: a leaver's accounts pass to a teammate after a delay, and some are lost.

When a rep leaves, each live account they own is assigned a successor on the same team
(the manager if nobody is left) and a handover day; planned handovers of key accounts by
voluntary leavers take a few days, others an exponential delay. The account is lost with
a probability that rises when it was single-threaded, when the leaver logged poorly and
when the handover was late. The leaver's open deals go to the successor, or die with a
lost account. Pending handovers take effect at the start of the month they fall due in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import params as P
from .org import random_teammates
from .selling import N_OPEN_STAGES, NOT_ENTERED
from .store import NEVER, NO_ONE

if TYPE_CHECKING:
    from .simulation import Company


def _fallback_successors(
    company: Company,
    rng: np.random.Generator,
    team: np.ndarray,
    exclude: np.ndarray,
    day: np.ndarray,
) -> np.ndarray:
    """A random teammate other than `exclude`, or the team's manager if there is none."""
    chosen = random_teammates(company, rng, team, exclude, int(day.max()))
    return np.where(chosen == NO_ONE, company.teams["manager"][team], chosen)


def redirect_pending_handovers(
    company: Company, rng: np.random.Generator, leavers: np.ndarray
) -> None:
    """Handovers not yet done to someone now leaving go to another teammate."""
    h = company.pending_handovers
    hit = np.nonzero(np.isin(h["successor"], leavers))[0]
    if len(hit):
        team = company.people["team"][h["successor"][hit]]
        h["successor"][hit] = _fallback_successors(
            company, rng, team, h["successor"][hit], h["day"][hit]
        )


def hand_over_accounts(
    company: Company, rng: np.random.Generator, reps: np.ndarray, voluntary: bool
) -> None:
    """Each leaver's live accounts pass to a teammate after a delay; some are lost.

    The loss probability rises when the account was single-threaded (no second account
    executive on it), when the leaver logged poorly and when the handover was late; it
    falls for key accounts whose handover was planned during the notice period.
    """
    a, p, t = company.accounts, company.people, company.account_team
    accounts = np.nonzero(np.isin(a["owner"], reps) & (a["churn_day"] == NEVER))[0]
    if not len(accounts):
        return
    n = len(accounts)
    leaver = a["owner"][accounts]
    term = p["term_day"][leaver]
    term_of_account = np.full(a.size, NEVER)
    term_of_account[accounts] = term
    account_term = term_of_account[t["account"]]
    staffed = (t["role"] == 0) & (t["start"] <= account_term) & (t["end"] > account_term)
    single_threaded = ~np.isin(accounts, t["account"][staffed])
    discipline = p["discipline"][leaver]
    planned = a["is_key"][accounts] & voluntary & (rng.random(n) < P.PLANNED_HANDOVER_PROBABILITY)
    delay = np.where(
        planned,
        rng.integers(0, P.PLANNED_HANDOVER_DAYS, n),
        np.ceil(rng.exponential(P.HANDOVER_DELAY_MEAN_DAYS, n)),
    ).astype(int)
    logit = (
        P.LOSS_INTERCEPT
        + P.LOSS_SINGLE_THREADED * single_threaded
        + P.LOSS_POOR_DOCUMENTATION * (1 - discipline)
        + P.LOSS_DELAY_PER_30_DAYS * delay / P.LOSS_DELAY_UNIT_DAYS
        + P.LOSS_PLANNED_KEY_HANDOVER * planned
    )
    p_loss = P.sigmoid(logit)
    lost = rng.random(n) < p_loss
    handover_day = term + delay
    successor = _fallback_successors(company, rng, p["team"][leaver], leaver, term)
    company.pending_handovers.append(account=accounts, successor=successor, day=handover_day)
    a["churn_day"][accounts[lost]] = handover_day[lost]
    company.handover_truth.add(
        account=accounts,
        leaver=leaver,
        term_day=term,
        handover_day=handover_day,
        single_threaded=single_threaded,
        discipline=discipline,
        planned=planned,
        delay_days=delay,
        p_loss=p_loss,
        lost=lost,
        voluntary=voluntary,
    )
    _move_open_deals(company, rng, reps, accounts, successor, handover_day, lost)


def _move_open_deals(
    company: Company,
    rng: np.random.Generator,
    reps: np.ndarray,
    accounts: np.ndarray,
    successor: np.ndarray,
    handover_day: np.ndarray,
    lost: np.ndarray,
) -> None:
    """Leavers' open deals go to the account's successor, or die with a lost account."""
    o, p = company.opps, company.people
    deals = np.nonzero(np.isin(o["owner"], reps))[0]
    deals = deals[o["close"][deals] > p["term_day"][o["owner"][deals]]]
    if not len(deals):
        return
    where = np.minimum(np.searchsorted(accounts, o["account"][deals]), len(accounts) - 1)
    known = accounts[where] == o["account"][deals]
    dies = known & lost[where]
    dead = deals[dies]
    close = np.maximum(handover_day[where][dies], o["created"][dead])
    o["close"][dead] = close
    o["won"][dead] = False
    for k in range(N_OPEN_STAGES):
        col = o[f"entered_{k}"]
        col[dead] = np.where(col[dead] > close, NOT_ENTERED, col[dead])
    moved = deals[known & ~dies]
    o["owner"][moved] = successor[where][known & ~dies]
    orphans = deals[~known]
    if len(orphans):
        orphan_owner = o["owner"][orphans]
        o["owner"][orphans] = _fallback_successors(
            company, rng, p["team"][orphan_owner], orphan_owner, p["term_day"][orphan_owner]
        )


def apply_handovers(company: Company, before_day: int) -> None:
    """Handovers due before `before_day` take effect: new owner and owner-history row."""
    h, a, oh = company.pending_handovers, company.accounts, company.owner_history
    due = h["day"] < before_day
    if not due.any():
        return
    account, successor, day = h["account"][due], h["successor"][due], h["day"][due]
    oh["valid_to"][a["owner_row"][account]] = day
    rows = oh.append(
        account=account, owner=successor, valid_from=day, valid_to=np.full(len(account), NEVER)
    )
    a["owner"][account] = successor
    a["owner_row"][account] = rows
    keep = ~due
    remaining = {k: h[k][keep].copy() for k in ("account", "successor", "day")}
    h.size = 0
    h.append(**remaining)
