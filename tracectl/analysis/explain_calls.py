"""Patterns in how a span makes its calls: N+1 loops, retries, independent lookups made one after another, and
time nobody accounts for (a queue, a pool). Pure, iterative, one pass over each node's children.

- **N+1**: at least ``N_PLUS_ONE_MIN_CALLS`` calls to the same operation (service and span name, and the
  callee's when the call has a server span under it: a generic ``HTTP POST`` reaches many endpoints) under one
  parent, one after another — at most ``N_PLUS_ONE_MAX_OVERLAPPING`` of consecutive pairs overlap beyond the
  overlap tolerance — whose durations add up to at least ``N_PLUS_ONE_PARENT_SHARE`` of the parent's. A
  concurrent fan-out overlaps, and so does a group that mostly overlaps with a few stragglers: neither is an
  N+1. The saving: one batched (or parallel) call takes about as long as the longest of them.
- **Retry**: a call to an operation that failed (its span, or the callee's span under it) followed, after it
  ended, by another call to the same operation under the same parent. Calls that merely share a name, with no
  failure between them, are not retries. The cost: the failed attempts and the waits between attempts.
- **Serial lookups**: at least ``SERIAL_MIN_CALLS`` calls under one parent, back to back (the next starts within
  the touch tolerance of the previous one's end, without overlapping it), each on the critical path, to
  different operations, none failed, and each a lookup (an HTTP GET/HEAD, a database read, an RPC method named
  get/list/find/fetch/lookup/read/search/query/retrieve/describe). A trace cannot show that one call needs
  another's answer; a write, an unknown call or a failure may, so only lookups count as independent. The
  saving: overlapped, the run takes as long as its longest call.
- **Queueing gap**: a child (or the callee's server span of a call) that starts at least ``GAP_MIN_NS`` and
  ``GAP_MIN_SHARE`` of the parent's duration after the parent's previous step ended (or after it started),
  with that time on the critical path: a queue, a connection pool, a lock — or work no span records. For a
  call (a span with the callee's server span under it), its time outside the server span, before it started
  plus after it ended, against the same floor: the network, the callee's queue or a connection pool. Repeats of
  one gap (same operations, same place) are one finding.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict

from tracectl.analysis.attribution import edge_callee
from tracectl.analysis.findings import Facts, NPlusOne, QueueGap, Retry, SerialCalls
from tracectl.model import Span

N_PLUS_ONE_MIN_CALLS = 5
N_PLUS_ONE_MAX_OVERLAPPING = 0.1  # of consecutive pairs
N_PLUS_ONE_PARENT_SHARE = 0.5  # "most of the parent's time"
SERIAL_MIN_CALLS = 2
GAP_MIN_NS = 1_000_000
GAP_MIN_SHARE = 0.1

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READ_DB = frozenset({"SELECT", "GET", "MGET", "HGET", "HGETALL", "HMGET", "FIND", "FINDONE", "COUNT", "EXISTS",
                      "SCAN", "SMEMBERS", "LRANGE", "ZRANGE", "AGGREGATE"})  # fmt: skip
_READ_VERB = re.compile(r"(get|list|find|fetch|lookup|look_up|read|search|query|retrieve|describe)([A-Z_\-.\s]|$)",
                        re.IGNORECASE)  # fmt: skip


def _groups(f: Facts, parent: int) -> dict[tuple[str, ...], list[int]]:
    """The parent's eligible children by what they call, each list by start (children are sorted by start)."""
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for k in f.tree.children[parent]:
        if f.tree.on_path_eligible[k]:
            groups[f.call_key(k)].append(k)
    return groups


def _union(f: Facts, nodes: list[int]) -> int:
    total, cur_s, cur_e = 0, -1, -1
    for n in nodes:  # by start
        s, e = f.tree.start[n], f.tree.end[n]
        if s > cur_e:
            total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    return total + cur_e - cur_s


def n_plus_one(f: Facts) -> list[NPlusOne]:
    """Serial repeated calls under one parent (module docstring)."""
    out: list[NPlusOne] = []
    tree = f.tree
    for parent, kids in enumerate(tree.children):
        if len(kids) < N_PLUS_ONE_MIN_CALLS:
            continue
        for members in _groups(f, parent).values():
            if len(members) < N_PLUS_ONE_MIN_CALLS or not f.is_call(members[0]):
                continue
            overlapping, reach = 0, tree.end[members[0]]
            for prev, m in itertools.pairwise(members):
                if tree.start[m] < reach - f.overlap(prev, m):
                    overlapping += 1
                reach = max(reach, tree.end[m])
            total = sum(f.duration(m) for m in members)
            if overlapping > N_PLUS_ONE_MAX_OVERLAPPING * (len(members) - 1):
                continue
            if total < N_PLUS_ONE_PARENT_SHARE * f.duration(parent) or total == 0:
                continue
            wall, longest = _union(f, members), max(f.duration(m) for m in members)
            held = [f.cp_sub[m] for m in members]
            saving = max(0, min(wall - longest, sum(held) - max(held)))
            out.append(NPlusOne(saving, parent, tuple(members), wall, total, longest, overlapping,
                                f.duration(parent), saving))  # fmt: skip
    return out


def retry_runs(f: Facts) -> list[tuple[int, list[int]]]:
    """(parent, attempts): consecutive calls to one operation, each after the previous one failed and ended."""
    runs: list[tuple[int, list[int]]] = []
    tree = f.tree
    for parent, kids in enumerate(tree.children):
        if len(kids) < 2:
            continue
        for members in _groups(f, parent).values():
            run: list[int] = []
            for m in members:
                prev = run[-1] if run else -1
                if prev >= 0 and f.attempt_failed(prev) and tree.start[m] >= tree.end[prev] - f.overlap(prev, m):
                    run.append(m)
                    continue
                if len(run) > 1:
                    runs.append((parent, run))
                run = [m]
            if len(run) > 1:
                runs.append((parent, run))
    return runs


def retries(f: Facts, runs: list[tuple[int, list[int]]] | None = None) -> list[Retry]:
    out = []
    for parent, attempts in retry_runs(f) if runs is None else runs:
        succeeded = not f.attempt_failed(attempts[-1])
        failed = attempts[:-1] if succeeded else attempts
        wasted = sum(f.cp_sub[a] for a in failed)
        for prev, nxt in itertools.pairwise(attempts):  # the waits between attempts (backoff)
            wasted += f.on_path_within(parent, f.tree.end[prev], f.tree.start[nxt])
        out.append(Retry(wasted, parent, tuple(attempts), succeeded, wasted))
    return out


def recovered(f: Facts, runs: list[tuple[int, list[int]]] | None = None) -> set[int]:
    """Failed attempts that a later attempt of the same call made good."""
    out: set[int] = set()
    for _parent, attempts in retry_runs(f) if runs is None else runs:
        if not f.attempt_failed(attempts[-1]):
            out.update(attempts[:-1])
    return out


# ------------------------------------------------------------------------------------------ serial lookups


def is_lookup(span: Span) -> bool:
    """The call reads (an HTTP GET/HEAD, a database read, an RPC named like a read); unknown calls do not."""
    attrs = span.attributes
    method = attrs.get("http.request.method", attrs.get("http.method"))
    words = span.name.split()
    if not isinstance(method, str) and words and words[-1].upper() in _READ_METHODS | _WRITE_METHODS:
        method = words[-1]  # "HTTP GET"
    if not isinstance(method, str) and words and words[0].upper() in _READ_METHODS | _WRITE_METHODS:
        method = words[0]  # "GET /api/users"
    if isinstance(method, str):
        return method.upper() in _READ_METHODS
    if "db.system" in attrs or "db.system.name" in attrs:
        op = attrs.get("db.operation.name", attrs.get("db.operation"))
        text = attrs.get("db.query.text", attrs.get("db.statement"))
        first = op if isinstance(op, str) else text.split()[0] if isinstance(text, str) and text.split() else None
        return (first or (words[0] if words else "")).upper() in _READ_DB
    rpc = attrs.get("rpc.method")
    name = rpc if isinstance(rpc, str) else re.split(r"[/.]", span.name)[-1]
    return bool(_READ_VERB.match(name))


def serial_calls(f: Facts) -> list[SerialCalls]:
    """Back-to-back independent lookups on the critical path (module docstring)."""
    out: list[SerialCalls] = []
    tree = f.tree
    for parent, kids in enumerate(tree.children):
        if len(kids) < SERIAL_MIN_CALLS or f.cp_sub[parent] == 0:
            continue
        run: list[int] = []
        for k in kids:
            if not tree.on_path_eligible[k]:  # async: neither part of the run nor a break in it
                continue
            fits = f.cp_sub[k] > 0 and f.is_call(k) and not f.attempt_failed(k)
            fits = fits and is_lookup(tree.spans[k])
            if fits and run and _follows(f, run[-1], k):
                run.append(k)
                continue
            _close_run(f, parent, run, out)
            run = [k] if fits else []
        _close_run(f, parent, run, out)
    return out


def _follows(f: Facts, prev: int, nxt: int) -> bool:
    """``nxt`` starts right after ``prev`` ended (not overlapping it), and is a different operation."""
    gap = f.tree.start[nxt] - f.tree.end[prev]
    return -f.overlap(prev, nxt) <= gap <= f.touch(prev, nxt) and f.call_key(prev) != f.call_key(nxt)


def _close_run(f: Facts, parent: int, run: list[int], out: list[SerialCalls]) -> None:
    if len(run) < SERIAL_MIN_CALLS:
        return
    held = [f.cp_sub[k] for k in run]
    saving = sum(held) - max(held)
    if saving > 0:
        total = sum(f.duration(k) for k in run)
        out.append(SerialCalls(saving, parent, tuple(run), total, max(f.duration(k) for k in run), saving))


# --------------------------------------------------------------------------------------------- gaps


_Gap = tuple[int, int, int, int, int, int, int]  # cost, gap, parent, child, before, after, start


def queue_gaps(f: Facts) -> list[QueueGap]:
    """Time on the critical path no span covers around a child (module docstring); repeats of one gap (same parent
    and child operations, same place) are one finding, the largest instance first."""
    found: dict[tuple[object, ...], list[_Gap]] = defaultdict(list)
    tree = f.tree
    for parent, kids in enumerate(tree.children):
        if not kids or f.cp_sub[parent] == 0:
            continue
        floor = max(GAP_MIN_NS, round(GAP_MIN_SHARE * f.duration(parent)))
        callee = edge_callee(tree, parent)
        begin, finish = tree.start[parent], tree.end[parent]
        previous = begin
        for k in kids:
            if not tree.on_path_eligible[k]:
                continue
            start = min(tree.start[k], finish)
            if k != callee and start - previous >= floor:
                cost = f.on_path_within(parent, previous, start)
                _keep(found, ("before-child", f.op(parent), f.op(k)), (cost, start - previous, parent, k,
                                                                       start - previous, 0, previous))  # fmt: skip
            previous = max(previous, tree.end[k])
        if callee >= 0:  # a call: its time outside the callee's server span, both ways
            before = max(0, min(tree.start[callee], finish) - begin)
            after = max(0, finish - max(tree.end[callee], begin))
            if before + after >= floor:
                cost = f.on_path_within(parent, begin, begin + before)
                cost += f.on_path_within(parent, finish - after, finish)
                _keep(found, ("call", f.op(parent), f.op(callee)), (cost, before + after, parent, callee, before,
                                                                    after, begin))  # fmt: skip
    out = []
    for key, gaps in found.items():
        gaps.sort(key=lambda g: (-g[1], g[6]))
        _cost, _gap, parent, child, before, after, start = gaps[0]
        instances = tuple((g[2], g[3], g[1]) for g in gaps)
        out.append(QueueGap(sum(g[0] for g in gaps), parent, child, str(key[0]), before, after, start, instances))
    return out


def _keep(found: dict[tuple[object, ...], list[_Gap]], key: tuple[object, ...], gap: _Gap) -> None:
    if gap[0] > 0:  # some of it on the critical path
        found[key].append(gap)
