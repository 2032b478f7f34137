-- One row per GX suite validation (quality gate), without the failing values GX reports.
select
    r.result_id,
    r.suite,
    r.schema_name,
    r.success,
    r.evaluated,
    r.failed,
    r.critical_failed,
    r.validated_at
from {{ source('ops', 'quality_result') }} as r
