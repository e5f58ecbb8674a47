select
    employee_id,
    review_date,
    rating
from {{ source('hr', 'performance_reviews') }}
