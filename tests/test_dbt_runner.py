"""dbt failures are reported from dbt's own run_results.json: the failing node and dbt's message, in one line."""

from __future__ import annotations

import pytest

from cstrack.errors import CstrackError
from cstrack.transform import dbt


def test_a_failing_model_is_named_with_its_message(server_db):
    # dim_project's upstream models were never built in this new database: the model cannot run
    with pytest.raises(CstrackError) as failure:
        dbt.run_dbt(["run", "--select", "dim_project"], server_db)
    message = str(failure.value)
    assert message.startswith("dbt run failed: ")
    assert "dim_project" in message and "does not exist" in message
    assert "\n" not in message
