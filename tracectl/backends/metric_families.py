"""The metric families tracectl reads RED from, found in Prometheus without configuration, and their PromQL.

Known families, in order of preference for a service's own RED (names, labels and units: BACKENDS-2026.md §4):

- ``otel-http``: ``http_server_request_duration_seconds`` (s); service ``job`` (``ns/name``) or ``service_name``;
  operation ``http_route``; errors ``http_response_status_code`` 5xx.
- ``otel-http-ms``: ``http_server_duration_milliseconds`` (ms), the same labels before semconv 1.21; errors
  ``http_status_code`` 5xx.
- ``tempo``: ``traces_spanmetrics_latency`` (s) and ``traces_spanmetrics_calls_total``; service ``service``,
  operation ``span_name``, errors ``status_code="STATUS_CODE_ERROR"``.
- ``collector``: ``traces_span_metrics_duration_{milliseconds,seconds,}`` (ms, s, unsuffixed = ms) and
  ``traces_span_metrics_calls[_total]``; service ``service_name``, operation ``span_name``, errors ``status_code``
  (or ``otel_status_code``).

Each may be classic (``_bucket`` series with ``le``) or native (the bare name). Discovery asks Prometheus' index
only (``/api/v1/label/__name__/values`` and ``/api/v1/label/<l>/values`` with ``match[]``): no samples are read.
``--metric NAME`` names another histogram; its unit comes from its name (``_seconds``, ``_milliseconds``) or a
``:s``/``:ms`` suffix, never guessed. Span-metrics families are read for server spans (``SPAN_KIND_SERVER``).

Every label value in a query is one discovery found (so it exists), quoted as PromQL strings are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from tracectl.backends.prometheus import PrometheusClient, PromSeries
from tracectl.errors import InputError
from tracectl.timerange import TimeRange

Matcher = tuple[str, str, str]  # (label, operator, value)
SERVER_KINDS = ("SPAN_KIND_SERVER", "SPAN_KIND_CONSUMER")
GRAPH = "traces_service_graph_request"
SPAN_CALLS = {"traces_spanmetrics_calls_total", "traces_span_metrics_calls_total", "traces_span_metrics_calls"}
DEPLOY_NAMES = ("target_info", "kube_deployment_metadata_generation")


@dataclass(frozen=True, slots=True)
class Family:
    key: str
    title: str
    histogram: str  # base name: the series are histogram_bucket/_count/_sum, or the bare name when native
    unit_ns: int  # nanoseconds per unit of the histogram
    service_labels: tuple[str, ...]
    operation_labels: tuple[str, ...]
    errors: tuple[Matcher, ...]  # candidates; the first whose label the series carry is used
    calls: tuple[str, ...] = ()  # a request counter, when the family has one
    kind_label: str = ""  # span kind label: only server spans are read
    native: bool = False


def _collector(suffix: str, unit_ns: int) -> Family:
    return Family(
        f"collector{suffix.replace('_', '-')}", "OpenTelemetry Collector spanmetrics connector",
        f"traces_span_metrics_duration{suffix}", unit_ns, ("service_name",), ("span_name",),
        (("status_code", "=", "STATUS_CODE_ERROR"), ("otel_status_code", "=", "ERROR")),
        ("traces_span_metrics_calls_total", "traces_span_metrics_calls"), "span_kind",
    )  # fmt: skip


KNOWN: tuple[Family, ...] = (
    Family("otel-http", "OpenTelemetry HTTP server duration", "http_server_request_duration_seconds", 10**9,
           ("job", "service_name"), ("http_route",), (("http_response_status_code", "=~", "5.."),)),
    Family("otel-http-ms", "OpenTelemetry HTTP server duration (before semconv 1.21)",
           "http_server_duration_milliseconds", 10**6, ("job", "service_name"), ("http_route", "http_target"),
           (("http_status_code", "=~", "5.."), ("http_response_status_code", "=~", "5.."))),
    Family("tempo", "Tempo metrics-generator span metrics", "traces_spanmetrics_latency", 10**9, ("service",),
           ("span_name",), (("status_code", "=", "STATUS_CODE_ERROR"),), ("traces_spanmetrics_calls_total",),
           "span_kind"),
    _collector("_milliseconds", 10**6),
    _collector("_seconds", 10**9),
    _collector("", 10**6),  # unsuffixed: the connector's default unit, ms (said in a warning)
)  # fmt: skip
UNIT_SUFFIXES = {"_seconds": 10**9, "_milliseconds": 10**6, "_ms": 10**6}
GENERIC_SERVICE_LABELS = ("service", "service_name", "job", "app")
GENERIC_OPERATION_LABELS = ("span_name", "http_route", "operation", "route", "endpoint")
GENERIC_ERRORS: tuple[Matcher, ...] = (
    ("status_code", "=", "STATUS_CODE_ERROR"), ("otel_status_code", "=", "ERROR"),
    ("http_response_status_code", "=~", "5.."), ("http_status_code", "=~", "5.."), ("code", "=~", "5.."),
)  # fmt: skip


def promql_string(value: str) -> str:
    """A PromQL double-quoted string (Go escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def regex_alternatives(values: list[str]) -> str:
    """An anchored RE2 alternation matching exactly ``values``."""
    return "|".join(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", v) for v in values)


def selector(name: str, matchers: tuple[Matcher, ...] | list[Matcher]) -> str:
    inner = ", ".join(f"{label}{op}{promql_string(value)}" for label, op, value in matchers)
    return f"{name}{{{inner}}}" if inner else name


def parse_metric_flag(text: str) -> Family:
    """``--metric NAME[:s|:ms]``: a known family by name, or another histogram with its unit."""
    name, _, unit = text.strip().partition(":")
    base = name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
    if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", base):
        raise InputError(f"--metric: {text!r} is not a Prometheus metric name")
    known = next((f for f in KNOWN if f.histogram == base), None)
    units = {"s": 10**9, "ms": 10**6}
    if unit and unit not in units:
        raise InputError(f"--metric: unit {unit!r} must be s or ms (NAME:s, NAME:ms)")
    if known is not None:
        return replace(known, unit_ns=units[unit]) if unit else known
    unit_ns = units.get(unit) or next((n for s, n in UNIT_SUFFIXES.items() if base.endswith(s)), None)
    if unit_ns is None:
        raise InputError(f"--metric: {base} does not say its unit; give it: --metric {base}:s or --metric {base}:ms")
    return Family("custom", f"--metric {base}", base, unit_ns, GENERIC_SERVICE_LABELS, GENERIC_OPERATION_LABELS,
                  GENERIC_ERRORS, (), "span_kind")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Found:
    """A family as it exists for one service: how to select that service's (server) requests."""

    family: Family
    service_matchers: tuple[Matcher, ...]
    error_matcher: Matcher | None
    operation_label: str | None
    calls: str | None  # the request counter to read the rate from, or None: the histogram's count

    @property
    def series_name(self) -> str:
        return self.family.histogram if self.family.native else f"{self.family.histogram}_bucket"


def _present(client: PrometheusClient, names: list[str], time: TimeRange) -> set[str]:
    pattern = regex_alternatives(names) + "|.+_build_info"
    return set(client.label_values("__name__", [f"{{__name__=~{promql_string(pattern)}}}"], time))


def candidate_names(families: tuple[Family, ...]) -> list[str]:
    names = [GRAPH + "_total", *DEPLOY_NAMES, *sorted(SPAN_CALLS)]
    for f in families:
        names += [f.histogram, f"{f.histogram}_bucket", *f.calls]
    return names


def discover(
    client: PrometheusClient, service: str, time: TimeRange, override: Family | None = None
) -> tuple[Found, set[str], list[str]]:
    """The family that holds ``service``'s requests, the metric names present, and warnings. Raises
    ``InputError`` when no family knows the service (naming the services one does know)."""
    families = (override,) if override is not None else KNOWN
    present = _present(client, candidate_names(families), time)
    known_services: dict[str, list[str]] = {}
    for candidate in families:
        native = candidate.histogram in present and f"{candidate.histogram}_bucket" not in present
        if f"{candidate.histogram}_bucket" not in present and not native:
            continue
        family = replace(candidate, native=native)
        series = family.histogram if native else f"{family.histogram}_bucket"
        for label in family.service_labels:
            values = client.label_values(label, [series], time)
            match = _service_value(values, service, label)
            known_services.setdefault(family.histogram, []).extend(values)
            if match is None:
                continue
            matchers = [(label, "=", match)]
            labels = set(client.label_names([selector(series, matchers)], time))
            if family.kind_label and family.kind_label in labels:
                matchers.append((family.kind_label, "=~", "|".join(SERVER_KINDS)))
            error = next((m for m in family.errors if m[0] in labels), None)
            operation = next((o for o in family.operation_labels if o in labels), None)
            calls = next((c for c in family.calls if c in present), None)
            warnings = []
            if family.unit_ns == 10**6 and not family.histogram.endswith(("_milliseconds", "_ms")):
                warnings.append(f"{family.histogram} does not say its unit: read as milliseconds, the spanmetrics "
                                f"connector's default (--metric {family.histogram}:s if it is seconds)")  # fmt: skip
            return Found(family, tuple(matchers), error, operation, calls), present, warnings
    if not known_services:
        what = override.histogram if override is not None else ", ".join(f.histogram for f in KNOWN[:4]) + ", …"
        raise InputError(f"Prometheus has no request-duration histogram tracectl knows in this window ({what}); "
                         "name yours with --metric NAME")  # fmt: skip
    name, seen = next(iter(known_services.items()))
    shown = ", ".join(sorted({_short(v) for v in seen})[:12]) or "none"
    raise InputError(f"no metrics for service {service!r} in {name} (services there: {shown}); check -s")


def _short(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _service_value(values: list[str], service: str, label: str) -> str | None:
    """The label value naming ``service``: itself, or ``namespace/service`` in ``job``."""
    if service in values:
        return service
    if label == "job":
        return next((v for v in values if v.rsplit("/", 1)[-1] == service), None)
    return None


# ------------------------------------------------------------------------------------------------ queries


def window_text(window_ns: int) -> str:
    seconds = max(1, round(window_ns / 10**9))
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def red_queries(found: Found, operation: str | None, window_ns: int, quantiles: tuple[float, ...]) -> dict[str, str]:
    """PromQL for rate (requests/s), error rate (requests/s) and each latency quantile (in the family's unit)."""
    f, w = found.family, window_text(window_ns)
    matchers = list(found.service_matchers)
    if operation is not None:
        matchers += _operation_matchers(found, operation)
    errors = [*matchers, found.error_matcher] if found.error_matcher else None
    if found.calls:
        counted = found.calls
    elif f.native:
        counted = ""
    else:
        counted = f"{f.histogram}_count"

    def rate(ms: list[Matcher]) -> str:
        if counted:
            return f"sum(rate({selector(counted, ms)}[{w}]))"
        return f"sum(histogram_count(rate({selector(f.histogram, ms)}[{w}])))"

    out = {"rate": rate(matchers)}
    if errors is not None:
        out["errors"] = rate(errors)
    for q in quantiles:
        if f.native:
            out[f"p{q * 100:g}"] = f"histogram_quantile({q:g}, sum(rate({selector(f.histogram, matchers)}[{w}])))"
        else:
            out[f"p{q * 100:g}"] = (
                f"histogram_quantile({q:g}, sum by (le) (rate({selector(f.histogram + '_bucket', matchers)}[{w}])))"
            )
    return out


def _operation_matchers(found: Found, operation: str) -> list[Matcher]:
    """``--operation``: the span name, or for HTTP metrics the route (``POST /v1/predict`` → method and route)."""
    label = found.operation_label
    if label is None:
        raise InputError(f"--operation: {found.family.histogram} has no operation label (span_name, http_route)")
    method, _, route = operation.partition(" ")
    if label.startswith("http_") and route.startswith("/") and method.isupper():
        method_label = "http_request_method" if found.family.key == "otel-http" else "http_method"
        return [(label, "=", route), (method_label, "=", method)]
    return [(label, "=", operation)]


def first_points(result: list[PromSeries]) -> tuple[tuple[int, float], ...]:
    """The samples of the one series an aggregated query answers (empty when there is none)."""
    return result[0].samples if result else ()


def graph_query(range_ns: int) -> str:
    """Every service-graph edge with its requests over ``range_ns`` (an instant query at the window's end)."""
    return f"sum by (client, server) (increase({GRAPH}_total[{window_text(range_ns)}]))"


def edge_latency_query(side: str, clients: list[str], window_ns: int, q: float = 0.95) -> str:
    """The p``q`` latency per edge leaving ``clients``, as the caller (``client``) or the callee (``server``) saw it."""
    name = f"{GRAPH}_{side}_seconds_bucket"
    rate = f"rate({selector(name, [('client', '=~', regex_alternatives(clients))])}[{window_text(window_ns)}])"
    return f"histogram_quantile({q:g}, sum by (client, server, le) ({rate}))"


def _jobs(services: list[str]) -> Matcher:
    return ("job", "=~", f"(.+/)?({regex_alternatives(services)})")


def deployment_queries(services: list[str], present: set[str]) -> dict[str, str]:
    """Per deployment signal present, the query of its series for ``services`` (and their ``ns/name`` jobs)."""
    out = {}
    if "target_info" in present:
        out["target_info"] = f"max by (job, service_version) ({selector('target_info', [_jobs(services)])})"
    if any(n.endswith("_build_info") for n in present):
        build = selector("", [("__name__", "=~", ".+_build_info"), _jobs(services)])
        out["build_info"] = f"max by (job, version) ({build})"
    if "kube_deployment_metadata_generation" in present:
        gen = selector("kube_deployment_metadata_generation", [("deployment", "=~", regex_alternatives(services))])
        out["kube_deployment_metadata_generation"] = f"max by (deployment) ({gen})"
    return out


def downstream_errors_query(calls: str, services: list[str], window_ns: int) -> tuple[str, str]:
    """Errors/s recorded by any span of ``services``, per service, from a span-metrics call counter; and the
    label that names the service."""
    label = "service" if calls.startswith("traces_spanmetrics") else "service_name"
    matchers = [(label, "=~", regex_alternatives(services)), ("status_code", "=", "STATUS_CODE_ERROR")]
    return f"sum by ({label}) (rate({selector(calls, matchers)}[{window_text(window_ns)}]))", label
