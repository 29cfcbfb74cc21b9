"""The OpenAPI document's examples are real requests: every one is accepted by the domain's own checks."""

from __future__ import annotations

import pytest

from api.rest.event_schemas import examples, kind_schemas, request_name, requestable
from domain.payloads import parse_payload
from domain.registry import EVENT_TYPES

RECORDED = sorted(name for name, spec in EVENT_TYPES.items() if spec.derived_from is None)


@pytest.mark.parametrize("event_type", RECORDED)
def test_every_recordable_event_type_has_an_example_the_domain_accepts(event_type: str) -> None:
    example = examples()[event_type]
    spec = EVENT_TYPES[event_type]
    parse_payload(spec.payload, example["payload"])
    assert example["meaning"] in {str(meaning) for meaning in spec.meanings}


def test_the_examples_are_in_the_request_schemas() -> None:
    for kind in {spec.kind for spec in EVENT_TYPES.values()}:
        _, components = kind_schemas(kind)
        for spec in requestable(kind):
            assert components[request_name(spec)]["example"]["type"] == spec.name


def test_no_example_for_an_unknown_or_derived_type() -> None:
    assert set(examples()) == set(RECORDED)
