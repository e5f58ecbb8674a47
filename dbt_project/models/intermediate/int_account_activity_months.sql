{{ config(materialized='table') }}
-- Activities counted by account, person (CRM user), month they happened and month they
-- were logged. Point-in-time features read "happened by D and logged by D" from here.
select
    account_id,
    owner_user_id as user_id,
    {{ month_start('occurred_on') }} as occurred_month,
    {{ month_start('logged_on') }} as logged_month,
    count(*) as activities
from {{ ref('stg_crm__activities') }}
group by account_id, owner_user_id, {{ month_start('occurred_on') }}, {{ month_start('logged_on') }}
