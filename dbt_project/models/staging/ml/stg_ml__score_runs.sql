-- One row per scoring run of `repradar score`.
select
    score_run_id,
    model_run_id,
    cast(scored_month as date) as scored_month,
    cast(scored_at as timestamp) as scored_at,
    cast(reps as bigint) as scored_reps,
    cast(accounts as bigint) as scored_accounts,
    cast(band_medium as double) as band_medium_threshold,
    cast(band_high as double) as band_high_threshold,
    -- null when nothing drifted (possibly in every run so far, so cast)
    cast(drifted_features as {{ dbt.type_string() }}) as drifted_features
from {{ source('ml', 'score_runs') }}
