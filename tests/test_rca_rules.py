"""Root-cause rules past latency alone, on small hand-built traces: requests cut short (the service that stopped
making its calls), error lines about a callee that shows no failure, and growth weighed against each
component's own normal spread (a ×5 small component against a ×1.05 large one)."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.builders import MS, span, trace
from tracectl.analysis.analyse import TraceAnalysis, analyse_trace
from tracectl.analysis.excess import effect_size
from tracectl.analysis.logevidence import log_evidence
from tracectl.analysis.logs import trace_events
from tracectl.analysis.triage import rank, rank_all, verdict_for
from tracectl.analysis.truncation import truncations
from tracectl.model import LogRecord, SpanKind, Trace

U = SpanKind.UNSPECIFIED


def _placed(t: Trace, n: int) -> Trace:
    trace_id, offset = f"{n + 1:032x}", n * 100 * MS
    return Trace(trace_id, tuple(replace(x, trace_id=trace_id, start_ns=x.start_ns + offset,
                                         end_ns=x.end_ns + offset) for x in t.spans))  # fmt: skip


def checkout(n: int, *, thrown: bool = False) -> Trace:
    """api → orders → (stock, then payment → bank), then api → notify. When ``thrown``, orders throws after stock
    answers: payment and bank are never called, and api, getting the error back, skips notify."""
    rnd = random.Random(n)
    j = rnd.uniform(0.9, 1.1)
    spans = [
        span("POST /checkout", 0, (14 if thrown else 60) * j, service="api", kind=U),
        span("orders.Create", 1, (13 if thrown else 40) * j, "POST /checkout", service="api", kind=U),
        span("Create", 2, (12 if thrown else 39) * j, "orders.Create", service="orders", kind=U),
        span("stock.Reserve", 3, 10 * j, "Create", service="orders", kind=U),
        span("Reserve", 4, 9 * j, "stock.Reserve", service="stock", kind=U),
    ]
    if not thrown:
        spans += [
            span("payment.Charge", 11 * j, 38 * j, "Create", service="orders", kind=U),
            span("Charge", 12 * j, 37 * j, "payment.Charge", service="payment", kind=U),
            span("bank.Authorize", 13 * j, 36 * j, "Charge", service="payment", kind=U),
            span("Authorize", 14 * j, 35 * j, "bank.Authorize", service="bank", kind=U),
            span("notify.Send", 41 * j, 59 * j, "POST /checkout", service="api", kind=U),
            span("Send", 42 * j, 58 * j, "notify.Send", service="notify", kind=U),
        ]
    return _placed(trace(*spans), n)


def _windows(thrown_share: float = 1.0, count: int = 30) -> tuple[list[TraceAnalysis], list[TraceAnalysis]]:
    base = [analyse_trace(checkout(i)) for i in range(count)]
    now = [analyse_trace(checkout(1000 + i, thrown=i < thrown_share * count)) for i in range(count)]
    return base, now


def test_a_mid_chain_exception_is_charged_to_the_service_that_stopped_calling() -> None:
    base, now = _windows()
    cut = truncations(now, base)
    # orders still runs Create every time but no longer calls payment; api stops calling notify only because
    # orders failed below it, and payment's vanished call to bank is the consequence: neither is charged.
    assert list(cut) == ["orders"]
    assert cut["orders"].operation == "Create"
    assert [(c.callee, c.baseline_share, c.suspect_share) for c in cut["orders"].cut] == [("payment", 1.0, 0.0)]
    ranking = rank_all(now, base)
    top = ranking.suspects[0]
    assert (top.component, top.evidence) == ("orders", "truncation")
    assert "calls to payment" in top.sentence and "the requests end inside it" in top.sentence
    assert [s.component for s in ranking.suspects if s.score > 0] == ["orders"]  # nothing else is evidence
    verdict = verdict_for("windows", now, base)
    assert verdict.culprit == "orders" == rank(now, base)[0].component


def test_a_request_mix_or_a_rare_cut_is_no_truncation() -> None:
    base, now = _windows(thrown_share=0.3)  # 30 % of the requests cut: the usual call is still made in 70 %
    assert truncations(now, base) == {}
    same_base, same_now = _windows(thrown_share=0.0)
    assert truncations(same_now, same_base) == {}
    assert verdict_for("windows", same_now, same_base).culprit is None


def _logged(analyses: list[TraceAnalysis], make: object) -> list[LogRecord]:
    out = []
    for a in analyses:
        for service, offset_ms, line in make(a):  # type: ignore[operator]
            out.append(LogRecord(a.tree.wall_start + offset_ms * MS, line, {"service_name": service}))
    return out


def test_an_error_line_naming_a_callee_counts_for_it_only_when_it_failed_too() -> None:
    base, now = _windows(thrown_share=0.0)

    def ok(a: TraceAnalysis) -> list[tuple[str, int, str]]:
        return [("orders", 5, f"INFO order placed trace_id={a.tree.trace_id}")]

    def blames_payment(a: TraceAnalysis) -> list[tuple[str, int, str]]:
        return [("orders", 5, f"ERROR could not charge card via payment trace_id={a.tree.trace_id}")]

    trees = [a.tree for a in (*base, *now)]
    b_events = trace_events(_logged(base, ok), trees)
    ev = log_evidence(now, base, trace_events(_logged(now, blames_payment), trees), b_events)
    # payment's spans and lines show nothing wrong: the line is evidence about orders, which logged it.
    assert ev.services["orders"].share == 1.0
    assert "payment" not in ev.services or (ev.services["payment"].share == 0.0 and not ev.services["payment"].named_by)

    def payment_fails_too(a: TraceAnalysis) -> list[tuple[str, int, str]]:
        return [*blames_payment(a), ("payment", 6, f"ERROR card declined: gateway 502 trace_id={a.tree.trace_id}")]

    ev = log_evidence(now, base, trace_events(_logged(now, payment_fails_too), trees), b_events)
    assert ev.services["payment"].share == 1.0 and ev.services["payment"].named_by  # it failed: the credit is its


# ------------------------------------------------------------------------------------ growth against its normal


def _pipeline(n: int, small_ms: float, large_ms: float) -> Trace:
    """gateway → tokenizer (small, tight), then gateway → ranker (large, its own normal spread ±30 %)."""
    gap = 0.2
    t1 = 1 + small_ms
    t2 = t1 + gap + large_ms
    spans = [
        span("POST /predict", 0, t2 + 1, service="gateway", kind=U),
        span("tokenizer.Encode", 0.5, t1 + 0.1, "POST /predict", service="gateway", kind=U),
        span("Encode", 1, t1, "tokenizer.Encode", service="tokenizer", kind=U),
        span("ranker.Score", t1 + 0.15, t2 + 0.5, "POST /predict", service="gateway", kind=U),
        span("Score", t1 + gap, t2, "ranker.Score", service="ranker", kind=U),
    ]
    return _placed(trace(*spans), n)


@settings(max_examples=12, deadline=None)
@given(st.floats(2, 8), st.floats(0.8, 1.25), st.integers(0, 10_000))
def test_property_an_unmistakable_small_change_outranks_a_slight_change_on_a_large_base(
    small: float, ratio: float, seed: int
) -> None:
    # The small component ×5 adds 4·small ms; the large one grows by 5 % of a base chosen so that its mean growth
    # is ``ratio`` times that, well inside its own ±30 % spread. Whenever the two explain comparable excess in the
    # sample drawn (within a factor 1.5 of each other), the unmistakable change ranks first.
    large = 4 * small * ratio / 0.05
    rnd = random.Random(seed)

    def window(first: int, small_factor: float, large_factor: float) -> list[TraceAnalysis]:
        return [analyse_trace(_pipeline(first + i, small * small_factor * rnd.uniform(0.95, 1.05),
                                        large * large_factor * rnd.uniform(0.7, 1.3))) for i in range(300)]  # fmt: skip

    base, now = window(0, 1, 1), window(1000, 5, 1.05)
    ranking = rank_all(now, base)  # its latency rows are latency_rows(now, base), computed once
    rows = {r.component: r for r in [*(s.latency for s in ranking.suspects if s.latency), *ranking.faster]}
    tokenizer, ranker = rows["tokenizer"], rows["ranker"]
    assume(ranker.excess_ns > 0 and 1 / 1.5 <= ranker.excess_ns / tokenizer.excess_ns <= 1.5)
    ranked = ranking.suspects
    assert ranked[0].component == "tokenizer"
    assert all(x.score >= y.score for x, y in itertools.pairwise(ranked))
    assert tokenizer.effect > 0.99 and tokenizer.rank_share == tokenizer.share
    assert ranker.rank_share < ranker.share  # moved within its own noise: weighed down


def test_effect_size_is_the_rank_biserial_correlation() -> None:
    assert effect_size([5, 6, 7], [1, 2, 3]) == 1.0
    assert effect_size([1, 2, 3], [5, 6, 7]) == -1.0
    assert effect_size([1, 2, 3], [1, 2, 3]) == 0.0
    assert effect_size([2.0], [1.0, 3.0]) == 0.0  # one above, one below
    assert effect_size([3.0, 3.0], [3.0, 1.0]) == 0.5  # ties count half
    assert effect_size([4.0], []) == 1.0 and effect_size([], [1.0]) == 0.0
