'use strict';
// The OpenTelemetry exporter from Node on the real OpenTelemetry Collector
// (tests/servers/otelcol.py), read back from the collector's OTLP JSON file:
// spans and attributes, the resource, and parents from a traceparent and
// from the active span of the OpenTelemetry SDK (@opentelemetry/sdk-trace-node).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const util = require('node:util');
const { trace, context } = require('@opentelemetry/api');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const vexil = require('../../node/lib/index.js');
const { startServer, waitFor } = require('./helpers.js');

const FLAGS = {
  color: {
    variations: { red: '#ff0000', blue: '#0000ff' },
    targeting: [{ name: 'vip', query: 'plan eq "vip"', variation: 'blue' }],
    defaultRule: { variation: 'red' },
    version: '7',
  },
};
const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const provider = new NodeTracerProvider();
provider.register(); // the AsyncLocalStorage context manager, as an application sets up
const tracer = trace.getTracer('app');

function value(v) {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return undefined;
}
const attrs = (list = []) => Object.fromEntries(list.map((kv) => [kv.key, value(kv.value)]));

/** { resource, scope, span } of everything the collector wrote. */
function spansOf(file) {
  if (!fs.existsSync(file)) return [];
  const out = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let data;
    try {
      data = JSON.parse(line);
    } catch {
      continue; // a line still being written
    }
    for (const rs of data.resourceSpans) {
      const resource = attrs(rs.resource.attributes);
      for (const ss of rs.scopeSpans) for (const span of ss.spans) out.push({ resource, scope: ss.scope.name, span });
    }
  }
  return out;
}

async function waitSpans(file, n) {
  await waitFor(() => spansOf(file).length >= n, 20000);
  return spansOf(file);
}

const byUser = (spans) => Object.fromEntries(spans.map((s) => [attrs(s.span.attributes)['feature_flag.user_key'], s]));

test('spans with GOFF\'s and the semantic conventions\' attributes, and the resource', async (t) => {
  const srv = await startServer(t, 'otelcol');
  const e = new vexil.Engine(FLAGS, { logger: false });
  e.addExporter(vexil.OpenTelemetryExporter({
    endpoint: srv.endpoint, serviceName: 'node-svc', resourceAttributes: { region: 'eu', shard: 2 },
  }));
  assert.equal(e.stringValue('color', '', { targetingKey: 'vip-user', plan: 'vip' }), '#0000ff');
  e.boolValue('color', false, { targetingKey: 'mismatch' });
  assert.equal(await e.flush(10000), true);
  await e.close();
  const spans = byUser(await waitSpans(srv.spans_json_file, 2));
  const { resource, scope, span } = spans['vip-user'];
  assert.deepEqual(resource, { 'service.name': 'node-svc', region: 'eu', shard: 2 });
  assert.equal(scope, 'go-feature-flag');
  assert.equal(span.name, 'feature_flag.evaluate');
  assert.deepEqual(attrs(span.attributes), {
    'feature_flag.key': 'color',
    'feature_flag.user_key': 'vip-user',
    'feature_flag.context_kind': 'user',
    'feature_flag.variation': 'blue',
    'feature_flag.default': false,
    'feature_flag.version': '7',
    'feature_flag.source': 'SERVER',
    'feature_flag.value': '"#0000ff"',
  });
  assert.equal(span.events[0].name, 'feature_flag.evaluation');
  assert.equal(attrs(span.events[0].attributes)['feature_flag.result.reason'], 'targeting_match');
  assert.equal(span.status.code, 1);
  const failed = spans.mismatch.span;
  assert.equal(failed.status.code, 2);
  assert.equal(failed.status.message, 'default value used');
  assert.equal(attrs(failed.events[0].attributes)['error.type'], 'type_mismatch');
});

test('spans join the active OpenTelemetry span, or the context\'s traceparent', async (t) => {
  const srv = await startServer(t, 'otelcol');
  const e = new vexil.Engine(FLAGS, { logger: false });
  e.addExporter(vexil.OpenTelemetryExporter(srv.endpoint));
  const ctx = new vexil.Context('handle-user', { plan: 'free' });
  let request;
  let nested;
  let later;
  tracer.startActiveSpan('handle-request', (span) => {
    request = span.spanContext();
    e.stringValue('color', '', { targetingKey: 'inside' });
    e.stringValue('color', '', ctx);
    tracer.startActiveSpan('nested', (inner) => {
      nested = inner.spanContext();
      e.stringValue('color', '', { targetingKey: 'nested' });
      inner.end();
    });
    e.stringValue('color', '', { targetingKey: 'explicit', traceparent: PARENT, tracestate: 'vx=1' });
    span.end();
  });
  // after an await, in the same asynchronous context
  await tracer.startActiveSpan('async-request', async (span) => {
    await new Promise((r) => setImmediate(r));
    e.stringValue('color', '', { targetingKey: 'after-await' });
    later = span.spanContext();
    span.end();
  });
  e.stringValue('color', '', { targetingKey: 'outside' });
  context.with(trace.setSpanContext(context.active(), { traceId: request.traceId, spanId: request.spanId, traceFlags: 0 }), () => {
    e.stringValue('color', '', { targetingKey: 'unsampled' });
  });
  assert.equal(await e.flush(10000), true);
  await e.close();
  const spans = byUser(await waitSpans(srv.spans_json_file, 6));
  assert.deepEqual(Object.keys(spans).sort(), ['after-await', 'explicit', 'handle-user', 'inside', 'nested', 'outside']);
  for (const user of ['inside', 'handle-user']) {
    assert.equal(spans[user].span.traceId, request.traceId);
    assert.equal(spans[user].span.parentSpanId, request.spanId);
  }
  assert.equal(spans.nested.span.parentSpanId, nested.spanId);
  assert.equal(spans['after-await'].span.parentSpanId, later.spanId);
  assert.equal(spans.explicit.span.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(spans.explicit.span.parentSpanId, '00f067aa0ba902b7');
  assert.equal(spans.explicit.span.traceState, 'vx=1');
  assert.ok(!spans.outside.span.parentSpanId);
});

test('options are checked by the core and headers stay hidden', async () => {
  const x = vexil.OpenTelemetryExporter({ endpoint: 'http://h:4318', headers: { Authorization: 'Bearer s3cret' } });
  assert.equal(x.kind, 'opentelemetry');
  assert.ok(!util.inspect(x).includes('s3cret'));
  assert.ok(!JSON.stringify(x).includes('s3cret'));
  const e = new vexil.Engine(FLAGS, { logger: false });
  assert.throws(() => e.addExporter(vexil.OpenTelemetryExporter({ endpoint: 'collector:4318' })),
    { name: 'TypeError', message: /endpoint: must be an http:\/\/ or https:\/\/ URL/ });
  assert.throws(() => e.addExporter(vexil.OpenTelemetryExporter({ tracerNam: 'x' })),
    /did you mean tracerName/);
  await e.close();
});
