'use strict';
// The Azure Blob Storage exporter and retriever against Azurite (which checks
// SharedKey signatures), read back with @azure/storage-blob.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const os = require('node:os');
const util = require('node:util');
const { BlobServiceClient, StorageSharedKeyCredential } = require('@azure/storage-blob');
const vexil = require('../../node/lib/index.js');
const { startServer, waitFor } = require('./helpers.js');

const FLAGS = {
  'my-flag': { variations: { A: 'value_A', B: 'value_B' }, defaultRule: { percentage: { A: 50, B: 50 } } },
};

function client(server) {
  return new BlobServiceClient(server.endpoint, new StorageSharedKeyCredential(server.account, server.key));
}

async function newContainer(server) {
  const name = `n-${crypto.randomBytes(8).toString('hex')}`;
  await client(server).createContainer(name);
  return name;
}

async function readAll(server, container) {
  const c = client(server).getContainerClient(container);
  const out = {};
  for await (const b of c.listBlobsFlat()) out[b.name] = (await c.getBlobClient(b.name).downloadToBuffer()).toString();
  return out;
}

test('descriptions hide the account key', () => {
  const x = vexil.AzureBlobExporter({ container: 'events', accountName: 'acct', accountKey: 'c2VjcmV0', sasToken: 'sig=s3' });
  assert.equal(x.kind, 'azureBlobStorage');
  assert.deepEqual(x.options, { container: 'events', accountName: 'acct', accountKey: 'c2VjcmV0', sasToken: 'sig=s3' });
  assert.ok(!util.inspect(x).includes('c2VjcmV0') && !JSON.stringify(x).includes('sig=s3'));
  const r = vexil.AzureBlobRetriever({ accountName: 'acct', container: 'flags', object: 'f.yaml', connectionString: 'AccountKey=k' });
  assert.ok(!util.inspect(r).includes('AccountKey'));
  const u = vexil.AzureBlobExporter({ container: 'events', serviceUrl: 'https://a.blob.core.windows.net/?sv=1&sig=abc' });
  assert.ok(!util.inspect(u).includes('sig=abc') && !JSON.stringify(u).includes('sig=abc'));
  assert.throws(() => vexil.AzureBlobExporter({}), { name: 'TypeError', message: 'AzureBlobExporter: container is required' });
  assert.throws(() => vexil.AzureBlobRetriever({ container: 'c' }), TypeError);
});

test('events exported to Azurite arrive once each, as GOFF writes them', async (t) => {
  const server = await startServer(t, 'azurite');
  const container = await newContainer(server);
  const e = new vexil.Engine(FLAGS, { logger: false });
  e.addExporter(vexil.AzureBlobExporter({
    container, accountName: server.account, accountKey: server.key, serviceUrl: server.endpoint, path: 'node/run',
  }), { flushInterval: 60000 });
  for (let i = 0; i < 400; i++) e.stringValue('my-flag', '', { targetingKey: `u${i}` });
  assert.equal(await e.flush(10000), true);
  for (let i = 400; i < 500; i++) e.stringValue('my-flag', '', { targetingKey: `u${i}` });
  assert.equal(await e.flush(10000), true);
  assert.equal(e.stats().exported, 500);
  await e.close();
  const blobs = await readAll(server, container);
  const names = Object.keys(blobs);
  assert.equal(names.length, 2);
  const host = os.hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const n of names) assert.match(n, new RegExp(`^node/run/flag-variation-${host}-\\d+(-1)?\\.json$`));
  const events = Object.values(blobs).flatMap((b) => b.trim().split('\n')).map((l) => JSON.parse(l));
  assert.deepEqual(events.map((ev) => ev.userKey).sort(), Array.from({ length: 500 }, (_, i) => `u${i}`).sort());
  assert.deepEqual(Object.keys(events[0]),
    ['kind', 'contextKind', 'userKey', 'creationDate', 'key', 'variation', 'value', 'default', 'version', 'source']);
});

test('a wrong key: 403 in the log, the events kept', async (t) => {
  const server = await startServer(t, 'azurite');
  const container = await newContainer(server);
  const logs = [];
  const e = new vexil.Engine(FLAGS, { logger: (level, message) => logs.push(message), logLevel: 'error' });
  const wrong = Buffer.from('not the key of this account, not at all').toString('base64');
  e.addExporter(vexil.AzureBlobExporter({ container, accountName: server.account, accountKey: wrong, serviceUrl: server.endpoint }),
    { retryInitial: 50, retryMax: 100 });
  e.stringValue('my-flag', '', { targetingKey: 'u1' });
  assert.equal(await e.flush(400), false);
  assert.ok(await waitFor(() => e.stats().failedAttempts >= 1, 20000));
  assert.equal(e.stats().pending, 1);
  assert.ok(await waitFor(() => logs.some((l) => l.includes('Put Blob: HTTP 403 AuthorizationFailure'))), logs.join('\n'));
  assert.ok(!logs.some((l) => l.includes(wrong)));
  await e.close(50);
});

test('the retriever: flags from a blob, a 304 when unchanged, last good flags on a 404', async (t) => {
  const server = await startServer(t, 'azurite');
  const container = await newContainer(server);
  const blob = client(server).getContainerClient(container).getBlockBlobClient('flags.json');
  const doc = (v) => JSON.stringify({ f: { variations: { a: 'one', b: 'two' }, defaultRule: { variation: v } } });
  await blob.upload(doc('a'), doc('a').length);
  const e = await vexil.Engine.fromRetrievers([vexil.AzureBlobRetriever({
    accountName: server.account, container, object: 'flags.json', connectionString: server.connection_string,
  })], { pollInterval: 0, logger: false });
  assert.equal(e.stringValue('f', 'x'), 'one');
  await e.refresh();
  assert.equal(e.refreshStats().unchanged, 1);
  await blob.upload(doc('b'), doc('b').length);
  await e.refresh();
  assert.equal(e.stringValue('f', 'x'), 'two');
  await blob.delete();
  await assert.rejects(e.refresh(), /404 received: BlobNotFound/);
  assert.equal(e.stringValue('f', 'x'), 'two');
  await e.close();
});
