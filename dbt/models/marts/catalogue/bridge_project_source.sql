select
    project_key,
    source_system,
    source_record_id,
    load_id
from {{ ref('int_catalogue__records') }}
