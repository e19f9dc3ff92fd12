'use strict';
// vexil.KafkaExporter against librdkafka's mock cluster (tests/servers/kafka_mock.c),
// whose messages are read back with librdkafka's consumer: every event once,
// keyed by userKey on Sarama's partition; a broker down and back; an
// oversized event dropped and counted; close() with a broker that hangs.
const test = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const util = require('node:util');
const vexil = require('../../node/lib/index.js');
const { startServer, waitFor, pauseProcess } = require('./helpers.js');

const FLAGS = {
  color: { variations: { red: 'red', blue: 'blue' }, defaultRule: { percentage: { red: 50, blue: 50 } } },
  on: { variations: { yes: true, no: false }, defaultRule: { variation: 'yes' } },
};

// The mock's control protocol: one line out, "ok ..." back (plus rows for read).
function control(mock, line) {
  return new Promise((resolve, reject) => {
    const s = net.connect(mock.control, '127.0.0.1', () => s.write(`${line}\n`));
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      if (lines.length < 2) return;
      if (!lines[0].startsWith('ok')) {
        s.destroy();
        reject(new Error(`kafka-mock: ${line}: ${lines[0]}`));
        return;
      }
      const rows = line.startsWith('read ') ? Number(lines[0].slice(3)) : 0;
      if (lines.length - 2 < rows) return;
      s.end();
      resolve(lines.slice(1, 1 + rows));
    });
    s.on('error', reject);
  });
}

const b64 = (t) => (t === '-' ? null : t === '=' ? '' : Buffer.from(t, 'base64').toString('utf8'));

async function readTopic(mock, topic = 'events') {
  const rows = await control(mock, `read ${topic}`);
  return rows.map((r) => {
    const [p, o, k, v] = r.split(' ');
    return { partition: Number(p), offset: Number(o), key: b64(k), value: b64(v) };
  });
}

// Sarama's HashPartitioner: FNV-1a-32 as an int32, Go's truncated modulo, then abs.
function saramaPartition(key, n) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return Math.abs(h | 0) % n;
}

function evaluate(e, from, to) {
  for (let i = from; i < to; i++) e.stringValue('color', 'none', { targetingKey: `user-${i}` });
}

function checkOnce(messages, from, to) {
  const keys = messages.map((m) => m.key).sort();
  const want = [];
  for (let i = from; i < to; i++) want.push(`user-${i}`);
  assert.deepEqual(keys, want.sort());
  for (const m of messages) {
    assert.equal(m.partition, saramaPartition(m.key, 4));
    const ev = JSON.parse(m.value);
    assert.equal(ev.userKey, m.key);
    assert.equal(ev.kind, 'feature');
    assert.ok(!m.value.endsWith('\n'));
  }
}

function engine(mock, config = {}) {
  const e = new vexil.Engine(FLAGS);
  e.addExporter(vexil.KafkaExporter({ topic: 'events', addresses: mock.bootstraps.split(','), config }),
    { retryInitial: 50, retryMax: 200 });
  return e;
}

test('the description hides config; the core checks the keys', () => {
  const k = vexil.KafkaExporter({ topic: 'events', addresses: 'h1:9092,h2:9092', config: { 'sasl.password': 'hunter2' } });
  assert.equal(k.kind, 'kafka');
  assert.deepEqual(k.defaults, { bulk: false });
  assert.ok(!util.inspect(k).includes('hunter2'));
  assert.ok(!JSON.stringify(k).includes('hunter2'));
  assert.throws(() => vexil.KafkaExporter('events'), TypeError);
  const e = new vexil.Engine(FLAGS);
  assert.throws(() => e.addExporter(vexil.KafkaExporter({ addresses: 'h:1' })),
    { name: 'TypeError', code: 'VX_EINVAL', message: 'topic: required for kind kafka' });
  assert.throws(() => e.addExporter(vexil.KafkaExporter({ topic: 't' })),
    { name: 'TypeError', code: 'VX_EINVAL', message: 'addresses: required for kind kafka' });
  assert.throws(() => e.addExporter(vexil.KafkaExporter({ topic: 't', addresses: 'h:1', config: { 'no.such': 1 } })),
    { message: /^config\.no\.such: not a librdkafka property/ });
  assert.throws(() => e.addExporter(vexil.KafkaExporter({ topic: 't', adresses: 'h:1' })),
    { message: 'adresses: unknown key (did you mean addresses?)' });
  return e.close();
});

test('every event arrives once, keyed and partitioned as Sarama does', async (t) => {
  const mock = await startServer(t, 'kafka-mock');
  const e = engine(mock);
  evaluate(e, 0, 1500);
  assert.ok(await e.flush(30000));
  const s = e.stats();
  assert.equal(s.exported, 1500);
  assert.equal(s.dropped, 0);
  assert.deepEqual(Object.keys(s.exporters), ['kafka-1']);
  await e.close();
  checkOnce(await readTopic(mock), 0, 1500);
});

test('a broker down and back: events wait, then arrive once', async (t) => {
  const mock = await startServer(t, 'kafka-mock');
  const e = engine(mock, { 'message.timeout.ms': 1500, 'reconnect.backoff.max.ms': 200 });
  evaluate(e, 0, 100);
  assert.ok(await e.flush(30000));
  await control(mock, 'down -1');
  evaluate(e, 100, 300);
  assert.equal(await e.flush(2500), false);
  assert.equal(e.stats().pending, 200);
  assert.ok(e.stats().failedAttempts >= 1);
  assert.match(e.stats().exporters['kafka-1'].lastError, /kafka: \d+ of \d+ events not delivered: /);
  await control(mock, 'up -1');
  assert.ok(await e.flush(30000));
  assert.equal(e.stats().exported, 300);
  await e.close();
  checkOnce(await readTopic(mock), 0, 300);
});

test('an event over message.max.bytes is dropped and counted; the rest arrive', async (t) => {
  const mock = await startServer(t, 'kafka-mock');
  const e = engine(mock, { 'message.max.bytes': 1000 });
  evaluate(e, 0, 20);
  e.boolValue('on', false, { targetingKey: 'k'.repeat(2000) });
  evaluate(e, 20, 40);
  assert.ok(await e.flush(30000));
  const s = e.stats();
  assert.equal(s.exported, 40);
  assert.equal(s.dropped, 1);
  await e.close();
  checkOnce(await readTopic(mock), 0, 40);
});

test('close() with a broker that hangs returns within its timeout', async (t) => {
  const mock = await startServer(t, 'kafka-mock');
  const e = engine(mock, { 'message.timeout.ms': 2000 });
  evaluate(e, 0, 10);
  assert.ok(await e.flush(30000));
  await pauseProcess(mock.pid);
  t.after(() => { try { process.kill(mock.pid, 'SIGCONT'); } catch { /* already stopped */ } });
  evaluate(e, 10, 30);
  await e.close(500);
  assert.ok(await waitFor(() => e.stats().dropped === 20));
  assert.equal(e.stats().exported, 10);
});
