"""Prometheus rules for SLOs (pure): SLI error-ratio recordings per window, SLO metadata, and the multiwindow
multi-burn-rate alerts, named and labelled as Sloth's are so existing dashboards and routes keep working.

Per SLO three groups: ``<id>-sli-recordings`` (``slo:sli_error:ratio_rate<window>`` for every window of
``burn.WINDOWS`` and for the period), ``<id>-meta-recordings`` (``slo:objective:ratio``, ``slo:error_budget:ratio``,
``slo:time_period:days``, ``slo:current_burn_rate:ratio``, ``slo:period_burn_rate:ratio``,
``slo:period_error_budget_remaining:ratio``, ``tracectl_slo_info``) and ``<id>-alerts`` (the page and the ticket
alert, both named ``alerting.name``, told apart by ``sloth_severity``). Model-quality SLOs get a comment only:
tracectl computes them, Prometheus cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracectl.slo import burn
from tracectl.slo.spec import SLO, ModelQualitySLI, Severity

SLI_METRIC = "slo:sli_error:ratio_rate{window}"


def period_window(seconds: int) -> str:
    """A period as a PromQL duration: ``30d``, ``28d``, ``12h``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def number(value: float) -> str:
    """A float as PromQL reads it, without binary noise (0.001, not 0.0010000000000000009)."""
    return format(value, ".10g")


def identity(slo: SLO) -> dict[str, str]:
    """The labels every rule of ``slo`` carries: the spec's, then Sloth's identifying ones (which win)."""
    return {**slo.labels, "sloth_id": slo.id, "sloth_service": slo.service, "sloth_slo": slo.name}


def selector(slo: SLO) -> str:
    return f'{{sloth_id="{slo.id}", sloth_service="{slo.service}", sloth_slo="{slo.name}"}}'


def sli_metric(window: str) -> str:
    return SLI_METRIC.format(window=window)


def sli_recordings(slo: SLO) -> list[dict[str, Any]]:
    rules = []
    for window in (*burn.WINDOWS, period_window(slo.period_seconds)):
        expr = slo.error_ratio_query(window)
        assert expr is not None  # noqa: S101 - model-quality SLOs never get here
        rules.append({"record": sli_metric(window), "expr": expr, "labels": {**identity(slo), "sloth_window": window}})
    return rules


def meta_recordings(slo: SLO) -> list[dict[str, Any]]:
    ident, sel = identity(slo), selector(slo)
    period = period_window(slo.period_seconds)
    join = "on (sloth_id, sloth_slo, sloth_service) group_left"
    return [
        {"record": "slo:objective:ratio", "expr": f"vector({number(slo.objective)})", "labels": ident},
        {"record": "slo:error_budget:ratio", "expr": f"vector(1 - {number(slo.objective)})", "labels": ident},
        {"record": "slo:time_period:days", "expr": f"vector({number(slo.period_seconds / 86400)})", "labels": ident},
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"{sli_metric('5m')}{sel}\n/ {join}\nslo:error_budget:ratio{sel}",
            "labels": ident,
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"{sli_metric(period)}{sel}\n/ {join}\nslo:error_budget:ratio{sel}",
            "labels": ident,
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{sel}",
            "labels": ident,
        },
        {
            "record": "tracectl_slo_info",
            "expr": "vector(1)",
            "labels": {**ident, "sloth_objective": number(slo.objective_percent), "tracectl_spec": slo.format.value},
        },
    ]


def alert_expr(slo: SLO, severity: Severity) -> str:
    """``(short > factor·budget and long > factor·budget) or …`` over the recorded error ratios."""
    sel = selector(slo)
    budget = number(slo.error_budget)
    parts = []
    for window in burn.ALERT_WINDOWS:
        if window.severity is not severity:
            continue
        limit = f"({number(window.factor(slo.period_seconds))} * {budget})"
        short = f"max(({sli_metric(window.short)}{sel} > {limit})) without (sloth_window)"
        long = f"max(({sli_metric(window.long)}{sel} > {limit})) without (sloth_window)"
        parts.append(f"(\n  {short}\n  and\n  {long}\n)")
    return "\nor\n".join(parts)


def alert_rules(slo: SLO) -> list[dict[str, Any]]:
    rules = []
    for severity in (Severity.PAGE, Severity.TICKET):
        spec = slo.alerting.for_severity(severity)
        if spec.disabled:
            continue
        pairs = [w for w in burn.ALERT_WINDOWS if w.severity is severity]
        burns = " or ".join(f"{number(w.factor(slo.period_seconds))}× over {w.long} and {w.short}" for w in pairs)
        annotations = {
            "title": f"({severity.value}) {slo.service} {slo.name} SLO error budget burns too fast",
            "summary": f"{slo.service}/{slo.name} burns its {number(slo.objective_percent)}% SLO's error budget "
            f"at more than {burns} (period {period_window(slo.period_seconds)}).",
            **slo.alerting.annotations,
            **spec.annotations,
        }
        labels = {**slo.alerting.labels, **spec.labels, "sloth_severity": severity.value}
        expr = alert_expr(slo, severity)
        rules.append({"alert": slo.alerting.name, "expr": expr, "labels": labels, "annotations": annotations})
    return rules


def rule_groups(slos: Sequence[SLO]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for slo in slos:
        if isinstance(slo.sli, ModelQualitySLI):
            continue
        groups.append({"name": f"sloth-slo-sli-recordings-{slo.id}", "rules": sli_recordings(slo)})
        groups.append({"name": f"sloth-slo-meta-recordings-{slo.id}", "rules": meta_recordings(slo)})
        alerts = alert_rules(slo)
        if alerts:
            groups.append({"name": f"sloth-slo-alerts-{slo.id}", "rules": alerts})
    return groups


def header(slos: Sequence[SLO], sources: Sequence[str]) -> list[str]:
    lines = [
        f"Generated by `tracectl slo rules` from {', '.join(sources)}: edit the spec, not this file.",
        "Multiwindow multi-burn-rate alerts (page: 2% of the budget in 1h, 5% in 6h; ticket: 10% in 1d and in 3d),",
        "factors computed from each SLO's period. See docs/slo.md.",
    ]
    for slo in slos:
        sli = slo.sli
        if isinstance(sli, ModelQualitySLI):
            lines += [
                "",
                f"SLO {slo.service}/{slo.name} is a model-quality SLI: {sli.metric.value} of {sli.service}'s",
                f"{sli.prediction_attribute} against the labelled sample {sli.labels_file}.",
                "tracectl computes it from the spans, not Prometheus: there are no rules for it here. Run it on a",
                "schedule and let the exit code alert, e.g. a cron job:",
                f"  tracectl slo status {slo.source or 'SPEC'} --fail-on burning   # exit 6 when it breaches",
            ]
    return lines


def to_yaml(slos: Sequence[SLO], sources: Sequence[str]) -> str:
    """The rule file as text: the header as comments, then the groups (multi-line expressions as blocks)."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header(slos, sources))
    body = yaml.dump({"groups": rule_groups(slos)}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    return comments + body
