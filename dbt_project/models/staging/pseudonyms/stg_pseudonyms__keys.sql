select
    kind,
    source_id,
    pseudonym
from {{ source('pseudonyms', 'keys') }}
