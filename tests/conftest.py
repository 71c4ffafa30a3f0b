from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import respx

    from tracectl.backends.tempo import TempoClient

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _find_samples() -> Path:
    """``../shared/samples`` beside this checkout, else beside the repository it was cloned from (a fresh clone in
    another folder, as CI makes one), else where ``TRACECTL_SAMPLES`` points."""
    candidates = [ROOT.parent / "shared" / "samples"]
    if os.environ.get("TRACECTL_SAMPLES"):
        candidates.insert(0, Path(os.environ["TRACECTL_SAMPLES"]))
    origin = _origin_path()
    if origin is not None:
        candidates.append(origin.parent / "shared" / "samples")
    return next((c for c in candidates if c.is_dir()), candidates[-1])


def _origin_path() -> Path | None:
    import subprocess

    try:
        url = subprocess.run(
            ["git", "-C", str(ROOT), "remote", "get-url", "origin"],
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not url or ("://" in url and not url.startswith("file://")):
        return None
    path = Path(url.removeprefix("file://"))
    return path if path.is_absolute() else (ROOT / path).resolve()


SAMPLES = _find_samples()
SHARED = SAMPLES.parent

# Under CI every real dependency must be there (.ci/run installs them): a missing one fails the test that needs
# it instead of skipping it. Any truthy CI counts (GitHub sets "true", others "1" or "yes").
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def require(present: bool, what: str, how: str) -> None:
    """The one guard for a real dependency (Prometheus, promtool, Chromium, the SDK, the samples, the labelled
    cases): missing, the test is skipped here, and fails under CI."""
    if present:
        return
    if IN_CI:
        pytest.fail(f"CI is set but {what} is missing ({how})")
    pytest.skip(f"{what} is not available here ({how})")


needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir() and not IN_CI, reason="../shared/samples is not present on this machine"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and not SAMPLES.is_dir():
        raise pytest.UsageError(
            f"CI=true but the real samples are missing (looked for {SAMPLES}); set TRACECTL_SAMPLES"
        )


# Test tiers (issue 27). The markers are registered in pyproject.toml and given here, by file and, where a file
# mixes tiers, by test, so test files carry none and a new test lands in its file's tier. The edit loop runs
# `python -m pytest -m "not e2e and not real"`; CI runs everything (the README's command). docs/architecture.md.
#   e2e   over real loopback sockets or a subprocess: the sandbox's servers, hostile servers, tracectl as a user runs it
#   real  a real outside program, SDK or data set: Prometheus, promtool, headless Chromium, the OpenTelemetry SDK,
#         the labelled fault cases in ../shared/rca-dev
#   slow  seconds of CPU even on a quiet machine (property tests over many examples, 13,200-line Loki ties)
# A file not listed is fast: pure functions, fixtures, respx fakes, typer's CliRunner on files. That is checked: a
# test of neither e2e nor real that binds or connects a TCP/UDP socket or starts a subprocess fails
# (stays_in_process, below), and -m skips importing a file it deselects whole (pytest_ignore_collect).
TIERS_BY_FILE: dict[str, tuple[str, ...]] = {
    "test_drift_cli.py": ("e2e",),  # the sandbox over loopback
    "test_example_house_prices.py": ("e2e", "real", "slow"),  # uvicorn + the OpenTelemetry SDK + the sandbox
    "test_faults.py": ("e2e",),  # hostile servers on 127.0.0.1
    "test_loopback.py": ("e2e",),  # tracectl in a subprocess against a server on 127.0.0.1
    "test_metrics_prometheus.py": ("e2e", "real", "slow"),  # a real Prometheus holding the sandbox's metrics
    "test_narrow.py": ("e2e",),
    "test_pushdown.py": ("e2e",),
    "test_rca_dev.py": ("real", "slow"),  # the labelled fault cases in ../shared/rca-dev
    "test_report_postmortem.py": ("e2e",),
    "test_sandbox.py": ("e2e",),
    "test_sandbox_ingest.py": ("e2e",),
    "test_sandbox_otlp_series.py": ("e2e",),
    "test_sandbox_signals.py": ("e2e", "real"),  # `sandbox serve` with a real Prometheus, in a subprocess
    "test_sandbox_tempo.py": ("e2e",),
    "test_show_fold.py": ("e2e",),
    "test_slo_cli.py": ("e2e",),
    "test_slo_sandbox.py": ("e2e", "real", "slow"),  # a real Prometheus evaluating the sandbox's SLO rules
    "test_slo_status.py": ("e2e", "real"),  # a real Prometheus (tests/prom_history.py)
    "test_tls_no_retry.py": ("e2e",),  # a TLS server on 127.0.0.1
    "test_triage.py": ("e2e",),
    "test_triage_metrics.py": ("e2e", "slow"),
    "test_cli_end_to_end.py": ("e2e",),  # the CLI end to end against the sandbox, every command in every format
}
# file::test (parameters left out) → the tiers of a test whose file is mostly of another tier.
TIERS_BY_TEST: dict[str, tuple[str, ...]] = {
    "test_atomic_write.py::test_a_signal_while_reading_ends_the_command_like_ctrl_c": ("e2e",),  # a subprocess
    "test_atomic_write.py::test_sigterm_during_a_large_export_leaves_the_earlier_file_or_the_whole_new_one": ("e2e",),
    "test_attribution.py::test_property_attribution_sums_to_the_path_length": ("slow",),
    "test_check_cli.py::test_check_over_a_backend_search": ("e2e",),
    "test_check_cli.py::test_a_traceparent_fetches_its_trace_and_says_when_its_span_is_missing": ("e2e",),
    "test_cli.py::test_help_does_not_import_heavy_modules": ("e2e",),  # a fresh interpreter
    "test_cli.py::test_a_command_in_a_pipe_imports_neither_pydantic_nor_rich": ("e2e",),  # a fresh interpreter
    "test_cli.py::test_python_dash_m_entry_point": ("e2e",),
    "test_critical_path.py::test_property_sections_tile_each_root_exactly": ("slow",),
    "test_drift_cli.py::test_reports_markdown_and_html_in_headless_chromium": ("real",),
    "test_explain.py::test_property_no_finding_costs_or_saves_more_than_the_critical_path": ("slow",),
    "test_explain_cli.py::test_html_report_renders_in_headless_chromium_offline": ("real",),
    "test_fuzz_inputs.py::test_broken_files_exit_0_or_2_never_1": ("slow",),
    "test_loki_filters.py::test_13200_lines_at_one_timestamp_all_with_a_high_limit_5000_and_a_warning_at_the_default": (
        "slow",
    ),
    "test_loki_filters.py::test_against_the_sandbox_over_loopback_filters_limits_and_triage_warnings": ("e2e",),
    "test_loki_limits.py::test_13200_lines_at_one_nanosecond_all_with_a_high_limit_5000_and_a_cut_at_the_default": (
        "slow",
    ),
    "test_loki_paging.py::test_any_layout_reads_each_line_once_in_order": ("slow",),
    "test_metrics_traceql.py::test_with_only_a_tempo_metrics_prints_red_from_traceql_metrics": ("e2e",),
    "test_model_quality.py::test_precision_slo_breaches_on_the_bad_model_version_only": ("e2e",),
    "test_model_quality.py::test_a_request_id_attribute_joins_and_week_long_windows_are_searched_a_week_at_a_time": (
        "e2e",
    ),
    "test_model_quality.py::test_sandbox_serve_writes_the_labelled_sample": ("e2e",),  # its servers on 127.0.0.1
    "test_prometheus_client.py::test_discovery_finds_each_family_and_says_which": ("e2e",),
    "test_pushdown_tempo3.py::test_the_sandbox_trims_metrics_ends_as_tempo_3_does": ("e2e",),
    "test_pushdown_tempo3.py::test_late_onset_triage_counts_every_request_and_names_the_culprit": ("e2e",),
    "test_rca_rules.py::test_property_an_unmistakable_small_change_outranks_a_slight_change_on_a_large_base": ("slow",),
    "test_report_postmortem.py::test_html_report_in_headless_chromium_is_a_postmortem_document": ("real",),
    "test_sandbox.py::test_a_real_opentelemetry_sdk_sends_to_the_sandbox_and_tracectl_finds_the_slow_step": ("real",),
    "test_sandbox_ingest.py::test_the_sdk_logging_handler_lands_in_loki_with_trace_context_as_structured_metadata": (
        "real",
    ),
    "test_sandbox_ingest.py::test_sdk_metrics_keep_exponential_and_explicit_histograms_whole": ("real",),
    "test_search_slowest.py::test_sandbox_search_is_the_windows_longest": ("e2e",),
    "test_show_span.py::test_the_culprits_call_with_its_path_share_and_a_span_with_its_logs": ("e2e",),
    "test_slo_rules.py::test_example_rules_pass_promtool_check": ("real",),
    "test_slo_rules.py::test_page_fires_when_the_1h_window_crosses_14_4": ("real",),
    "test_slo_rules.py::test_no_page_just_under_the_6x_threshold": ("real",),
    "test_slo_rules.py::test_page_just_over_the_6x_threshold": ("real",),
    "test_slo_rules.py::test_grafana_dashboard_is_importable_and_its_queries_parse": ("real",),
    "test_tree.py::test_property_tree_invariants": ("slow",),
    "test_tree.py::test_deep_chain_and_wide_fanout_need_no_recursion": ("slow",),
    "test_triage.py::test_html_report_renders_in_headless_chromium_offline": ("real",),
    "test_triage_alert.py::test_the_alert_names_the_culprit_triage_names_by_hand": ("e2e",),
    "test_triage_alert.py::test_the_alerts_windows_typed_by_hand_give_the_same_sets": ("e2e",),
    "test_triage_alert.py::test_reports_name_the_alert_and_its_windows": ("e2e",),
    "test_triage_alert.py::test_each_burning_slo_is_triaged_from_when_its_alert_began": ("e2e",),
    "test_triage_alert.py::test_the_slo_the_alert_names_sets_the_latency_threshold": ("e2e",),
    "test_triage_alert.py::test_the_documented_receiver_turns_a_webhook_into_a_report": ("e2e",),  # a subprocess
    "test_cli_end_to_end.py::test_every_command_writes_every_format_it_accepts_and_refuses_the_rest": ("slow",),
}
# A test that takes one of these fixtures is of its tier wherever it stands.
TIERS_BY_FIXTURE: dict[str, tuple[str, ...]] = {
    "prometheus_history": ("e2e", "real"),  # a real Prometheus over the sandbox's scenarios
}


def tiers_of(nodeid: str, fixturenames: Iterable[str] = ()) -> set[str]:
    """The tier markers of the test ``nodeid`` (``tests/test_x.py::test_y[param]``)."""
    path, _, name = nodeid.partition("::")
    file = path.rsplit("/", 1)[-1]
    tiers = set(TIERS_BY_FILE.get(file, ()))
    tiers.update(TIERS_BY_TEST.get(f"{file}::{name.split('[', 1)[0]}", ()))
    for fixture in fixturenames:
        tiers.update(TIERS_BY_FIXTURE.get(fixture, ()))
    return tiers


TIERS = ("e2e", "real", "slow")
_TIER_EXPRESSION = re.compile(r"[\s()]*(?:(?:e2e|real|slow|and|or|not)\b[\s()]*)+")


def deselects_whole_file(markexpr: str, file: str) -> bool:
    """Whether ``-m markexpr`` deselects every test ``file`` can hold, whatever tiers its tests add to the file's:
    only for an expression over the tier markers alone (``and``, ``or``, ``not``, parentheses)."""
    tiers = set(TIERS_BY_FILE.get(file, ()))
    if not tiers or not _TIER_EXPRESSION.fullmatch(markexpr):
        return False
    code = compile(markexpr, "-m", "eval")  # only tier names, keywords and parentheses: a Python expression
    extra = [t for t in TIERS if t not in tiers]
    for mask in range(1 << len(extra)):  # the file's tiers plus any of the others its tests may add
        held = tiers | {t for i, t in enumerate(extra) if mask >> i & 1}
        if eval(code, {"__builtins__": {}}, {t: t in held for t in TIERS}):  # noqa: S307
            return False
    return True


def leaves_out_e2e_and_real(markexpr: str) -> bool:
    """Whether ``-m markexpr`` runs no ``e2e`` and no ``real`` test, whatever other tiers a test has: the fast tier
    (``not e2e and not real``, with or without ``and not slow``). Only for an expression over the tier markers."""
    if not markexpr or not _TIER_EXPRESSION.fullmatch(markexpr):
        return False
    code = compile(markexpr, "-m", "eval")
    for mask in range(1 << len(TIERS)):
        held = {t for i, t in enumerate(TIERS) if mask >> i & 1}
        if held & {"e2e", "real"} and eval(code, {"__builtins__": {}}, {t: t in held for t in TIERS}):  # noqa: S307
            return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    """The fast tier draws at most 50 examples a property test (``tests/strategies.py``'s
    ``examples``); the full suite draws the counts the tests write. Runs before any test module is imported; a run
    of other tiers does not import hypothesis here."""
    if leaves_out_e2e_and_real(config.getoption("markexpr", "") or ""):
        from tests import strategies

        strategies._fast_tier = True


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A file whose every test ``-m`` deselects is not imported at all: the fast tier would otherwise spend seconds
    rewriting and importing the sandbox's end-to-end files only to deselect them. ``python -m pytest`` (no ``-m``)
    collects everything, as before."""
    markexpr = config.getoption("markexpr", "") or ""
    if markexpr and collection_path.parent == ROOT / "tests" and deselects_whole_file(markexpr, collection_path.name):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for tier in sorted(tiers_of(item.nodeid, getattr(item, "fixturenames", ()))):
            item.add_marker(getattr(pytest.mark, tier))


def _build_each_cli_once() -> None:
    """typer's ``CliRunner.invoke`` turns the Typer app into its click command tree on every call: about 30 ms of
    the 40 ms a small command takes in a test, ~290 times in the fast tier. A ``tracectl`` process builds the tree
    once and runs it, and click commands are made to be run again (each run gets a fresh context), so each app's
    tree is built once here; an app that gained a command or group since is built again."""
    import typer.testing

    build = typer.main.get_command
    if getattr(typer.testing, "_get_command", None) is not build:  # typer's internals moved: build per call
        return
    built: dict[int, tuple[object, tuple[int, int], Any]] = {}

    def once(app: typer.Typer) -> Any:
        shape = (len(app.registered_commands), len(app.registered_groups))
        hit = built.get(id(app))
        if hit is None or hit[0] is not app or hit[1] != shape:
            hit = built[id(app)] = (app, shape, build(app))
        return hit[2]

    setattr(typer.testing, "_get_command", once)  # noqa: B010  (a private name: mypy need not know it)


def _share_the_default_tls_context() -> None:
    """httpx builds a TLS context for every client it makes, loading certifi's CA bundle each time (over 10 ms;
    ~320 clients in the fast tier, nearly all in front of respx or an http:// loopback URL). The default context
    (``verify=True``, no client certificate) comes out the same each time and is made to be shared by connections,
    so it is built once per CA setting of the environment; ``verify=False``, a CA file or a client certificate
    still gets a context of its own, built as before."""
    import httpx._transports.default as transport

    build = getattr(transport, "create_ssl_context", None)  # imported there from httpx._config
    if build is None:  # httpx's internals moved: build per client
        return
    shared: dict[tuple[str | None, str | None], Any] = {}

    def once(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return build(verify=verify, cert=cert, trust_env=trust_env)
        key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")) if trust_env else ("", "")
        if key not in shared:
            shared[key] = build(verify=True, cert=None, trust_env=trust_env)
        return shared[key]

    setattr(transport, "create_ssl_context", once)  # noqa: B010


_build_each_cli_once()
_share_the_default_tls_context()

_watching: list[list[str]] = []  # while a test of neither e2e nor real runs: what it did that only they may do


def _watch_sockets_and_subprocesses() -> None:
    """Record a TCP/UDP connect or bind and a subprocess started while a fast test runs (any thread); the test then
    fails, naming what it did (``stays_in_process``). Nothing is refused or changed: the test runs as written."""
    import socket
    import subprocess

    def network(name: str) -> Callable[..., Any]:
        original = getattr(socket.socket, name)

        def watched(self: socket.socket, address: Any) -> Any:
            if _watching and self.family in (socket.AF_INET, socket.AF_INET6):
                _watching[-1].append(f"{name} {address!r}")
            return original(self, address)

        return watched

    for name in ("connect", "connect_ex", "bind"):
        setattr(socket.socket, name, network(name))
    popen = subprocess.Popen.__init__

    def started(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        if _watching:
            _watching[-1].append(f"a subprocess {str(args)[:80]}")
        popen(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = started  # type: ignore[method-assign]


_watch_sockets_and_subprocesses()


@pytest.fixture(autouse=True)
def stays_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test outside the e2e and real tiers opens no TCP/UDP socket and starts no subprocess: one that does fails,
    saying to give it its tier in the tables above (so the fast tier cannot grow a slow, flaky or port-taking test
    unnoticed)."""
    if any(request.node.get_closest_marker(t) for t in ("e2e", "real")):
        yield
        return
    seen: list[str] = []
    _watching.append(seen)
    try:
        yield
    finally:
        _watching.remove(seen)
    if seen:
        pytest.fail(f"{seen[0]}: only an e2e or real test may do that; give it its tier in tests/conftest.py")


_OWN_PREFIXES = ("TRACECTL_", "TEMPO_", "JAEGER_", "LOKI_", "PROMETHEUS_")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test sees the developer's settings: tracectl's variables are cleared and the config home is empty."""
    for name in list(os.environ):
        if name.startswith(_OWN_PREFIXES) or name == "NO_COLOR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    yield


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


TEMPO_BASE = "http://tempo.test:3200"


@pytest.fixture
def tempo_router() -> Iterator[respx.MockRouter]:
    """respx in front of a Tempo at ``TEMPO_BASE``: every request must match a route."""
    import respx

    with respx.mock(base_url=TEMPO_BASE, assert_all_mocked=True) as mock:
        yield mock


def tempo_client() -> TempoClient:
    """A Tempo client for ``TEMPO_BASE`` that never retries or sleeps."""
    from tracectl.backends.http import HttpClient, HttpConfig
    from tracectl.backends.tempo import TempoClient

    return TempoClient(HttpClient(HttpConfig(TEMPO_BASE, "Tempo", retries=0), sleep=lambda _s: None))


def headless_dom(page: Path, tmp_path: Path, documented_in: str) -> str:
    """The DOM headless Chromium builds from ``page``, offline; skips the test where Chromium is not installed
    (fails it under CI)."""
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    require(browser is not None, "chromium", f".ci/run installs Debian's; the check is documented in {documented_in}")
    assert browser is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()]  # fmt: skip
    proc = subprocess.run([browser, *flags], capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr[-500:]
    return proc.stdout


@pytest.fixture(scope="session")
def prometheus_history() -> Iterator[object]:
    """A real Prometheus (Debian's 2.42) on 127.0.0.1 holding every sandbox scenario's metrics, each in its own
    window (tests/prom_history.py); skipped without the binaries, except under CI=true, where that fails."""
    from tests.prom_history import start_history

    server, history = start_history()
    try:
        yield history
    finally:
        server.stop()
