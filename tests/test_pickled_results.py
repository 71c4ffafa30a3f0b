"""What blame's workers send back survives pickling whole: rows, their components (services included, which
equality ignores) and each file's outcome."""

from __future__ import annotations

import pickle

from tracectl.analysis.attribution import Attribution, Component, Row
from tracectl.workflows.pool import FileOutcome


def test_attribution_round_trips_with_every_field() -> None:
    edge = Component(("api",), ("db",), ("db",))
    own = Component(("api",), (), ("api",))
    rows = (Row("api → db", True, 2, 1, 10, 30, 0.75, edge), Row("api", False, 1, 0, 5, 10, 0.25, own))
    att = Attribution("5b8efff798038103d269b633813fc700", 50, 40, "service", rows)
    outcome = FileOutcome("a.json", ((att.trace_id, (att, ("clock-skew",))),))
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(outcome, protocol=protocol))  # noqa: S301  # our own bytes
        assert back == outcome
        ((trace_id, (got, repairs)),) = back.traces
        assert (trace_id, repairs) == (att.trace_id, ("clock-skew",))
        assert [r.component for r in got.rows] == [edge, own]
        assert [r.component.services for r in got.rows] == [("db",), ("api",)]
        assert [r.share for r in got.rows] == [0.75, 0.25]


def test_a_failed_file_round_trips() -> None:
    outcome: FileOutcome[object] = FileOutcome("b.json", source="b.json", problem="not JSON")
    back = pickle.loads(pickle.dumps(outcome))  # noqa: S301  # our own bytes
    assert back == outcome
    assert str(back.error()) == str(outcome.error())
