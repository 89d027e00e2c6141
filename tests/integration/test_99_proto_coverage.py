"""The run exercised every endpoint proto/openapi.yaml publishes, each with a
successful answer that matched its schema (see proto.py). Runs last."""

import proto


def test_every_endpoint_of_proto_was_exercised():
    missing = sorted(proto.operations() - proto.exercised)
    assert not missing, ("endpoints of proto/openapi.yaml no test answered with a 2xx: "
                         + ", ".join(f"{m} {p}" for m, p in missing))
