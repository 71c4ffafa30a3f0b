"""Log evidence for the ranking: what the suspects log differently from the baseline (ANALYSIS.md section 5). Pure.

Log *events* (``logs.trace_events``: a stack trace is one event) are tied to traces and spans. Per service:
- error and warning events per trace, suspects against baseline;
- **new templates**: a warning-or-worse message whose template (numbers, hex, UUIDs, long IDs, quoted values and
  ``key: value`` values masked) the service never logged in the baseline window, at any level;
- **silenced statements**: an operation that still runs in the suspects no longer logs a statement it logged
  on most of its calls in the baseline (at least ``SILENCED_USUAL`` of them; now at most a tenth as often). Its
  code path changed: an exception thrown before that line, or another branch taken. Operations are a
  service's entry spans (the topmost span of the service in the call), so a different mix of endpoints between
  the windows silences nothing. Errors that stop are good news, not evidence: only info-level and quieter
  statements count.

Faults that move no latency (an exception, a wrong return value) show up here. Errors propagate (a caller logs
its callee's failure too, or skips its own statements), so each suspect trace with a log anomaly credits one
service only: the deepest in the call tree, the earliest event breaking a tie (``origin``). A new error that
names exactly one other service of the traces (``No instances available for X``, ``connection refused to X``)
is about that service, its failing dependency — when X's own spans or log lines show a failure at that time (an
error span, or an error or warning line of its own, in the same request or within ``FAILURE_NEAR_NS`` of the
line): it is then credited to X, as one level deeper than the caller. Without that, the line is evidence about
the caller (an exception thrown in the caller often names the next service it would have called). A service's
log share is its credited traces over all credited traces, counted only with support: at least ``MIN_TRACES``
and ``MIN_SHARE`` of the suspect traces with logs. New templates need a baseline window with log lines at all.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tracectl.analysis.analyse import TraceAnalysis
from tracectl.analysis.logs import Event, match_logs, trace_events
from tracectl.analysis.tree import SpanTree
from tracectl.model import LogRecord

MIN_TRACES = 3
MIN_SHARE = 0.05
SILENCED_USUAL = 0.5
SILENCED_MIN_CALLS = 5
SERIOUS = frozenset({"fatal", "error", "warn"})
QUIET = frozenset({"info", "debug", "trace", "unknown"})
_MASKS = (
    (re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"), "<str>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"(?<![\w.])(?=[\w+/=-]*\d)(?=[\w+/=-]*[A-Za-z])[\w+/=-]{16,}"), "<id>"),
    (re.compile(r"(?<![A-Za-z])[-+]?\d+(?:[.,:]\d+)*"), "<n>"),
    (re.compile(r"(?<=[:=])(\s*)(\[[^\]]*\]|\{[^}]*\}|\([^)]*\)|[^\s,;\]\)}]+)"), r"\1<v>"),
)
TEMPLATE_CHARS = 160
FAILURE_NEAR_NS = 5 * 10**9  # a callee's own failure this close to a caller's line about it backs that line


def template_of(message: str) -> str:
    """The message with its variable parts masked, so the same statement with other values compares equal."""
    text = message.strip()
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return re.sub(r"\s+", " ", text)[:TEMPLATE_CHARS]


_NOISE = re.compile(
    r"^\s*\d{1,4}[-:/]\d{2}[-:/]\d{2}[T ]?(?:\d{2}:\d{2}(?::\d{2})?)?(?:[.,]\d+)?Z?\s*|"
    r"\b(?:trace|span)[ _.-]?id\s*[:=]\s*[0-9a-fA-F]+\s*",
    re.IGNORECASE,
)
DISPLAY_CHARS = 140


def display_message(message: str) -> str:
    """A message for a sentence: without a leading timestamp or trace/span ID mentions, cut to a line."""
    text = re.sub(r"\s+", " ", _NOISE.sub("", message)).strip()
    return text if len(text) <= DISPLAY_CHARS else text[: DISPLAY_CHARS - 1] + "…"


@dataclass(slots=True)
class NewTemplate:
    template: str
    traces: int  # suspect traces with an event of it
    example: Event


@dataclass(slots=True)
class Silenced:
    operation: str  # the service's entry span name
    template: str
    baseline_rate: float  # share of the operation's calls that logged it
    suspect_rate: float
    suspect_calls: int
    example: str = ""  # the message as the baseline logged it


@dataclass(slots=True)
class ServiceLogs:
    service: str
    per_trace: dict[str, tuple[float, float]] = field(default_factory=dict)  # level -> (suspects, baseline)
    new_templates: list[NewTemplate] = field(default_factory=list)  # most traces first
    silenced: list[Silenced] = field(default_factory=list)  # most calls first
    named_by: list[Event] = field(default_factory=list)  # new errors of other services that name this one
    anomaly_traces: int = 0  # suspect traces where its logs changed (new templates or silenced statements)
    origin_traces: int = 0  # … in which it is the deepest such service
    origin_ids: list[str] = field(default_factory=list)  # those traces
    share: float = 0.0  # of all suspect traces with an origin (0 without support)


@dataclass(slots=True)
class LogEvidence:
    services: dict[str, ServiceLogs]
    suspect_traces: int  # suspect traces with at least one event
    baseline_traces: int
    baseline_events: int  # all baseline events, tied to a trace or not

    def for_service(self, service: str) -> ServiceLogs | None:
        return self.services.get(service)


@dataclass(slots=True)
class _Placed:
    event: Event
    service: str
    template: str
    entry: int  # the service's entry span above the line's span (-1: not tied to a span)
    depth: int  # depth of the service's shallowest span in the trace (how deep in the call tree it sits)


def _entry(tree: SpanTree, node: int) -> int:
    service = tree.spans[node].service
    while tree.parent[node] >= 0 and tree.spans[tree.parent[node]].service == service:
        node = tree.parent[node]
    return node


def _place(group: dict[str, TraceAnalysis], events: list[Event]) -> list[_Placed]:
    by_trace: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_trace[e.trace_id or ""].append(e)
    out = []
    for trace_id, mine in by_trace.items():
        tree = group[trace_id].tree
        mine.sort(key=lambda e: e.record.time_ns)
        shallowest: dict[str, int] = {}
        for i, s in enumerate(tree.spans):
            shallowest[s.service] = min(shallowest.get(s.service, tree.depth[i]), tree.depth[i])
        for e, m in zip(mine, match_logs(tree, [e.record for e in mine]), strict=True):
            service = e.service or (tree.spans[m.node].service if m.node >= 0 else "(unknown)")
            entry = _entry(tree, m.node) if m.node >= 0 else -1
            out.append(_Placed(e, service, template_of(e.message), entry, shallowest.get(service, 0)))
    return out


def log_evidence(
    suspects: Sequence[TraceAnalysis],
    baseline: Sequence[TraceAnalysis],
    suspect_events: Iterable[Event],
    baseline_events: Iterable[Event],
) -> LogEvidence:
    """Per service: events per trace by level, new templates, silenced statements, origin credit."""
    s_map = {a.tree.trace_id: a for a in suspects}
    b_map = {a.tree.trace_id: a for a in baseline}
    b_all = list(baseline_events)
    seen: dict[str, set[str]] = defaultdict(set)  # service -> every template it logged in the baseline window
    for e in b_all:
        seen[e.service or "(unknown)"].add(template_of(e.message))
    s_placed = _place(s_map, [e for e in suspect_events if e.trace_id in s_map])
    b_placed = _place(b_map, [e for e in b_all if e.trace_id in b_map])
    for p in b_placed:
        seen[p.service].add(p.template)
    s_traces = {p.event.trace_id for p in s_placed}
    evidence = LogEvidence({}, len(s_traces), len({p.event.trace_id for p in b_placed}), len(b_all))
    for placed, n, slot in ((s_placed, len(s_traces), 0), (b_placed, evidence.baseline_traces, 1)):
        counts = Counter((p.service, p.event.level) for p in placed if p.event.level in SERIOUS)
        for (service, level), c in counts.items():
            entry = evidence.services.setdefault(service, ServiceLogs(service))
            pair = list(entry.per_trace.get(level, (0.0, 0.0)))
            pair[slot] = c / max(n, 1)
            entry.per_trace[level] = (pair[0], pair[1])
    anomalies: dict[str, list[tuple[int, int, str]]] = defaultdict(list)  # trace -> (-depth, time, service)
    if b_all or b_placed:
        known = {s.service for a in (*suspects, *baseline) for s in a.tree.spans}
        _new_templates(evidence, s_placed, seen, anomalies, known, _failing(s_map, s_placed))
    _silenced(evidence, s_placed, b_placed, s_map, b_map, anomalies)
    _origins(evidence, anomalies)
    return evidence


def _named(message: str, service: str, services: list[tuple[str, re.Pattern[str]]]) -> str | None:
    """Another known service that an error message names (its failing dependency), if exactly one."""
    found = {name for name, pattern in services if name != service and pattern.search(message)}
    return found.pop() if len(found) == 1 else None


@dataclass(slots=True)
class _Failures:
    """Where each service's own spans or lines show a failure: in which requests, and when."""

    requests: set[tuple[str, str]]  # (trace ID, service)
    times: dict[str, list[int]]  # service -> sorted times (ns) of its failures

    def near(self, service: str, trace_id: str, time_ns: int) -> bool:
        if (trace_id, service) in self.requests:
            return True
        times = self.times.get(service, [])
        i = bisect.bisect_left(times, time_ns - FAILURE_NEAR_NS)
        return i < len(times) and times[i] <= time_ns + FAILURE_NEAR_NS


def _failing(group: dict[str, TraceAnalysis], placed: list[_Placed]) -> _Failures:
    out = _Failures(set(), defaultdict(list))
    for p in placed:
        if p.event.level in SERIOUS:
            out.requests.add((p.event.trace_id or "", p.service))
            out.times[p.service].append(p.event.record.time_ns)
    for trace_id, a in group.items():
        for span in a.tree.spans:
            if span.is_error:
                out.requests.add((trace_id, span.service))
                out.times[span.service].append(span.end_ns)
    for times in out.times.values():
        times.sort()
    return out


def _new_templates(evidence: LogEvidence, placed: list[_Placed], seen: dict[str, set[str]],
                   anomalies: dict[str, list[tuple[int, int, str]]], known: set[str],
                   failing: _Failures) -> None:  # fmt: skip
    services = [(name, re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")) for name in sorted(known)]
    by_template: dict[tuple[str, str], list[_Placed]] = defaultdict(list)
    for p in placed:
        if p.event.level in SERIOUS and p.template not in seen.get(p.service, ()):
            by_template[(p.service, p.template)].append(p)
            named = _named(p.event.message, p.service, services)
            if named and not failing.near(named, p.event.trace_id or "", p.event.record.time_ns):
                named = None  # the callee shows no failure of its own here: the line is about the caller
            # An error naming another service (no instances of X, connection refused to X) is about X: a callee.
            credit, depth = (named, p.depth + 1) if named else (p.service, p.depth)
            anomalies[p.event.trace_id or ""].append((-depth, p.event.record.time_ns, credit))
            if named:
                evidence.services.setdefault(named, ServiceLogs(named)).named_by.append(p.event)
    for (service, template), group in by_template.items():
        traces = len({p.event.trace_id for p in group})
        entry = evidence.services.setdefault(service, ServiceLogs(service))
        entry.new_templates.append(NewTemplate(template, traces, group[0].event))
    for entry in evidence.services.values():
        entry.new_templates.sort(key=lambda t: (-t.traces, t.template))


Instance = tuple[str, int]  # (trace ID, entry span node)


def _calls(group: dict[str, TraceAnalysis], services: set[str]) -> dict[tuple[str, str], set[Instance]]:
    """(service, entry operation) → its calls, for the services that log."""
    out: dict[tuple[str, str], set[Instance]] = defaultdict(set)
    for trace_id, a in group.items():
        tree = a.tree
        for i, s in enumerate(tree.spans):
            if s.service in services and (tree.parent[i] < 0 or tree.spans[tree.parent[i]].service != s.service):
                out[(s.service, s.name)].add((trace_id, i))
    return out


def _logged(placed: list[_Placed], group: dict[str, TraceAnalysis], examples: dict[str, str] | None = None,
            ) -> dict[tuple[str, str, str], set[Instance]]:  # fmt: skip
    """(service, entry operation, quiet template) → the calls that logged it; ``examples``: template → message."""
    out: dict[tuple[str, str, str], set[Instance]] = defaultdict(set)
    for p in placed:
        if p.entry >= 0 and p.event.level in QUIET:
            tree = group[p.event.trace_id or ""].tree
            out[(p.service, tree.spans[p.entry].name, p.template)].add((p.event.trace_id or "", p.entry))
            if examples is not None:
                examples.setdefault(p.template, p.event.message)
    return out


def _silenced(evidence: LogEvidence, s_placed: list[_Placed], b_placed: list[_Placed],
              s_map: dict[str, TraceAnalysis], b_map: dict[str, TraceAnalysis],
              anomalies: dict[str, list[tuple[int, int, str]]]) -> None:  # fmt: skip
    logging_now = {p.service for p in s_placed}  # a service with no lines at all is unlogged, not silenced
    b_calls, s_calls = _calls(b_map, logging_now), _calls(s_map, logging_now)
    examples: dict[str, str] = {}
    b_logged, s_logged = _logged(b_placed, b_map, examples), _logged(s_placed, s_map)
    for (service, op, template), instances in sorted(b_logged.items()):
        usual = len(instances) / max(len(b_calls[(service, op)]), 1)
        now_calls = s_calls.get((service, op), set())
        if len(b_calls[(service, op)]) < SILENCED_MIN_CALLS or usual < SILENCED_USUAL or len(now_calls) < MIN_TRACES:
            continue
        quiet = now_calls - s_logged.get((service, op, template), set())
        rate = 1 - len(quiet) / len(now_calls)
        if rate > usual / 10:
            continue
        entry = evidence.services.setdefault(service, ServiceLogs(service))
        entry.silenced.append(Silenced(op, template, usual, rate, len(now_calls), examples.get(template, template)))
        for trace_id, node in quiet:
            tree = s_map[trace_id].tree
            anomalies[trace_id].append((-tree.depth[node], tree.start[node], service))
    for entry in evidence.services.values():
        entry.silenced.sort(key=lambda x: (-x.suspect_calls, -x.baseline_rate, x.operation, x.template))


def _origins(evidence: LogEvidence, anomalies: dict[str, list[tuple[int, int, str]]]) -> None:
    for candidates in anomalies.values():
        for service in {c[2] for c in candidates}:
            evidence.services[service].anomaly_traces += 1
    origins: Counter[str] = Counter()
    for trace_id, candidates in sorted(anomalies.items()):
        origin = min(candidates)[2]
        origins[origin] += 1
        evidence.services[origin].origin_ids.append(trace_id)
    floor = max(MIN_TRACES, MIN_SHARE * evidence.suspect_traces)
    total = sum(c for c in origins.values() if c >= floor)
    for service, count in origins.items():
        entry = evidence.services[service]
        entry.origin_traces = count
        entry.share = count / total if count >= floor and total else 0.0


WINDOW_MARGIN_NS = 5 * 10**9


def evidence_from_records(
    suspects: Sequence[TraceAnalysis], baseline: Sequence[TraceAnalysis], records: Iterable[LogRecord]
) -> LogEvidence:
    """Tie ``records`` to the traces of both sets, then weigh them. A line tied to no trace counts for the baseline
    window (templates it has seen) when its time is in the baseline's window and outside the suspects'."""
    trees = [a.tree for a in (*suspects, *baseline)]
    events = trace_events(records, trees)
    s_ids = {a.tree.trace_id for a in suspects}
    b_ids = {a.tree.trace_id for a in baseline}

    def window(group: Sequence[TraceAnalysis]) -> tuple[int, int]:
        if not group:
            return (0, -1)
        lo = min(a.tree.wall_start for a in group) - WINDOW_MARGIN_NS
        return lo, max(a.tree.wall_end for a in group) + WINDOW_MARGIN_NS

    (b_lo, b_hi), (s_lo, s_hi) = window(baseline), window(suspects)

    def baseline_only(e: Event) -> bool:
        t = e.record.time_ns
        return e.trace_id is None and b_lo <= t <= b_hi and not s_lo <= t <= s_hi

    s_events = [e for e in events if e.trace_id in s_ids]
    b_events = [e for e in events if e.trace_id in b_ids or baseline_only(e)]
    return log_evidence(suspects, baseline, s_events, b_events)
