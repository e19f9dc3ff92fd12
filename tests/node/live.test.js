'use strict';
// Live configuration: Engine.fromUrl / fromFile with polling against a real
// HTTP server on 127.0.0.1 that serves, changes, fails (500, hang, garbage)
// and recovers; change and status notifications; provider events.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { OpenFeature, ProviderEvents, ProviderStatus } = require('@openfeature/server-sdk');
const vexil = require('../../node/lib/index.js');
const { tmpDir, runNode, waitFor, delay } = require('./helpers.js');

const flag = (value, extra = {}) => ({ variations: { a: value }, defaultRule: { variation: 'a' }, ...extra });
const V1 = { color: flag('red', { metadata: { c: 'red' }, version: '1' }), size: flag(1), gone: flag(true) };
const V2 = { color: flag('blue', { metadata: { c: 'blue' }, version: '2' }), size: flag(1), added: flag('new') };

/** A flag server: `mode` is ok | 500 | hang | garbage; ETag on every good answer. */
async function flagServer(t, initial = V1) {
  const s = { body: JSON.stringify(initial), mode: 'ok', requests: 0, notModified: 0, hooks: [], hanging: 0 };
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => { data += d; });
    req.on('end', () => {
      if (req.url.startsWith('/hook')) {
        s.hooks.push({ headers: req.headers, body: data });
        res.end('ok');
        return;
      }
      s.requests++;
      if (s.mode === 'hang') {
        s.hanging++;
        return; // never answers
      }
      if (s.mode === '500') {
        res.writeHead(500);
        res.end('boom');
        return;
      }
      const body = s.mode === 'garbage' ? '{"color": {variations' : s.body;
      const etag = `"${crypto.createHash('sha1').update(body).digest('hex')}"`;
      if (req.headers['if-none-match'] === etag) {
        s.notModified++;
        res.writeHead(304, { ETag: etag });
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: etag });
      res.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${server.address().port}/flags.json`;
  s.hookUrl = `http://127.0.0.1:${server.address().port}/hook`;
  s.set = (flags) => { s.body = JSON.stringify(flags); };
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return s;
}

/** Records a live engine's notifications. */
function recorder(engine) {
  const r = { changes: [], statuses: [] };
  engine.onChange((ev) => r.changes.push(ev));
  engine.onStatusChange((st) => r.statuses.push(st));
  return r;
}

test('fromUrl serves the flags, ETags make unchanged refreshes 304s, onChange gets exactly the changes', async (t) => {
  const srv = await flagServer(t);
  const engine = await vexil.Engine.fromUrl(srv.url, { pollInterval: 0, logger: false });
  t.after(() => engine.close());
  assert.equal(engine.status, 'READY');
  assert.equal(engine.stringValue('color', 'x', {}), 'red');
  const rec = recorder(engine);

  await engine.refresh();
  await engine.refresh();
  assert.equal(srv.notModified, 2);
  let st = engine.refreshStats();
  assert.equal(st.refreshes, 3);
  assert.equal(st.unchanged, 2);
  assert.equal(st.failures, 0);
  assert.ok(st.lastSuccess instanceof Date);

  srv.set(V2);
  await engine.refresh();
  assert.equal(engine.stringValue('color', 'x', {}), 'blue');
  assert.equal(engine.stringValue('added', 'x', {}), 'new');
  assert.ok(await waitFor(() => rec.changes.length === 1));
  const [ev] = rec.changes;
  assert.deepEqual(ev.flagsChanged, ['added', 'color', 'gone']);
  assert.deepEqual(Object.keys(ev.diff.added), ['added']);
  assert.deepEqual(Object.keys(ev.diff.deleted), ['gone']);
  assert.deepEqual(Object.keys(ev.diff.updated), ['color']);
  assert.deepEqual(ev.diff.updated.color.old_value.variations, { a: 'red' });
  assert.deepEqual(ev.diff.updated.color.new_value.variations, { a: 'blue' });
  st = engine.refreshStats();
  assert.equal(st.changes, 2); // the start and this one

  await engine.refresh(); // unchanged again: no notification
  await delay(50);
  assert.equal(rec.changes.length, 1);
  assert.deepEqual(rec.statuses, []);
});

test('failures (500, garbage, hang) keep the last good flags; STALE, then READY on recovery', async (t) => {
  const srv = await flagServer(t);
  const logs = [];
  const engine = await vexil.Engine.fromUrl(srv.url, {
    pollInterval: 0, staleAfter: 3, timeout: 300, logger: (level, msg) => logs.push([level, msg]),
  });
  t.after(() => engine.close());
  const rec = recorder(engine);
  for (const mode of ['500', 'garbage', 'hang']) {
    srv.mode = mode;
    const err = await engine.refresh().then(() => null, (e) => e);
    assert.ok(err instanceof vexil.ConfigError, `${mode}: ${err}`);
    assert.equal(engine.stringValue('color', 'x', {}), 'red', mode);
  }
  assert.equal(engine.status, 'STALE');
  assert.ok(await waitFor(() => rec.statuses.length === 1));
  assert.deepEqual(rec.statuses, ['STALE']);
  const st = engine.refreshStats();
  assert.equal(st.failures, 3);
  assert.equal(st.consecutiveFailures, 3);
  assert.ok(logs.some(([level]) => level === 'error' || level === 'warn'), 'failures are logged');

  srv.mode = 'ok';
  srv.set(V2);
  await engine.refresh();
  assert.equal(engine.status, 'READY');
  assert.ok(await waitFor(() => rec.statuses.length === 2 && rec.changes.length === 1));
  assert.deepEqual(rec.statuses, ['STALE', 'READY']);
  assert.deepEqual(rec.changes[0].flagsChanged, ['added', 'color', 'gone']);
  assert.equal(engine.stringValue('color', 'x', {}), 'blue');
});

test('polling picks up changes; evaluations never fail while refreshes publish', async (t) => {
  const srv = await flagServer(t);
  const engine = await vexil.Engine.fromUrl(srv.url, { pollInterval: 1000, logger: false });
  t.after(() => engine.close());
  const rec = recorder(engine);
  srv.set(V2);
  assert.ok(await waitFor(() => rec.changes.length === 1, 4000), 'a poll saw the change');
  assert.equal(engine.stringValue('color', 'x', {}), 'blue');
  assert.ok(srv.requests >= 2);

  // Refreshes on the addon's threads while this thread evaluates.
  let flip = false;
  for (let round = 0; round < 10; round++) {
    srv.set((flip = !flip) ? V1 : V2);
    const p = engine.refresh();
    const end = Date.now() + 10;
    while (Date.now() < end) {
      const d = engine.stringDetails('color', 'x', { targetingKey: 'u' });
      assert.equal(d.reason, 'STATIC');
      assert.ok(d.value === 'red' || d.value === 'blue');
      // One configuration per answer, cached details included.
      assert.equal(d.flagMetadata.c, d.value);
      assert.equal(d.version, d.value === 'red' ? '1' : '2');
    }
    await p;
  }
});

test('fromUrl rejects when the first retrieval fails; startWithError and persistentFile start anyway', async (t) => {
  const srv = await flagServer(t);
  const dir = tmpDir(t);
  srv.mode = '500';
  await assert.rejects(vexil.Engine.fromUrl(srv.url, { logger: false }), (err) => err instanceof vexil.ConfigError);
  await assert.rejects(vexil.Engine.fromUrl(srv.url, { pollInterval: -1 }), TypeError);

  const engine = await vexil.Engine.fromUrl(srv.url, { pollInterval: 0, startWithError: true, logger: false });
  t.after(() => engine.close());
  assert.equal(engine.status, 'ERROR');
  assert.equal(engine.stringValue('color', 'default', {}), 'default');
  const rec = recorder(engine);
  srv.mode = 'ok';
  await engine.refresh();
  assert.equal(engine.status, 'READY');
  assert.equal(engine.stringValue('color', 'default', {}), 'red');
  assert.ok(await waitFor(() => rec.statuses.includes('READY')));

  // The last good configuration is persisted, and read back when the server fails.
  const persistentFile = path.join(dir, 'last-good.yaml');
  const saver = await vexil.Engine.fromUrl(srv.url, { pollInterval: 0, persistentFile, logger: false });
  await saver.close();
  assert.ok(fs.existsSync(persistentFile));
  srv.mode = '500';
  const restored = await vexil.Engine.fromUrl(srv.url, { pollInterval: 0, persistentFile, logger: false });
  t.after(() => restored.close());
  assert.equal(restored.status, 'READY');
  assert.equal(restored.stringValue('color', 'x', {}), 'red');
});

test('notifyOnStart: the first listener hears about the start-up load', async (t) => {
  const srv = await flagServer(t);
  const engine = await vexil.Engine.fromUrl(srv.url, { pollInterval: 0, notifyOnStart: true, logger: false });
  t.after(() => engine.close());
  const rec = recorder(engine);
  assert.ok(await waitFor(() => rec.changes.length === 1));
  assert.deepEqual(rec.changes[0].flagsChanged, ['color', 'gone', 'size']);
  assert.deepEqual(Object.keys(rec.changes[0].diff.added).sort(), ['color', 'gone', 'size']);
});

test('fromFile with pollInterval picks up file edits; load() notifies too', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'flags.json');
  fs.writeFileSync(file, JSON.stringify(V1));
  const engine = vexil.Engine.fromFile(file, { pollInterval: 1000, logger: false });
  t.after(() => engine.close());
  assert.equal(engine.status, 'READY');
  assert.equal(engine.stringValue('color', 'x', {}), 'red');
  const rec = recorder(engine);
  fs.writeFileSync(file, JSON.stringify(V2));
  assert.ok(await waitFor(() => rec.changes.length === 1, 4000), 'a poll saw the edit');
  assert.deepEqual(rec.changes[0].flagsChanged, ['added', 'color', 'gone']);
  assert.equal(engine.stringValue('color', 'x', {}), 'blue');

  engine.load({ ...V2, size: flag(2) });
  assert.ok(await waitFor(() => rec.changes.length === 2));
  assert.deepEqual(rec.changes[1].flagsChanged, ['size']);

  assert.throws(() => vexil.Engine.fromFile(path.join(dir, 'missing.json'), { pollInterval: 1000, logger: false }),
    vexil.ConfigError);
});

test('a throwing listener does not stop the others (its error is logged); unsubscribe works', async (t) => {
  const errors = [];
  const engine = new vexil.Engine(V1, { logger: { error: (m) => errors.push(m), warn() {} } });
  t.after(() => engine.close());
  const seen = [];
  engine.onChange(() => { throw new Error('listener failed'); });
  const off = engine.onChange((ev) => seen.push(ev.flagsChanged));
  engine.load(V2);
  assert.ok(await waitFor(() => seen.length === 1 && errors.length === 1));
  assert.match(errors[0], /change listener failed: Error: listener failed/);
  off();
  engine.load(V1);
  await delay(100);
  assert.equal(seen.length, 1);
});

test('closing with a poll in flight returns promptly', async (t) => {
  const srv = await flagServer(t);
  const engine = await vexil.Engine.fromUrl(srv.url, { pollInterval: 1000, timeout: 30000, logger: false });
  srv.mode = 'hang';
  assert.ok(await waitFor(() => srv.hanging === 1, 4000), 'a poll is waiting on the server');
  const refresh = engine.refresh().then(() => 'ok', (e) => e);
  await delay(50);
  const t0 = Date.now();
  await engine.close();
  // The request's own timeout is 30 s: the bound catches a close that waits for it.
  assert.ok(Date.now() - t0 < 10000, `close took ${Date.now() - t0} ms`);
  assert.notEqual(await refresh, 'ok');
  assert.equal(engine.stringValue('color', 'x', {}), 'red');
});

test('an idle polling engine with listeners does not keep the process alive', async (t) => {
  const srv = await flagServer(t);
  const r = await runNode(`
    const vexil = require(process.env.VEXIL);
    vexil.Engine.fromUrl(process.env.URL, { pollInterval: 1000, logger: false }).then((e) => {
      e.onChange(() => {});
      e.onStatusChange(() => {});
      console.log(e.stringValue('color', 'x', {}), e.status);
    });
  `, { env: { URL: srv.url } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'red READY');
  assert.ok(r.ms < 5000, `took ${r.ms} ms`);
});

test('addWebhookNotifier POSTs {meta, flags} signed with the secret', async (t) => {
  const srv = await flagServer(t);
  const engine = new vexil.Engine(V1, { logger: false });
  t.after(() => engine.close());
  engine.addWebhookNotifier({ url: srv.hookUrl, secret: 's3cret', meta: { app: 'test' }, headers: { 'X-Test': '1' } });
  assert.throws(() => engine.addWebhookNotifier({}), TypeError);
  engine.load(V2);
  assert.ok(await waitFor(() => srv.hooks.length === 1));
  const { headers, body } = srv.hooks[0];
  const doc = JSON.parse(body);
  assert.equal(doc.meta.app, 'test');
  assert.ok(doc.meta.hostname);
  assert.deepEqual(Object.keys(doc.flags.added), ['added']);
  assert.equal(headers['x-test'], '1');
  const sig = crypto.createHmac('sha256', 's3cret').update(body).digest('hex');
  assert.equal(headers['x-hub-signature-256'], `sha256=${sig}`);
});

test('provider: ConfigurationChanged, Stale and Ready through @openfeature/server-sdk', async (t) => {
  t.after(() => OpenFeature.close());
  const srv = await flagServer(t);
  const provider = new vexil.VexilProvider({ url: srv.url, pollInterval: 0, staleAfter: 1, logger: false });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  assert.equal(await client.getStringValue('color', 'x'), 'red');
  const events = [];
  for (const kind of [ProviderEvents.ConfigurationChanged, ProviderEvents.Stale, ProviderEvents.Ready]) {
    client.addHandler(kind, (d) => events.push([kind, d.flagsChanged]));
  }
  // The SDK runs a Ready handler at once when the provider is ready.
  assert.ok(await waitFor(() => events.length === 1));
  events.length = 0;
  srv.set(V2);
  await provider.engine.refresh();
  assert.ok(await waitFor(() => events.length === 1));
  assert.deepEqual(events[0], [ProviderEvents.ConfigurationChanged, ['added', 'color', 'gone']]);
  assert.equal(await client.getStringValue('color', 'x'), 'blue');

  srv.mode = '500';
  await assert.rejects(provider.engine.refresh(), vexil.ConfigError);
  assert.ok(await waitFor(() => events.length === 2));
  assert.equal(events[1][0], ProviderEvents.Stale);
  assert.equal(client.providerStatus, ProviderStatus.STALE);
  assert.equal(await client.getStringValue('color', 'x'), 'blue');

  srv.mode = 'ok';
  await provider.engine.refresh();
  assert.ok(await waitFor(() => events.length === 3));
  assert.equal(events[2][0], ProviderEvents.Ready);
  assert.equal(client.providerStatus, ProviderStatus.READY);
});

test('provider: startWithError is not ready until the first good refresh', async (t) => {
  t.after(() => OpenFeature.close());
  const srv = await flagServer(t);
  srv.mode = '500';
  const provider = new vexil.VexilProvider({ url: srv.url, pollInterval: 0, startWithError: true, logger: false });
  await assert.rejects(OpenFeature.setProviderAndWait(provider));
  const client = OpenFeature.getClient();
  assert.equal(client.providerStatus, ProviderStatus.ERROR);
  srv.mode = 'ok';
  await provider.engine.refresh();
  assert.ok(await waitFor(() => client.providerStatus === ProviderStatus.READY));
  assert.equal(await client.getStringValue('color', 'x'), 'red');

  // A URL that cannot be reached without startWithError: FATAL.
  srv.mode = '500';
  await assert.rejects(OpenFeature.setProviderAndWait('other', new vexil.VexilProvider({ url: srv.url, logger: false })));
  assert.equal(OpenFeature.getClient('other').providerStatus, ProviderStatus.FATAL);
});

test('closed engines with listeners are garbage-collected; live engines in workers end with them', async (t) => {
  const srv = await flagServer(t);
  const r = await runNode(`
    const vexil = require(process.env.VEXIL);
    const { Worker } = require('node:worker_threads');
    let finalized = 0;
    const registry = new FinalizationRegistry(() => { finalized++; });
    (async () => {
      for (let i = 0; i < 50; i++) {
        const e = new vexil.Engine({ f: { variations: { a: 1 }, defaultRule: { variation: 'a' } } }, { logger: false });
        e.onChange(() => e.intValue('f', 0)); // the listener holds the engine
        e.onStatusChange(() => {});
        registry.register(e, i);
        await e.close();
      }
      for (let k = 0; k < 10 && finalized < 50; k++) {
        await new Promise((r) => setTimeout(r, 20));
        global.gc();
      }
      console.log('finalized', finalized);
      const w = new Worker(\`
        const vexil = require(process.env.VEXIL);
        vexil.Engine.fromUrl(process.env.URL, { pollInterval: 1000, logger: false }).then((e) => {
          e.onChange(() => {});
          require('node:worker_threads').parentPort.postMessage(e.stringValue('color', 'x', {}));
        });
      \`, { eval: true });
      w.on('message', async (m) => { console.log('worker', m); await w.terminate(); console.log('terminated'); });
    })();
  `, { env: { NODE_OPTIONS: '--expose-gc', URL: srv.url } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /finalized 50/);
  assert.match(r.stdout, /worker red\nterminated/);
  assert.ok(r.ms < 8000, `took ${r.ms} ms`);
});
