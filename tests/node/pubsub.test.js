'use strict';
// vexil.PubSubExporter against Google's own fake, pstest (tests/servers),
// read back with Google's Python client (google-cloud-pubsub, in pstest's
// own venv): every event once with GOFF's payload and the emitter attribute,
// ordering keys, a missing topic named in lastError, close() with a server
// that hangs.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const util = require('node:util');
const { execFileSync } = require('node:child_process');
const vexil = require('../../node/lib/index.js');
const { startServer, pauseProcess } = require('./helpers.js');

const FLAGS = { color: { variations: { red: 'red', blue: 'blue' }, defaultRule: { variation: 'red' } } };
const PROJECT = 'vexil-node';
let topics = 0;

function client(srv, ...args) {
  return JSON.parse(execFileSync(srv.python, [srv.client, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

function newTopic(srv, { ordering = false, create = true } = {}) {
  const topic = `node-${process.pid}-${topics++}`;
  if (create) client(srv, 'setup', srv.emulator_host, PROJECT, topic, ...(ordering ? ['--ordering'] : []));
  return topic;
}

const pull = (srv, topic, n) => client(srv, 'pull', srv.emulator_host, PROJECT, topic, String(n), '5');

function withEmulator(t, srv) {
  const before = process.env.PUBSUB_EMULATOR_HOST;
  process.env.PUBSUB_EMULATOR_HOST = srv.emulator_host;
  t.after(() => {
    if (before === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
    else process.env.PUBSUB_EMULATOR_HOST = before;
  });
}

test('the description hides credentialsJson; the core checks the keys', () => {
  const p = vexil.PubSubExporter({ projectID: 'proj', topic: 'events', credentialsJson: '{"private_key":"K"}' });
  assert.equal(p.kind, 'pubsub');
  assert.deepEqual(p.defaults, { bulk: false });
  assert.ok(!util.inspect(p).includes('private_key'));
  assert.ok(!JSON.stringify(p).includes('private_key'));
  assert.throws(() => vexil.PubSubExporter({ projectID: 'proj' }), TypeError);
  const e = new vexil.Engine(FLAGS);
  assert.throws(() => e.addExporter(vexil.PubSubExporter({ projectID: 'p', topic: 'ab', withoutAuthentication: true })),
    { name: 'TypeError', code: 'VX_EINVAL', message: /^topic: must be a Pub\/Sub topic id/ });
  assert.throws(() => e.addExporter(vexil.PubSubExporter({ projectID: 'p', topic: 'events', withoutAuthentication: true, maxMessagesPerRequest: 1001 })),
    { message: /maxMessagesPerRequest/ });
  assert.throws(() => e.addExporter(vexil.PubSubExporter({ topic: 'events', withoutAuthentication: true })),
    { message: /^projectID: required for kind pubsub/ });
  return e.close();
});

test('every event once, GOFF payload and the emitter attribute', async (t) => {
  const srv = await startServer(t, 'pstest');
  withEmulator(t, srv);
  const topic = newTopic(srv);
  const e = new vexil.Engine(FLAGS);
  e.addExporter(vexil.PubSubExporter({ projectID: PROJECT, topic }));
  for (let i = 0; i < 1500; i++) e.stringValue('color', 'none', { targetingKey: `user-${i}` });
  assert.ok(await e.flush(30000));
  const s = e.stats();
  assert.equal(s.exported, 1500);
  assert.equal(s.dropped, 0);
  assert.equal(s.exporters['pubsub-1'].lastError, null);
  await e.close();
  const msgs = pull(srv, topic, 1500);
  assert.deepEqual(msgs.map((m) => JSON.parse(m.data).userKey).sort(),
    Array.from({ length: 1500 }, (_, i) => `user-${i}`).sort());
  for (const m of msgs) {
    assert.deepEqual(m.attributes, { emitter: 'GO Feature Flag' });
    assert.equal(m.ordering_key, '');
    assert.ok(!m.data.endsWith('\n'));
    const ev = JSON.parse(m.data);
    assert.deepEqual(Object.keys(ev), ['kind', 'contextKind', 'userKey', 'creationDate', 'key', 'variation',
      'value', 'default', 'version', 'source']);
    assert.equal(ev.value, 'red');
  }
});

test('ordering keys: each user\'s events in the order recorded', async (t) => {
  const srv = await startServer(t, 'pstest');
  withEmulator(t, srv);
  const topic = newTopic(srv, { ordering: true });
  const e = new vexil.Engine(FLAGS);
  e.addExporter(vexil.PubSubExporter({ projectID: PROJECT, topic, enableMessageOrdering: true, maxMessagesPerRequest: 11 }),
    { eventType: 'tracking' });
  for (let i = 0; i < 300; i++) e.track('step', { targetingKey: `u${i % 3}` }, { seq: i });
  assert.ok(await e.flush(30000));
  await e.close();
  const msgs = pull(srv, topic, 300).sort((a, b) => Number(a.message_id.slice(1)) - Number(b.message_id.slice(1)));
  assert.equal(msgs.length, 300);
  const byKey = {};
  for (const m of msgs) {
    const ev = JSON.parse(m.data);
    assert.equal(m.ordering_key, ev.userKey);
    (byKey[m.ordering_key] ??= []).push(ev.trackingEventDetails.seq);
  }
  assert.deepEqual(Object.keys(byKey).sort(), ['u0', 'u1', 'u2']);
  for (const seqs of Object.values(byKey)) {
    assert.equal(seqs.length, 100);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  }
});

test('a missing topic: a clear lastError, the events kept until it exists', async (t) => {
  const srv = await startServer(t, 'pstest');
  withEmulator(t, srv);
  const topic = newTopic(srv, { create: false });
  const e = new vexil.Engine(FLAGS);
  e.addExporter(vexil.PubSubExporter({ projectID: PROJECT, topic }), { retryInitial: 50, retryMax: 200 });
  for (let i = 0; i < 5; i++) e.stringValue('color', 'none', { targetingKey: `late-${i}` });
  assert.equal(await e.flush(500), false);
  const s = e.stats();
  assert.equal(s.pending, 5);
  assert.match(s.exporters['pubsub-1'].lastError,
    new RegExp(`Publish to projects/${PROJECT}/topics/${topic}: NOT_FOUND: .*the topic does not exist`));
  client(srv, 'setup', srv.emulator_host, PROJECT, topic);
  assert.ok(await e.flush(10000));
  assert.equal(e.stats().exported, 5);
  await e.close();
  assert.equal(pull(srv, topic, 5).length, 5);
});

test('close() with a hanging server returns within its timeout', async (t) => {
  const srv = await startServer(t, 'pstest');
  withEmulator(t, srv);
  const topic = newTopic(srv);
  const e = new vexil.Engine(FLAGS);
  e.addExporter(vexil.PubSubExporter({ projectID: PROJECT, topic, timeout: 60000 }));
  e.stringValue('color', 'none', { targetingKey: 'before' });
  assert.ok(await e.flush(10000));
  await pauseProcess(srv.pid);
  try {
    for (let i = 0; i < 4; i++) e.stringValue('color', 'none', { targetingKey: `hang-${i}` });
    await e.close(500);
    const s = e.stats();
    assert.equal(s.exported, 1);
    assert.equal(s.dropped, 4);
  } finally {
    process.kill(srv.pid, 'SIGCONT');
  }
});
