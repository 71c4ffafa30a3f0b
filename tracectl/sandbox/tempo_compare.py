"""``compare({selection}, topN, startNs, endNs)`` for the sandbox's Tempo (BACKENDS-2026.md §2.4, §2.5).

The spans of the first stage are split into the selection (they match ``{selection}`` and, when given, started
within ``[startNs, endNs)``) and the baseline (the rest). For every attribute seen on them (``resource.*``,
``span.*`` and the intrinsics ``name``, ``kind``, ``status``, ``rootName``, ``rootServiceName``), each set
answers one series per value (``__meta_type`` = ``baseline`` or ``selection``; spans without the attribute count
under ``"nil"``), its topN values only, and one ``baseline_total``/``selection_total`` series per attribute holding
every span of the set. The cut is silent, as a real Tempo 3.0.3 answered it
(``../shared/samples/tempo3/pushdown``): ``pkg/traceql/engine_metrics_compare.go`` builds a
``__meta_error="__too_many_values__"`` series without samples, and none reaches the client.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracectl.sandbox import traceql

if TYPE_CHECKING:
    from tracectl.model import Span
    from tracectl.sandbox.store import Store, Summary
    from tracectl.sandbox.tempo_metrics import Buckets


@dataclass(frozen=True, slots=True)
class Compare:
    selection: traceql.Query
    top_n: int = 10
    start_ns: int | None = None
    end_ns: int | None = None


def parse_compare(args: str) -> Compare:
    from tracectl.sandbox.tempo_metrics import bad

    spanset, _, rest = args.partition("}")
    try:
        selection = traceql.parse(spanset + "}")
    except traceql.TraceQLError as exc:
        raise bad(str(exc)) from None
    numbers = [a.strip() for a in rest.split(",") if a.strip()]
    if len(numbers) not in (0, 1, 3) or not all(n.isdigit() for n in numbers):
        raise bad("compare() takes a spanset, topN, and both or neither of startNs and endNs")
    top_n = int(numbers[0]) if numbers else 10
    if not 1 <= top_n <= 1000:
        raise bad(f"compare() topN must be between 1 and 1000: {top_n}")
    if len(numbers) == 3:
        return Compare(selection, top_n, int(numbers[1]), int(numbers[2]))
    return Compare(selection, top_n)


def _attributes(span: Span, summary: Summary) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": span.name, "kind": span.kind.label, "status": span.status.name.lower(),
        "rootName": summary.root_name, "rootServiceName": summary.root_service,
    }  # fmt: skip
    for scope, attrs in (("resource", span.resource.attributes), ("span", span.attributes)):
        for name, value in attrs.items():
            if isinstance(value, str | bool | int | float):
                found[f"{scope}.{name}"] = value
    return found


def compare_series(store: Store, query: traceql.Query, spec: Compare, buckets: Buckets) -> tuple[list[Any], int]:
    """(labels, value per bucket) of every series ``compare()`` answers, and how many spans it inspected."""
    from tracectl.sandbox.tempo_metrics import label

    tally: Counter[tuple[str, str, Any, int]] = Counter()  # (set, attribute, value, bucket) → spans
    totals: dict[str, list[float]] = {"baseline": [0.0] * buckets.count, "selection": [0.0] * buckets.count}
    inspected = 0
    for trace, summary in store.traces():
        spans = query.matches(trace, summary)
        if not spans:
            continue
        chosen = {s.span_id for s in spec.selection.matches(trace, summary) or ()}
        for span in spans:
            k = buckets.index(span.start_ns)
            if k is None:
                continue
            in_time = spec.start_ns is None or spec.start_ns <= span.start_ns < (spec.end_ns or 0)
            kind = "selection" if span.span_id in chosen and in_time else "baseline"
            totals[kind][k] += 1
            inspected += 1
            tally.update((kind, key, value, k) for key, value in _attributes(span, summary).items())
    by_attr: dict[tuple[str, str], dict[Any, list[float]]] = defaultdict(dict)  # (set, attribute) → value → buckets
    for (kind, key, value, k), n in tally.items():
        by_attr[(kind, key)].setdefault(value, [0.0] * buckets.count)[k] += n
    keys = sorted({key for _, key in by_attr})
    series: list[Any] = []
    for kind in ("baseline", "selection"):
        for key in keys:
            values = by_attr.get((kind, key), {})
            missing = [total - sum(v[k] for v in values.values()) for k, total in enumerate(totals[kind])]
            if any(missing):  # spans without the attribute count under nil
                values[None] = missing
            ranked = sorted(values, key=lambda v: (-sum(values[v]), str(v)))
            for value in ranked[: spec.top_n]:
                series.append(([label("__meta_type", kind), label(key, value)], values[value]))
            if values:
                series.append(([label("__meta_type", f"{kind}_total"), label(key, None)], totals[kind]))
    return series, inspected
