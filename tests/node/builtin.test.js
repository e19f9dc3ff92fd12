'use strict';
// Built-in exporters, retrievers and notifiers through their descriptions:
// the core builds each kind from GOFF's keys, checks them (a TypeError naming
// the key) and keeps secrets out of util.inspect() and JSON.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const util = require('node:util');
const vexil = require('../../node/lib/index.js');
const { tmpDir } = require('./helpers.js');

const flag = (value) => ({ variations: { a: value }, defaultRule: { variation: 'a' } });

function serve(t, handler) {
  const server = http.createServer(handler);
  t.after(() => server.close());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

test('descriptions carry GOFF keys and hide secrets', () => {
  const w = vexil.WebhookExporter({ url: 'https://h/x', secret: 's3cret', timeout: 2500 });
  assert.equal(w.kind, 'webhook');
  assert.deepEqual(w.options, { endpointUrl: 'https://h/x', secret: 's3cret', timeout: 2500 });
  assert.ok(!util.inspect(w).includes('s3cret'));
  assert.ok(!JSON.stringify(w).includes('s3cret'));
  const r = vexil.HttpRetriever({ url: 'https://h/f', headers: { Authorization: 'Bearer t' } });
  assert.ok(!util.inspect(r).includes('Bearer'));
  assert.ok(Object.isFrozen(r));
});

test('fromRetrievers merges a file and an HTTP source in order, with 304s', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'base.json');
  fs.writeFileSync(file, JSON.stringify({ a: flag(1), b: flag(1) }));
  let notModified = 0;
  const base = await serve(t, (req, res) => {
    if (req.headers['if-none-match'] === '"v1"') {
      notModified++;
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { ETag: '"v1"', 'Content-Type': 'application/json' }).end(JSON.stringify({ b: flag(2) }));
  });
  const e = await vexil.Engine.fromRetrievers([vexil.FileRetriever(file), vexil.HttpRetriever(`${base}/flags.json`)],
    { pollInterval: 0 });
  assert.equal(e.intValue('a', 0), 1);
  assert.equal(e.intValue('b', 0), 2);
  await e.refresh();
  assert.equal(notModified, 1);
  await e.close();
  await assert.rejects(vexil.Engine.fromRetrievers([]), TypeError);
  await assert.rejects(vexil.Engine.fromRetrievers(['flags.yaml']), TypeError);
  await assert.rejects(vexil.Engine.fromRetrievers([vexil.HttpRetriever('ftp://x')]),
    { name: 'TypeError', message: 'url must start with http:// or https://' });
});

test('the core names the key at fault; secrets come from the environment', async (t) => {
  const e = new vexil.Engine({ f: flag(true) });
  assert.throws(() => e.addExporter(vexil.WebhookExporter({ url: 'http://x', secret: { fromEnv: 'VX_NODE_UNSET' } })),
    { name: 'TypeError', code: 'VX_EINVAL', message: 'secret: environment variable VX_NODE_UNSET is not set' });
  assert.throws(() => e.addExporter(vexil.WebhookExporter({ url: 'http://x', timeot: 3 })),
    { message: 'timeot: unknown key (did you mean timeout?)' });
  const bodies = [];
  const base = await serve(t, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => { bodies.push({ headers: req.headers, body: Buffer.concat(chunks) }); res.end(); });
  });
  process.env.VX_NODE_HOOK_SECRET = 'from-env';
  e.addExporter(vexil.WebhookExporter({ url: `${base}/hook`, secret: { fromEnv: 'VX_NODE_HOOK_SECRET' } }), { bulk: false });
  e.addNotifier(vexil.WebhookNotifier({ url: `${base}/notify`, meta: { env: 'ci' } }));
  assert.throws(() => e.addNotifier('https://example.com'), TypeError);
  e.boolValue('f', false, { targetingKey: 'u' });
  e.load({ f: flag(false) });
  assert.ok(await e.flush(5000));
  await e.close();
  const hook = bodies.find((b) => JSON.parse(b.body).events);
  const note = bodies.find((b) => JSON.parse(b.body).flags);
  assert.ok(hook && note);
  const crypto = require('node:crypto');
  const sig = `sha256=${crypto.createHmac('sha256', 'from-env').update(hook.body).digest('hex')}`;
  assert.equal(hook.headers['x-hub-signature-256'], sig);
  assert.equal(JSON.parse(note.body).meta.env, 'ci');
});
