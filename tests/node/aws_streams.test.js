'use strict';
// The Kinesis and SQS exporters from Node, against moto with its signature
// checks on; what vexil sent is read back with boto3 (moto's own venv has
// it), as a consumer would.
const test = require('node:test');
const assert = require('node:assert');
const util = require('node:util');
const { execFileSync } = require('node:child_process');
const vexil = require('../../node/lib/index.js');
const { startServer } = require('./helpers.js');

for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
process.env.AWS_CONFIG_FILE = '/nonexistent/config';

const FLAGS = { color: { variations: { red: '#f00', blue: '#00f' }, defaultRule: { variation: 'red' } } };

function boto3(moto, code) {
  const script = `
import boto3, json, base64, sys
kw = dict(endpoint_url=${JSON.stringify(moto.endpoint)}, region_name="us-east-1",
          aws_access_key_id=${JSON.stringify(moto.accessKeyId)},
          aws_secret_access_key=${JSON.stringify(moto.secretAccessKey)})
kinesis = boto3.client("kinesis", **kw)
sqs = boto3.client("sqs", **kw)
${code}`;
  return JSON.parse(execFileSync(moto.python, ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 }));
}

function keys(moto) {
  return { endpoint: moto.endpoint, region: 'us-east-1', accessKeyId: moto.accessKeyId,
    secretAccessKey: moto.secretAccessKey };
}

test('Kinesis: events read back once under their partition keys; an oversized one dropped', async (t) => {
  const moto = await startServer(t, 'moto');
  boto3(moto, 'kinesis.create_stream(StreamName="node-events", ShardCount=2)\nprint("{}")');
  const exp = vexil.KinesisExporter({ streamName: 'node-events', partitionKey: '{{ .UserKey}}', ...keys(moto) });
  assert.ok(!util.inspect(exp).includes(moto.secretAccessKey));
  assert.ok(!JSON.stringify(exp).includes(moto.secretAccessKey));
  const e = new vexil.Engine(FLAGS, { logger: false });
  e.addExporter(exp);
  e.addExporter(vexil.KinesisExporter({ streamName: 'node-events', ...keys(moto) }), { eventType: 'tracking' });
  const users = Array.from({ length: 700 }, (_, i) => `node-user-${i}`);
  for (const u of users) e.stringValue('color', 'x', { targetingKey: u });
  e.track('huge', { targetingKey: 'node-huge' }, { blob: 'x'.repeat(1 << 20) });
  e.track('small', { targetingKey: 'node-small' }, { n: 1 });
  assert.equal(await e.flush(30000), true);
  const stats = e.stats().exporters;
  const [features, tracking] = Object.values(stats);
  assert.equal(features.exported, 700);
  assert.equal(features.failedAttempts, 0);
  assert.equal(tracking.exported, 1);
  assert.equal(tracking.dropped, 1);
  await e.close();
  const got = boto3(moto, `
out = []
for sh in kinesis.list_shards(StreamName="node-events")["Shards"]:
    it = kinesis.get_shard_iterator(StreamName="node-events", ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = kinesis.get_records(ShardIterator=it, Limit=10000)["Records"]
    out += [{"key": r["PartitionKey"], "event": json.loads(r["Data"])} for r in recs]
print(json.dumps(out))`);
  const featureRecs = got.filter((r) => r.event.kind === 'feature');
  assert.deepEqual(featureRecs.map((r) => r.event.userKey).sort(), [...users].sort());
  assert.ok(featureRecs.every((r) => r.key === r.event.userKey));
  assert.equal(featureRecs[0].event.value, '#f00');
  assert.deepEqual(got.filter((r) => r.event.kind === 'tracking').map((r) => [r.key, r.event.userKey]),
    [['default', 'node-small']]);
  assert.throws(() => vexil.KinesisExporter({ partitionKey: 'x' }), /streamName or streamArn is required/);
});

test('SQS: messages with the emitter attribute, a FIFO queue, a wrong secret', async (t) => {
  const moto = await startServer(t, 'moto');
  const urls = boto3(moto, `
print(json.dumps([sqs.create_queue(QueueName="node-events")["QueueUrl"],
                  sqs.create_queue(QueueName="node-events.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]]))`);
  const e = new vexil.Engine(FLAGS, { logger: false });
  e.addExporter(vexil.SQSExporter({ queueUrl: urls[0], maxInFlight: 4, ...keys(moto) }));
  e.addExporter(vexil.SQSExporter({ queueName: 'node-events.fifo', ...keys(moto) }));
  const users = Array.from({ length: 60 }, (_, i) => `node-user-${i}`);
  for (const u of users) e.stringValue('color', 'x', { targetingKey: u });
  assert.equal(await e.flush(30000), true);
  for (const s of Object.values(e.stats().exporters)) assert.equal(s.exported, 60);
  await e.close();
  const got = boto3(moto, `
out = []
for url in ${JSON.stringify(urls)}:
    msgs = []
    while True:
        m = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=900,
                                MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not m:
            break
        msgs += [{"event": json.loads(x["Body"]), "attrs": x["MessageAttributes"],
                  "group": x["Attributes"].get("MessageGroupId")} for x in m]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": x["ReceiptHandle"]} for i, x in enumerate(m)])
    out.append(msgs)
print(json.dumps(out))`);
  for (const msgs of got) {
    assert.deepEqual(msgs.map((m) => m.event.userKey).sort(), [...users].sort());
    assert.ok(msgs.every((m) => m.attrs.emitter.StringValue === 'GO Feature Flag'));
  }
  assert.ok(got[0].every((m) => m.group === null));
  assert.ok(got[1].every((m) => m.group === m.event.userKey));
  // FIFO order within a group: each user has one message here; the queue's order is the send order.
  assert.deepEqual(got[1].map((m) => m.event.userKey), users);

  const bad = new vexil.Engine(FLAGS, { logger: false });
  bad.addExporter(vexil.SQSExporter({ queueUrl: urls[0], ...keys(moto), secretAccessKey: 'wrong-secret' }),
    { retryInitial: 50 });
  bad.stringValue('color', 'x', { targetingKey: 'kept' });
  assert.equal(await bad.flush(1000), false);
  const [s] = Object.values(bad.stats().exporters);
  assert.ok(s.failedAttempts >= 1);
  assert.equal(s.pending, 1);
  assert.match(s.lastError, /SendMessageBatch: HTTP 403/);
  assert.ok(!s.lastError.includes('wrong-secret'));
  await bad.close(200);
  assert.throws(() => vexil.SQSExporter({}), /queueUrl or queueName is required/);
  const fifo = new vexil.Engine(FLAGS, { logger: false });
  assert.throws(() => fifo.addExporter(vexil.SQSExporter({ queueUrl: urls[1], maxInFlight: 2, ...keys(moto) })),
    /maxInFlight: a FIFO queue takes 1/);
  await fifo.close();
});
