'use strict';
// Exporters: JavaScript ones (sync, async, failing) and the core's built-in
// file, log and webhook exporters (the webhook against a real HTTP server).
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const vexil = require('../../node/lib/index.js');
const { tmpDir, runNode, waitFor } = require('./helpers.js');

const FLAGS = {
  split: { variations: { A: 'a', B: 'b' }, defaultRule: { percentage: { A: 50, B: 50 } }, version: '7' },
  obj: { variations: { x: { n: 1 } }, defaultRule: { variation: 'x' } },
  quiet: { variations: { x: 1 }, defaultRule: { variation: 'x' }, trackEvents: false },
};

function engine(options) {
  return new vexil.Engine(FLAGS, { logger: false, ...options });
}

test('a function exporter gets GOFF-shaped feature events', async () => {
  const e = engine({ exporterMetadata: { app: 'tests' } });
  const got = [];
  const name = e.addExporter((events) => { got.push(...events); });
  assert.equal(name, 'exporter-1');
  e.stringValue('split', 'dflt', { targetingKey: 'user-key' });
  e.objectValue('obj', {}, new vexil.Context('u2', { anonymous: true }));
  e.boolValue('split', false, { targetingKey: 'u3' }); // type mismatch: default value
  e.intValue('quiet', 0, { targetingKey: 'u4' }); // trackEvents: false
  assert.equal(await e.flush(), true);
  assert.equal(got.length, 3);
  const [first, second, third] = got;
  assert.deepEqual(Object.keys(first), ['kind', 'contextKind', 'userKey', 'creationDate', 'key', 'variation', 'value', 'default', 'version', 'source', 'metadata']);
  assert.equal(first.kind, 'feature');
  assert.equal(first.contextKind, 'user');
  assert.equal(first.userKey, 'user-key');
  assert.equal(first.key, 'split');
  assert.equal(first.variation, 'A');
  assert.equal(first.value, 'a');
  assert.equal(first.default, false);
  assert.equal(first.version, '7');
  assert.equal(first.source, 'SERVER');
  assert.deepEqual(first.metadata, { app: 'tests' });
  assert.ok(Math.abs(first.creationDate - Date.now() / 1000) < 60);
  assert.equal(second.contextKind, 'anonymousUser');
  assert.deepEqual(second.value, { n: 1 });
  assert.equal(third.default, true);
  assert.equal(third.value, false);
  assert.equal(third.variation, 'SdkDefault');
  await e.close();
});

test('an object exporter with async export() gets tracking events', async () => {
  const e = engine({ eventSource: 'TEST' });
  const got = [];
  e.addExporter({
    async export(events) {
      await new Promise((r) => setTimeout(r, 5));
      got.push(...events);
    },
  }, { eventType: 'tracking' });
  e.track('checkout', new vexil.Context('u1', { plan: 'pro' }), { value: 99.5, items: ['a'] });
  e.track('view', { targetingKey: 'u2', page: 3 });
  e.stringValue('split', '', { targetingKey: 'u1' }); // a feature event: not for this exporter
  assert.equal(await e.flush(), true);
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], {
    kind: 'tracking', contextKind: 'user', userKey: 'u1', creationDate: got[0].creationDate, key: 'checkout',
    evaluationContext: { plan: 'pro', targetingKey: 'u1' }, trackingEventDetails: { value: 99.5, items: ['a'] },
  });
  assert.equal(got[1].trackingEventDetails, null);
  assert.deepEqual(got[1].evaluationContext, { page: 3, targetingKey: 'u2' });
  await e.close();
});

test('an exporter that rejects 3 times then succeeds: each event delivered exactly once', async () => {
  const e = engine();
  const seen = new Map();
  let calls = 0;
  e.addExporter(async (events) => {
    calls++;
    if (calls <= 3) throw new Error(`failure ${calls}`);
    for (const ev of events) seen.set(ev.userKey, (seen.get(ev.userKey) ?? 0) + 1);
  }, { flushInterval: 20, retryInitial: 10, retryMax: 20 });
  for (let i = 0; i < 500; i++) e.stringValue('split', '', { targetingKey: `u${i}` });
  assert.ok(await waitFor(() => seen.size === 500, 10000));
  for (let i = 500; i < 600; i++) e.stringValue('split', '', { targetingKey: `u${i}` });
  assert.equal(await e.flush(), true);
  assert.equal(seen.size, 600);
  assert.ok([...seen.values()].every((n) => n === 1));
  const s = e.stats();
  assert.equal(s.exported, 600);
  assert.equal(s.failedAttempts, 3);
  assert.equal(s.pending, 0);
  assert.equal(s.dropped, 0);
  await e.close();
});

test('false and synchronous throws are failed exports too; failures reach the logger', async () => {
  const logs = [];
  const e = engine({ logger: (level, message) => logs.push(`${level}: ${message}`) });
  let n = 0;
  let delivered = 0;
  e.addExporter((events) => {
    n++;
    if (n === 1) return false;
    if (n === 2) throw new TypeError('boom');
    delivered += events.length;
    return true;
  }, { retryInitial: 5 });
  e.stringValue('split', '', { targetingKey: 'x' });
  assert.equal(await e.flush(), true);
  assert.equal(delivered, 1);
  assert.equal(e.stats().failedAttempts, 2);
  // Logged by the core's threads, delivered on the JS thread.
  assert.ok(await waitFor(() => logs.some((l) => l.startsWith('error:') && l.includes('boom'))), logs.join('\n'));
  await e.close();
});

test('a synchronous (bulk: false) exporter gets events without a flush', async () => {
  const e = engine();
  const got = [];
  e.addExporter((events) => { got.push(...events); }, { bulk: false });
  e.stringValue('split', '', { targetingKey: 'now' });
  assert.ok(await waitFor(() => got.length === 1, 3000));
  await e.close();
});

test('close() delivers pending events; afterwards evaluations work and addExporter throws', async () => {
  const e = engine();
  let got = 0;
  e.addExporter((events) => { got += events.length; }, { flushInterval: 3600000 });
  for (let i = 0; i < 10; i++) e.stringValue('split', '', { targetingKey: `c${i}` });
  await e.close();
  assert.equal(got, 10);
  assert.equal(e.closed, true);
  assert.equal(e.stringValue('split', '', { targetingKey: 'user-key' }), 'a');
  assert.throws(() => e.addExporter(() => {}), /closed/);
  e.track('after-close', { targetingKey: 'x' }); // ignored
  await e.close(); // idempotent
});

test('FileExporter writes JSON lines and CSV', async (t) => {
  const dir = tmpDir(t);
  const e = engine();
  e.addExporter(vexil.FileExporter({ outputDir: path.join(dir, 'json'), filename: 'events.{{ .Format}}' }));
  e.addExporter(vexil.FileExporter({
    outputDir: path.join(dir, 'csv'), format: 'csv', filename: 'events.csv',
    csvTemplate: '{{ .Kind}};{{ .UserKey}};{{ .Key}};{{ .Variation}};{{ .Value}}\n',
  }));
  e.stringValue('split', '', { targetingKey: 'user-key' });
  e.stringValue('split', '', { targetingKey: 'file-2' });
  assert.equal(await e.flush(), true);
  const lines = fs.readFileSync(path.join(dir, 'json', 'events.json'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  const ev = JSON.parse(lines[0]);
  assert.equal(ev.kind, 'feature');
  assert.equal(ev.userKey, 'user-key');
  assert.equal(ev.variation, 'A');
  const csv = fs.readFileSync(path.join(dir, 'csv', 'events.csv'), 'utf8');
  assert.match(csv, /^feature;user-key;split;A;a\n/);
  assert.equal(csv.trim().split('\n').length, 2);
  assert.deepEqual(Object.keys(e.stats().exporters), ['file-1', 'file-2']);
  await e.close();
});

test('FileExporter writes Parquet files that never overwrite each other', async (t) => {
  const dir = tmpDir(t);
  const e = engine();
  e.addExporter(vexil.FileExporter({
    outputDir: dir, format: 'Parquet', filename: 'events.{{ .Format}}',
    parquetCompressionCodec: 'uncompressed',
  }));
  e.stringValue('split', '', { targetingKey: 'first-flush' });
  assert.equal(await e.flush(), true);
  e.stringValue('split', '', { targetingKey: 'second-flush' });
  assert.equal(await e.flush(), true);
  await e.close();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['events-1.parquet', 'events.parquet']);
  const first = fs.readFileSync(path.join(dir, 'events.parquet'));
  const second = fs.readFileSync(path.join(dir, 'events-1.parquet'));
  for (const f of [first, second]) {
    assert.equal(f.subarray(0, 4).toString(), 'PAR1');
    assert.equal(f.subarray(-4).toString(), 'PAR1');
  }
  assert.ok(first.includes('first-flush') && !first.includes('second-flush'));
  assert.ok(second.includes('second-flush'));
  // pyarrow reads these files row for row in tests/python/test_parquet.py.
  assert.throws(() => e2().addExporter(vexil.FileExporter({ format: 'parquet', parquetCompressionCodec: 'LZ4' })),
    /parquetCompressionCodec "LZ4"/);
  assert.throws(() => e2().addExporter(vexil.FileExporter({ parquetCompressionCodec: 1 })),
    { name: 'TypeError', message: 'parquetCompressionCodec: must be a string' });

  function e2() {
    const x = engine();
    t.after(() => x.close());
    return x;
  }
});

test('LogExporter: to a JavaScript log function, and to stderr by default', async () => {
  const e = engine();
  const lines = [];
  e.addExporter(vexil.LogExporter({ format: 'user={{ .UserKey}} flag={{ .Key}} value={{ .Value}}', log: (l) => lines.push(l) }));
  e.stringValue('split', '', { targetingKey: 'user-key' });
  assert.ok(await waitFor(() => lines.length === 1, 3000));
  assert.equal(lines[0], 'user=user-key flag=split value=a');
  await e.close();

  const child = await runNode(`
    const vexil = require(process.env.VEXIL);
    const e = new vexil.Engine({ f: { variations: { a: 'x' }, defaultRule: { variation: 'a' } } }, { logger: false });
    e.addExporter(vexil.LogExporter());
    e.stringValue('f', '', { targetingKey: 'stderr-user' });
    e.close();
  `);
  assert.equal(child.code, 0, child.stderr);
  assert.match(child.stderr, /user="stderr-user", flag="f", value="x"/);
});

test('flush and close retry a failing exporter on its backoff schedule, never at once', async (t) => {
  const failedAt = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      failedAt.push(performance.now());
      res.writeHead(503).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const e = engine();
  e.addExporter(vexil.WebhookExporter({ url: `http://127.0.0.1:${server.address().port}/hook` }),
    { bulk: false, retryInitial: 150, retryMax: 150 });
  e.stringValue('split', '', { targetingKey: 'user-key' });
  assert.equal(await e.flush(700), false);
  const duringFlush = failedAt.length;
  assert.ok(duringFlush >= 2, `${duringFlush} attempts during flush`);
  await e.close(400);
  assert.ok(failedAt.length > duringFlush, 'close retried too');
  const gaps = failedAt.slice(1).map((x, i) => x - failedAt[i]);
  assert.ok(Math.min(...gaps) >= 140, `gaps ${gaps}`);
  const s = e.stats();
  assert.deepEqual([s.failedAttempts, s.dropped], [failedAt.length, 1]);
});

test('WebhookExporter posts {meta, events} with an HMAC signature to a real server', async (t) => {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks), url: req.url });
      res.writeHead(received.length === 1 ? 500 : 200).end(); // the first POST fails: retried
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  const e = engine();
  e.addExporter(vexil.WebhookExporter({
    url, secret: 's3cret', headers: { 'X-Team': 'flags' }, meta: { env: 'test' }, timeout: 5000,
  }), { retryInitial: 10 });
  e.stringValue('split', '', { targetingKey: 'user-key' });
  assert.equal(await e.flush(10000), true);
  assert.equal(received.length, 2);
  const last = received[1];
  assert.equal(last.url, '/hook');
  assert.equal(last.headers['content-type'], 'application/json');
  assert.equal(last.headers['x-team'], 'flags');
  const expected = 'sha256=' + crypto.createHmac('sha256', 's3cret').update(last.body).digest('hex');
  assert.equal(last.headers['x-hub-signature-256'], expected);
  const body = JSON.parse(last.body);
  assert.equal(body.meta.env, 'test');
  assert.ok(typeof body.meta.hostname === 'string');
  assert.equal(body.events.length, 1);
  assert.equal(body.events[0].userKey, 'user-key');
  assert.deepEqual(received[0].body, last.body); // the same batch, retried
  const s = e.stats();
  assert.deepEqual([s.exported, s.failedAttempts], [1, 1]);
  await e.close();
});

test('built-in exporter configuration errors', () => {
  const e = engine();
  assert.throws(() => vexil.WebhookExporter({}), TypeError);
  // The core checks a built-in kind's options when it is added, naming the key.
  assert.throws(() => e.addExporter(vexil.FileExporter({ outputDir: 3 })), { name: 'TypeError', code: 'VX_EINVAL', message: 'outputDir: must be a string' });
  assert.throws(() => e.addExporter(vexil.FileExporter({ outptDir: '/tmp' })), { message: 'outptDir: unknown key (did you mean outputDir?)' });
  assert.throws(() => vexil.LogExporter({ log: 'nope' }), TypeError);
  assert.throws(() => e.addExporter(42), TypeError);
  assert.throws(() => e.addExporter(() => {}, { eventType: 'other' }), TypeError);
  assert.throws(() => e.addExporter(() => {}, { flushInterval: -1 }), TypeError);
  return e.close();
});
