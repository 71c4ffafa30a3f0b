"""One sentence per suspect, leading with the evidence that gives it its score (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracectl.analysis.logevidence import display_message
from tracectl.units import format_duration

if TYPE_CHECKING:
    from tracectl.analysis.triage import Suspect

LIST_AT_MOST = 3
MINOR_SHARE = 0.1  # below this, a latency row gets its numbers, not an explanation


def _d(ns: float) -> str:
    return format_duration(round(abs(ns)))


def _signed(ns: float) -> str:
    return ("+" if ns >= 0 else "−") + _d(ns)


def _listed(items: list[str]) -> str:
    shown = items[:LIST_AT_MOST]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _latency_part(s: Suspect) -> str:
    row = s.latency
    if row is None:
        return ""
    share = f"{s.share_of_excess:.0%} of the extra latency"
    numbers = f"{_d(row.suspect_ns)} per request through it vs {_d(row.baseline_ns)}"
    if row.new:
        return f"{share}: new in the suspect requests, never in the baseline ({_d(row.suspect_ns)} per request)"
    if s.share_of_excess < MINOR_SHARE:
        return f"{share} ({numbers})"
    if s.edge:
        callee = row.service
        links = [(c.caller_label, v) for c, v in row.members if v > 0]
        if len(links) <= 1:
            caller = links[0][0] if links else (row.members[0][0].caller_label if row.members else s.component)
            return f"{share} is network or queueing into {callee}, between {caller} and {callee} ({numbers})"
        between = _listed([f"{c} {_signed(v)}" for c, v in links])
        return f"{share} is network or queueing into {callee}, from all its callers ({between}; {numbers})"
    calls = [(c.callee_label, v) for c, v in row.members if c.edge and v > 0]
    where = f", mostly in {s.operation}" if s.operation else ""
    own = f"its own time{where} (CPU, locks, GC or slow code; {numbers})"
    if not calls:
        return f"{share} is {own}"
    outgoing = _listed([f"{c} {_signed(v)}" for c, v in calls])
    return (f"{share} is in it: its own time {_signed(row.own_ns)} and its side of its calls to {outgoing} "
            f"(slow on every call it makes: a starved or paused process is slow to send and to read replies; "
            f"{numbers})")  # fmt: skip


def _log_part(s: Suspect) -> str:
    parts = []
    if s.log_templates:
        top = s.log_templates[0]
        n, level = top.traces, "warning" if top.example.level == "warn" else top.example.level
        parts.append(f"new {level} logs in {n} suspect request{'s' if n != 1 else ''}, never in the baseline: "
                     f"“{display_message(top.example.message)}”")  # fmt: skip
    if s.log_silenced:
        x = s.log_silenced[0]
        parts.append(f"{x.operation} no longer logs “{display_message(x.example)}” ({x.suspect_rate:.0%} of its "
                     f"{x.suspect_calls} "
                     f"calls, {x.baseline_rate:.0%} in the baseline): its code path changed")  # fmt: skip
    if s.log_named_by:
        e = s.log_named_by[0]
        parts.append(f"named by new errors of {e.service or 'another service'}: “{display_message(e.message)}”")
    origin = f" (the deepest service whose logs changed, in {s.log_share:.0%} of those requests)" if s.log_share else ""
    return "; ".join(parts) + origin


def _truncation_part(s: Suspect) -> str:
    t = s.truncation
    if t is None:
        return ""
    calls = _listed([f"{c.callee} (in {c.suspect_share:.0%} of its calls vs {c.baseline_share:.0%})" for c in t.cut])
    return (f"the requests end inside it: {t.operation} is still called ({t.suspect_calls} times) but its calls to "
            f"{calls} stop — an exception or an early return there; the calls that vanished below it are the "
            f"consequence")  # fmt: skip


def describe(s: Suspect, latency_top: float) -> None:
    """Fill ``s.sentence`` and ``s.evidence`` (what leads: edge, self, errors, logs, attributes, structure)."""
    from tracectl.analysis.triage import (
        ATTRIBUTE_WEIGHT,
        attribute_contrast,
        error_delta,
        latency_evidence,
        log_growth,
        truncation_strength,
    )

    lat = latency_evidence(s)
    others = {"errors": error_delta(s), "logs": s.log_share, "attributes": ATTRIBUTE_WEIGHT * attribute_contrast(s),
              "truncation": truncation_strength(s)}  # fmt: skip
    best_other = max(others, key=lambda k: (others[k], k))
    if lat > 0 and lat >= (1 - latency_top) * min(1.0, others[best_other]):
        s.evidence = "edge" if s.edge else "self"
    elif others[best_other] > 0:
        s.evidence = best_other
    elif s.new_operations or s.grown_operations:
        s.evidence = "structure"
    parts: list[tuple[str, str]] = []
    if lat >= 0.1 or (s.evidence in ("edge", "self") and s.latency is not None):
        parts.append(("edge" if s.edge else "self", _latency_part(s)))
    if s.attributes and others["attributes"] > 0:
        a = s.attributes[0]
        parts.append(("attributes", f"{a.in_suspects:.0%} of the suspect requests carry {a.key}={a.value} on "
                                    f"{a.service} ({a.in_baseline:.0%} of the baseline)"))  # fmt: skip
    if others["errors"] >= 0.1:
        parts.append(("errors", f"errors on the critical path in {s.errors_on_path_suspect:.0%} of suspect requests "
                                f"vs {s.errors_on_path_baseline:.0%}"))  # fmt: skip
    if s.truncation is not None:
        parts.append(("truncation", _truncation_part(s)))
    if (s.log_templates or s.log_silenced or s.log_named_by) and (s.log_share > 0 or s.evidence == "logs"):
        parts.append(("logs", _log_part(s)))
    if s.new_operations:
        parts.append(("structure", "new operations: " + ", ".join(name for _service, name in s.new_operations[:3])))
    if s.grown_operations:
        (_service, name), a_, b_ = s.grown_operations[0]
        runs = f"{name} runs {a_:.1f}x per request (vs {b_:.1f}x): retries or a loop"
        parts.append(("structure", runs))
    if log_growth(s) >= 0.5:
        lv = ", ".join(f"{a_:.1f} {lvl} lines per request vs {b_:.1f}" for lvl, (a_, b_) in s.log_lines.items())
        parts.append(("logs", lv))
    parts.sort(key=lambda p: p[0] != s.evidence)  # the leading evidence first, the rest in the order above
    text = "; ".join(p for _, p in parts) if parts else "no difference worth a sentence"
    s.sentence = f"{s.component}: {text}"
