// tracectl's benchmark driver for Jaeger UI's critical path (issue 24). Ours: only the glue lives here.
//
//   node cp.js FILE.otlp.json [--sections] [--timings]
//
// Reads an OTLP JSON file, turns each trace into the document Jaeger's query service returns from
// GET /api/traces/{id} (spans with references, startTime and duration in microseconds, tags, processes),
// then does what Jaeger UI does with that response (hooks/useTraceLoading.ts, TracePage/index.tsx):
// transformTraceData(response.data[0]).asOtelTrace(), then the critical path of that trace. Jaeger UI's
// modules are imported unmodified from a checkout made by benchmarks/peers/setup.sh (alias @jaeger-ui).
//
// Prints one summary line (traces, spans, sections, summed section length in µs); --sections adds one JSON
// line per trace with its sections as Jaeger UI returns them (latest first); --timings puts the time of
// each phase on stderr.

import { readFileSync } from 'node:fs';

import './globals';
import transformTraceData from '@jaeger-ui/model/transform-trace-data';
import memoizedTraceCriticalPath from '@jaeger-ui/components/TracePage/CriticalPath/index';

type AnyValue = { [k: string]: any };
type KeyValue = { key: string; value: AnyValue };
type Tag = { key: string; type: string; value: unknown };

const KINDS: Record<string, string> = {
  '1': 'internal', '2': 'server', '3': 'client', '4': 'producer', '5': 'consumer',
  SPAN_KIND_INTERNAL: 'internal', SPAN_KIND_SERVER: 'server', SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer', SPAN_KIND_CONSUMER: 'consumer',
};
const STATUS: Record<string, string> = { '1': 'OK', '2': 'ERROR', STATUS_CODE_OK: 'OK', STATUS_CODE_ERROR: 'ERROR' };

// OTLP/JSON IDs are hex; some exporters write the protobuf JSON mapping's base64 instead.
function hexId(id: string | undefined): string {
  if (!id) return '';
  if (/^[0-9a-fA-F]+$/.test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

// A tag as Jaeger's OTLP translator writes it: scalars keep their type, arrays and maps become JSON text.
function tag(kv: KeyValue): Tag {
  const v = kv.value || {};
  if ('stringValue' in v) return { key: kv.key, type: 'string', value: v.stringValue };
  if ('boolValue' in v) return { key: kv.key, type: 'bool', value: v.boolValue };
  if ('intValue' in v) return { key: kv.key, type: 'int64', value: Number(v.intValue) };
  if ('doubleValue' in v) return { key: kv.key, type: 'float64', value: Number(v.doubleValue) };
  if ('bytesValue' in v) return { key: kv.key, type: 'binary', value: v.bytesValue };
  return { key: kv.key, type: 'string', value: JSON.stringify(v.arrayValue ?? v.kvlistValue ?? v) };
}

const micros = (nanos: string | number): bigint => BigInt(nanos) / 1000n;

type JaegerTrace = { traceID: string; spans: any[]; processes: Record<string, any>; warnings: null };

// OTLP JSON → the traces of a Jaeger /api/traces response, in order of first appearance.
function toJaeger(doc: any): JaegerTrace[] {
  const traces = new Map<string, JaegerTrace>();
  for (const rs of doc.resourceSpans || []) {
    const attrs: KeyValue[] = rs.resource?.attributes || [];
    const service = attrs.find(a => a.key === 'service.name')?.value?.stringValue ?? 'OTLPResourceNoServiceName';
    const proc = { serviceName: service, tags: attrs.filter(a => a.key !== 'service.name').map(tag) };
    const processKey = JSON.stringify(proc);
    for (const ss of rs.scopeSpans || rs.instrumentationLibrarySpans || []) {
      const scope = ss.scope || ss.instrumentationLibrary || {};
      const scopeTags: Tag[] = [];
      if (scope.name) scopeTags.push({ key: 'otel.scope.name', type: 'string', value: scope.name });
      if (scope.version) scopeTags.push({ key: 'otel.scope.version', type: 'string', value: scope.version });
      for (const s of ss.spans || []) {
        const traceID = hexId(s.traceId);
        let trace = traces.get(traceID);
        if (!trace) {
          trace = { traceID, spans: [], processes: {}, warnings: null };
          traces.set(traceID, trace);
        }
        // One process per distinct resource, as the query service deduplicates them.
        let processID = (trace as any)._pids?.get(processKey);
        if (!processID) {
          const pids: Map<string, string> = ((trace as any)._pids ??= new Map());
          processID = `p${pids.size + 1}`;
          pids.set(processKey, processID);
          trace.processes[processID] = proc;
        }
        const references: any[] = [];
        if (s.parentSpanId) references.push({ refType: 'CHILD_OF', traceID, spanID: hexId(s.parentSpanId) });
        for (const link of s.links || []) {
          references.push({ refType: 'FOLLOWS_FROM', traceID: hexId(link.traceId), spanID: hexId(link.spanId) });
        }
        const tags: Tag[] = (s.attributes || []).map(tag);
        const kind = KINDS[String(s.kind ?? '')];
        if (kind) tags.push({ key: 'span.kind', type: 'string', value: kind });
        const status = STATUS[String(s.status?.code ?? '')];
        if (status) tags.push({ key: 'otel.status_code', type: 'string', value: status });
        if (status === 'ERROR') tags.push({ key: 'error', type: 'bool', value: true });
        if (s.status?.message) tags.push({ key: 'otel.status_description', type: 'string', value: s.status.message });
        tags.push(...scopeTags);
        const start = micros(s.startTimeUnixNano);
        trace.spans.push({
          traceID,
          spanID: hexId(s.spanId),
          operationName: s.name,
          references,
          flags: s.flags ?? 1,
          startTime: Number(start),
          duration: Number((BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1000n),
          tags,
          logs: (s.events || []).map((e: any) => ({
            timestamp: Number(micros(e.timeUnixNano)),
            fields: [{ key: 'event', type: 'string', value: e.name }, ...(e.attributes || []).map(tag)],
          })),
          processID,
          warnings: null,
        });
      }
    }
  }
  for (const t of traces.values()) delete (t as any)._pids;
  return [...traces.values()];
}

function main(argv: string[]): number {
  const file = argv.find(a => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: node cp.js FILE.otlp.json [--sections] [--timings]\n');
    return 2;
  }
  const phases = new Map<string, bigint>();
  let last = process.hrtime.bigint();
  const mark = (name: string) => {
    const now = process.hrtime.bigint();
    phases.set(name, (phases.get(name) ?? 0n) + now - last);
    last = now;
  };

  const doc = JSON.parse(readFileSync(file, 'utf8'));
  mark('read + JSON.parse');
  const response = { data: toJaeger(doc) };
  mark('OTLP → Jaeger API document (ours)');
  let spans = 0;
  let sections = 0;
  let lengthUs = 0;
  let failed = false;
  const perTrace: string[] = [];
  for (const data of response.data) {
    spans += data.spans.length;
    const trace = transformTraceData(data as any);
    mark('transformTraceData');
    if (!trace) continue;
    const otel = trace.asOtelTrace();
    mark('asOtelTrace');
    const cp = memoizedTraceCriticalPath(otel);
    mark('critical path');
    if (cp.failed) {
      failed = true;
      process.stderr.write(`${data.traceID}: ${cp.errors.join('; ')}\n`);
    }
    sections += cp.sections.length;
    for (const s of cp.sections) lengthUs += s.sectionEnd - s.sectionStart;
    if (argv.includes('--sections')) perTrace.push(JSON.stringify({ traceID: otel.traceID, sections: cp.sections }));
  }
  process.stdout.write(`traces ${response.data.length} spans ${spans} sections ${sections} path_us ${lengthUs}\n`);
  for (const line of perTrace) process.stdout.write(line + '\n');
  if (argv.includes('--timings')) {
    for (const [name, ns] of phases) process.stderr.write(`${name}: ${(Number(ns) / 1e6).toFixed(1)} ms\n`);
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
