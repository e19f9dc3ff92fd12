'use strict';
// The Google Cloud Storage exporter and retriever from Node, against
// fake-gcs-server (tests/servers), read back through the JSON API.
const test = require('node:test');
const assert = require('node:assert');
const os = require('node:os');
const util = require('node:util');
const vexil = require('../../node/lib/index.js');
const { startServer } = require('./helpers.js');

const flag = (value) => ({ variations: { a: value }, defaultRule: { variation: 'a' } });

async function bucketOn(t, name) {
  const srv = await startServer(t, 'fake-gcs');
  const res = await fetch(`${srv.endpoint}/storage/v1/b`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }),
  });
  assert.equal(res.status, 200);
  return srv;
}

async function objects(endpoint, bucket) {
  const list = await (await fetch(`${endpoint}/storage/v1/b/${bucket}/o`)).json();
  const out = [];
  for (const o of list.items || []) {
    const body = await (await fetch(`${endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(o.name)}?alt=media`)).text();
    out.push({ name: o.name, contentType: o.contentType, body });
  }
  return out;
}

test('GCSExporter: events exported once, in GOFF\'s shape, under path', async (t) => {
  const srv = await bucketOn(t, 'node-events');
  const engine = new vexil.Engine({ f: flag('on') });
  const name = engine.addExporter(vexil.GCSExporter({
    bucket: 'node-events', path: 'a/./b/', endpoint: srv.endpoint, withoutAuthentication: true,
  }));
  for (let i = 0; i < 30; i++) engine.stringValue('f', 'x', { targetingKey: `u${i}` });
  assert.equal(await engine.flush(10000), true);
  const stats = engine.stats().exporters[name];
  assert.equal(stats.exported, 30);
  assert.equal(stats.lastError, null);
  await engine.close(5000);
  const got = await objects(srv.endpoint, 'node-events');
  assert.equal(got.length, 1);
  assert.match(got[0].name, new RegExp(`^a/b/flag-variation-${os.hostname()}-\\d+\\.json$`));
  assert.equal(got[0].contentType, 'application/x-ndjson');
  const events = got[0].body.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.userKey), Array.from({ length: 30 }, (_, i) => `u${i}`));
  assert.deepEqual(Object.keys(events[0]),
    ['kind', 'contextKind', 'userKey', 'creationDate', 'key', 'variation', 'value', 'default', 'version', 'source']);
});

test('GCSExporter: a missing bucket is a clear error, kept for retry', async (t) => {
  const srv = await bucketOn(t, 'node-present');
  const engine = new vexil.Engine({ f: flag(1) });
  const name = engine.addExporter(vexil.GCSExporter({
    bucket: 'node-absent', endpoint: srv.endpoint, withoutAuthentication: true,
  }), { retryInitial: 10000 });
  engine.intValue('f', 0, { targetingKey: 'u' });
  assert.equal(await engine.flush(1000), false);
  const stats = engine.stats().exporters[name];
  assert.equal(stats.pending, 1);
  assert.match(stats.lastError, /HTTP 404.*no such bucket/);
  await engine.close(200);
});

test('GCSExporter and GCSRetriever descriptions hide credentials', () => {
  const e = vexil.GCSExporter({ bucket: 'b', credentialsJson: '{"private_key":"TOP"}' });
  assert.equal(e.kind, 'googleStorage');
  assert.ok(!util.inspect(e).includes('TOP') && !JSON.stringify(e).includes('TOP'));
  assert.throws(() => vexil.GCSExporter({}), TypeError);
  assert.throws(() => vexil.GCSRetriever({ bucket: 'b' }), TypeError);
  const engine = new vexil.Engine({});
  assert.throws(() => engine.addExporter(vexil.GCSExporter({ bucket: 'b', resumableChunkSize: 1000 })),
    /resumableChunkSize/);
  engine.closeSync(0);
});

test('GCSRetriever: flags from a bucket, refreshed, last good kept on errors', async (t) => {
  const srv = await bucketOn(t, 'node-flags');
  const put = (body) => fetch(`${srv.endpoint}/upload/storage/v1/b/node-flags/o?uploadType=media&name=flags.json`,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  await put(JSON.stringify({ f: flag('one') }));
  const engine = await vexil.Engine.fromRetrievers([vexil.GCSRetriever({
    bucket: 'node-flags', object: 'flags.json', endpoint: srv.endpoint, withoutAuthentication: true,
  })], { pollInterval: 0 });
  t.after(() => engine.close(1000));
  assert.equal(engine.stringValue('f', 'x'), 'one');
  await engine.refresh();
  assert.equal(engine.stringValue('f', 'x'), 'one');
  await put(JSON.stringify({ f: flag('two') }));
  await engine.refresh();
  assert.equal(engine.stringValue('f', 'x'), 'two');
  await put('{ not json');
  await assert.rejects(engine.refresh());
  await fetch(`${srv.endpoint}/storage/v1/b/node-flags/o/flags.json`, { method: 'DELETE' });
  await assert.rejects(engine.refresh(), /404/);
  assert.equal(engine.stringValue('f', 'x'), 'two');
});
