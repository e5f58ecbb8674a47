select
    employee_id,
    survey_date,
    engagement,
    satisfaction,
    intent_to_stay
from {{ source('hr', 'engagement_surveys') }}
