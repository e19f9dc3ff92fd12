'use strict';
// The S3 exporter and retriever from Node, against moto with its signature
// checks on; what vexil stored is read back with boto3 (moto's own venv
// has it), as a user's data team would.
const test = require('node:test');
const assert = require('node:assert');
const util = require('node:util');
const { execFileSync } = require('node:child_process');
const vexil = require('../../node/lib/index.js');
const { startServer } = require('./helpers.js');

// Nothing from the developer's shell; IMDS never asked.
for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
process.env.AWS_CONFIG_FILE = '/nonexistent/config';

const FLAGS = { color: { variations: { red: '#f00', blue: '#00f' }, defaultRule: { variation: 'red' } } };

function boto3(moto, code, env = {}) {
  const script = `
import boto3, json, sys
s3 = boto3.client("s3", endpoint_url=${JSON.stringify(moto.endpoint)}, region_name="us-east-1",
                  aws_access_key_id=${JSON.stringify(moto.accessKeyId)},
                  aws_secret_access_key=${JSON.stringify(moto.secretAccessKey)})
${code}`;
  return JSON.parse(execFileSync(moto.python, ['-c', script], { encoding: 'utf8',
    env: { ...process.env, ...env } }));
}

// One evaluation per user, then everything delivered before the engine closes.
async function evaluateAndClose(e, users) {
  for (const u of users) e.stringValue('color', 'x', { targetingKey: u });
  assert.equal(await e.flush(10000), true);
  await e.close();
}

function keys(moto) {
  return { endpoint: moto.endpoint, region: 'us-east-1', accessKeyId: moto.accessKeyId,
    secretAccessKey: moto.secretAccessKey };
}

test('S3: events exported and read back, every one once; the retriever with 304s', async (t) => {
  const moto = await startServer(t, 'moto');
  const run = `node-${process.pid}-${Date.now()}`;
  const exp = vexil.S3Exporter({ bucket: 'vexil', path: run, format: 'json', ...keys(moto) });
  assert.ok(!util.inspect(exp).includes(moto.secretAccessKey));
  assert.ok(!JSON.stringify(exp).includes(moto.secretAccessKey));
  const e = new vexil.Engine(FLAGS);
  e.addExporter(exp, { flushInterval: 3600000 });
  const users = Array.from({ length: 50 }, (_, i) => `node-user-${i}`);
  await evaluateAndClose(e, users);
  const got = boto3(moto, `
out = []
for o in s3.list_objects_v2(Bucket="vexil", Prefix="${run}/").get("Contents", []):
    body = s3.get_object(Bucket="vexil", Key=o["Key"])["Body"].read().decode()
    out += [json.loads(l) for l in body.splitlines()]
print(json.dumps(out))`);
  assert.deepEqual(got.map((ev) => ev.userKey).sort(), [...users].sort());
  assert.equal(got[0].kind, 'feature');
  assert.equal(got[0].value, '#f00');

  // The retriever: a flag file in the bucket, a 304 when unchanged.
  const item = `${run}/flags.json`;
  boto3(moto, `s3.put_object(Bucket="vexil", Key=${JSON.stringify(item)}, Body=${JSON.stringify(JSON.stringify(FLAGS))}.encode())
print("{}")`);
  const live = await vexil.Engine.fromRetrievers([vexil.S3Retriever({ bucket: 'vexil', item, ...keys(moto) })],
    { pollInterval: 0 });
  assert.equal(live.stringValue('color', 'x'), '#f00');
  await live.refresh();
  assert.equal(live.refreshStats().unchanged, 1);
  boto3(moto, `s3.delete_object(Bucket="vexil", Key=${JSON.stringify(item)})
print("{}")`);
  await assert.rejects(live.refresh(), /HTTP status 404.*NoSuchKey/);
  assert.equal(live.stringValue('color', 'x'), '#f00');
  await live.close();
});

test('S3: a wrong secret is a 403 and keeps the events', async (t) => {
  const moto = await startServer(t, 'moto');
  const e = new vexil.Engine(FLAGS);
  e.addExporter(vexil.S3Exporter({ bucket: 'vexil', ...keys(moto), secretAccessKey: 'wrong-secret' }),
    { flushInterval: 3600000 });
  e.stringValue('color', 'x', { targetingKey: 'kept' });
  assert.equal(await e.flush(1000), false);
  const [s] = Object.values(e.stats().exporters);
  assert.ok(s.failedAttempts >= 1);
  assert.equal(s.pending, 1);
  assert.match(s.lastError, /HTTP 403 SignatureDoesNotMatch/);
  assert.ok(!s.lastError.includes('wrong-secret'));
  await e.close(200);
  assert.throws(() => vexil.S3Exporter({ path: 'x' }), /bucket is required/);
});

test('S3 over HTTPS: the CA file trusted, the payload unsigned with its CRC-32C, read back over TLS', async (t) => {
  const moto = await startServer(t, 'moto-https');
  const run = `node-tls-${process.pid}-${Date.now()}`;
  const users = Array.from({ length: 20 }, (_, i) => `node-tls-${i}`);

  // Not trusted: a failed export, kept, with libcurl's reason.
  const refused = new vexil.Engine(FLAGS, { logger: false });
  refused.addExporter(vexil.S3Exporter({ bucket: 'vexil', path: `${run}/refused`, ...keys(moto), timeout: 2000 }),
    { flushInterval: 3600000, retryInitial: 200, retryMax: 400 });
  refused.stringValue('color', 'x', { targetingKey: 'kept' });
  assert.equal(await refused.flush(1000), false);
  const [r] = Object.values(refused.stats().exporters);
  assert.equal(r.pending, 1);
  assert.match(r.lastError, /certificate/i);
  await refused.close(200);

  const e = new vexil.Engine(FLAGS);
  e.addExporter(vexil.S3Exporter({ bucket: 'vexil', path: run, format: 'json', ...keys(moto), caFile: moto.ca_file }),
    { flushInterval: 3600000 });
  await evaluateAndClose(e, users);
  const got = boto3(moto, `
out = []
for o in s3.list_objects_v2(Bucket="vexil", Prefix="${run}/").get("Contents", []):
    head = s3.head_object(Bucket="vexil", Key=o["Key"], ChecksumMode="ENABLED")
    body = s3.get_object(Bucket="vexil", Key=o["Key"])["Body"].read().decode()
    out.append({"crc32c": "ChecksumCRC32C" in head, "sha256": "ChecksumSHA256" in head,
                "users": [json.loads(l)["userKey"] for l in body.splitlines()]})
print(json.dumps(out))`, { AWS_CA_BUNDLE: moto.ca_file });
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].users.sort(), [...users].sort());
  assert.equal(got[0].crc32c, true);
  assert.equal(got[0].sha256, false);
});
