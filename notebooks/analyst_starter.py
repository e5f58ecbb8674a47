# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # repradar: analyst starter
#
# A first look at the KPI marts: the sales funnel and headcount and attrition. Copy a
# cell, change the SQL, and you have your own analysis.
#
# **What you query: the analyst database.** Every build publishes `analytics.duckdb` beside
# the HR warehouse: the analyst-facing marts (schema `marts`) with no person in them. No
# names, e-mails, employee keys, pay, ratings, survey answers or individual risk; counts of
# people under 5 are suppressed (NULL), headcounts rounded to a multiple of 5 and rates to
# whole percent; reps by quota attainment band (`mart_quota_attainment`) and risk by team
# (`mart_risk_by_team`, once reps are scored) only in bands. The HR warehouse
# (`warehouse.duckdb`, readable by its owner only) is for HR.
#
# **Which file.** `$REPRADAR_ANALYTICS` if set, else `analytics.duckdb` beside
# `$REPRADAR_WAREHOUSE` if that is set, otherwise the demo's `data/demo/analytics.duckdb`
# (build it with `make demo`). It is opened read-only, so the notebook cannot change it.

# %%
import os
from pathlib import Path

import duckdb
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from matplotlib.ticker import PercentFormatter


def find_analytics() -> Path:
    """$REPRADAR_ANALYTICS, else analytics.duckdb beside $REPRADAR_WAREHOUSE, else
    data/demo/analytics.duckdb of the repository we run in."""
    if os.environ.get("REPRADAR_ANALYTICS"):
        path = Path(os.environ["REPRADAR_ANALYTICS"]).expanduser()
    elif os.environ.get("REPRADAR_WAREHOUSE"):
        path = Path(os.environ["REPRADAR_WAREHOUSE"]).expanduser().with_name("analytics.duckdb")
    else:
        here = Path.cwd().resolve()
        root = next((d for d in [here, *here.parents] if (d / "pyproject.toml").exists()), None)
        if root is None:
            raise FileNotFoundError(
                f"no repository above {here}: set REPRADAR_ANALYTICS to the analyst database"
            )
        path = root / "data" / "demo" / "analytics.duckdb"
    if not path.is_file():
        raise FileNotFoundError(
            f"no analyst database at {path}: run `make demo` or `repradar demo`"
        )
    return path


pd.set_option("display.max_columns", None)  # plain-script runs print every column
pd.set_option("display.width", 200)

ANALYTICS = find_analytics()
CHARTS = ANALYTICS.parent / "charts"
con = duckdb.connect(str(ANALYTICS), read_only=True)


def show(fig, name: str) -> None:
    """Jupyter draws the chart under the cell; run as a plain script, it is saved as a PNG."""
    if "inline" not in matplotlib.get_backend():
        CHARTS.mkdir(exist_ok=True)
        fig.savefig(CHARTS / f"{name}.png", dpi=100, bbox_inches="tight")
        print(f"chart saved to {CHARTS / f'{name}.png'}")


print(f"analyst database: {ANALYTICS}")

# %% [markdown]
# ## What is in `marts`
#
# Each table and column carries its definition (from the dbt project's documentation, and
# what was left out or suppressed for the analyst database) as a comment.

# %%
tables = con.sql("""
    select table_name, comment as description
    from duckdb_tables()
    where database_name = current_database() and schema_name = 'marts'
    order by table_name
""").df()
for table in tables.itertuples():
    print(f"marts.{table.table_name}: {table.description}\n")
assert {"mart_funnel_conversion", "mart_headcount_attrition"} <= set(tables["table_name"])

# %% [markdown]
# ## The sales funnel, last 12 cohort months
#
# `mart_funnel_conversion` has one row per cohort month, team, segment and stage: how many
# opportunities reached the stage that month (`entered`) and how many of those later reached
# any later stage (`advanced`). Summing over teams and segments gives the company's funnel;
# conversion is `advanced / entered`, so the stage with the lowest conversion is where most
# deals are lost.
#
# Caveat: deals in the most recent cohorts are partly still open and may yet advance, so the
# last few months understate conversion a little.

# %%
funnel = con.sql("""
    with recent as (
        select *
        from marts.mart_funnel_conversion
        where cohort_month > (select max(cohort_month) from marts.mart_funnel_conversion)
                             - interval 12 month
    )
    select
        stage_order,
        stage_name,
        sum(entered)::bigint as entered,
        sum(advanced)::bigint as advanced,
        sum(advanced) / sum(entered) as conversion
    from recent
    group by stage_order, stage_name
    order by stage_order
""").df()

assert len(funnel) > 0, "mart_funnel_conversion is empty"
assert funnel["stage_order"].is_unique, "a stage appears twice"
assert (funnel["advanced"] <= funnel["entered"]).all()
assert funnel["conversion"].between(0, 1).all(), "conversion outside [0, 1]"

biggest_drop = funnel.loc[funnel["conversion"].idxmin()]
display(funnel)
print(
    f"Biggest drop: {biggest_drop['stage_name']}, "
    f"where {1 - biggest_drop['conversion']:.0%} of opportunities do not advance."
)

# %%
fig, ax = plt.subplots(figsize=(8, 4))
colors = [
    "tab:red" if stage == biggest_drop["stage_name"] else "tab:blue"
    for stage in funnel["stage_name"]
]
ax.barh(funnel["stage_name"], funnel["entered"], color=colors, alpha=0.35, label="entered")
ax.barh(funnel["stage_name"], funnel["advanced"], color=colors, label="advanced")
for y, row in enumerate(funnel.itertuples()):
    ax.text(row.entered, y, f"  {row.conversion:.0%} advance", va="center")
ax.invert_yaxis()  # Lead at the top
ax.set_xlim(0, funnel["entered"].max() * 1.25)
ax.set_xlabel("opportunities")
ax.set_title(f"Funnel, last 12 cohort months (biggest drop in red: {biggest_drop['stage_name']})")
ax.legend(loc="lower right")
show(fig, "funnel")

# %% [markdown]
# ## Headcount and attrition, company total
#
# `mart_headcount_attrition` has one row per month and team, plus a company-total row per
# month (`is_company_total`); never add the total to the team rows. The trailing-12-month
# voluntary attrition rate is voluntary exits over the last 12 months divided by the average
# headcount; it is only plotted where a full 12 months are available
# (`has_full_trailing_12m`) and published (12 months with at least 5 such exits). A month
# with 1 to 4 exits of a kind shows no bar for it: the count is suppressed.

# %%
attrition = con.sql("""
    select
        month_start,
        closing_headcount,
        hires,
        voluntary_exits,
        involuntary_exits,
        trailing_12m_voluntary_attrition_rate,
        has_full_trailing_12m
    from marts.mart_headcount_attrition
    where is_company_total
    order by month_start
""").df()

assert len(attrition) > 0, "no company-total rows in mart_headcount_attrition"
assert attrition["month_start"].is_unique, "more than one company total per month"
published_rates = attrition["trailing_12m_voluntary_attrition_rate"].dropna()
assert published_rates.between(0, 1).all(), "attrition rate outside [0, 1]"
display(attrition.tail(12))

# %%
full = attrition[
    attrition["has_full_trailing_12m"] & attrition["trailing_12m_voluntary_attrition_rate"].notna()
]
voluntary = attrition["voluntary_exits"].astype(float)  # suppressed (NULL): no bar
involuntary = attrition["involuntary_exits"].astype(float)
fig, ax = plt.subplots(figsize=(10, 4))
ax.bar(attrition["month_start"], voluntary, width=20, label="voluntary exits")
ax.bar(
    attrition["month_start"],
    involuntary,
    width=20,
    bottom=voluntary.fillna(0),
    label="involuntary exits",
)
ax.set_ylabel("exits in the month")
rate_ax = ax.twinx()
rate_ax.plot(
    full["month_start"],
    full["trailing_12m_voluntary_attrition_rate"],
    color="black",
    marker="o",
    label="trailing-12m voluntary attrition",
)
rate_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
rate_ax.set_ylim(0, max(0.05, full["trailing_12m_voluntary_attrition_rate"].max() * 1.3))
rate_ax.set_ylabel("trailing-12m voluntary attrition")
handles = ax.get_legend_handles_labels()[0] + rate_ax.get_legend_handles_labels()[0]
ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
ax.set_title("Exits per month and voluntary attrition, company total")
show(fig, "attrition")

# %%
con.close()
