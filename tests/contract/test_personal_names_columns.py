"""A list of names can only be marked as people's names: it is masked and hashed name by name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flows.contract.ledgers import LEDGERS
from flows.contract.spec import ColumnSpec


def test_the_contract_marks_officers_and_patrollers_as_names_of_people():
    assert LEDGERS["inspections"].column("officers").personal == "person_name"
    assert LEDGERS["relic_patrols"].column("patrollers").personal == "person_name"
    assert LEDGERS["staff"].column("name").personal == "person_name"


@pytest.mark.parametrize("personal", ["phone", "id_number", "free_text"])
def test_a_names_column_of_another_kind_is_refused(personal):
    with pytest.raises(ValidationError, match="person_name"):
        ColumnSpec.model_validate({"header": "执法人员", "name": "officers", "type": "names", "personal": personal})


def test_a_names_column_with_clear_when_is_refused():
    with pytest.raises(ValidationError, match="clear_when"):
        ColumnSpec.model_validate({"header": "执法人员", "name": "officers", "type": "names",
                                   "personal": "person_name", "clear_when": {"column": "t", "equals": "单位"}})
