'use strict';
// The event loop, process exit and worker threads. Each case runs in a child
// process: what is under test is how (and whether) that process ends.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tmpDir, runNode } = require('./helpers.js');

const FLAGS = "{ f: { variations: { a: 'x', b: 'y' }, defaultRule: { percentage: { a: 50, b: 50 } } } }";

test('an idle engine does not keep the process alive', async () => {
  const r = await runNode(`
    const vexil = require(process.env.VEXIL);
    const e = new vexil.Engine(${FLAGS}, { logger: false });
    e.addExporter(() => {}, { flushInterval: 3600000 });
    e.addExporter(vexil.LogExporter({ log: () => {} }));
    e.stringValue('f', '', { targetingKey: 'u' });
    e.flush().then((ok) => console.log('flushed', ok));
    new vexil.Engine(${FLAGS}, { logger: false }); // no exporters at all
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /flushed true/);
  assert.ok(r.ms < 5000, `took ${r.ms} ms`);
});

test('pending events are flushed at beforeExit, once', async () => {
  const r = await runNode(`
    const vexil = require(process.env.VEXIL);
    const e = new vexil.Engine(${FLAGS}, { logger: false });
    let n = 0;
    e.addExporter(async (events) => { n += events.length; }, { flushInterval: 3600000 });
    for (let i = 0; i < 25; i++) e.stringValue('f', '', { targetingKey: 'u' + i });
    process.on('exit', () => console.log('delivered', n));
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /delivered 25/);
});

test('an exporter that keeps failing does not keep the process alive at exit', async () => {
  const r = await runNode(`
    const vexil = require(process.env.VEXIL);
    const e = new vexil.Engine(${FLAGS}, { logger: false, exitTimeout: 300 });
    e.addExporter(() => false, { flushInterval: 3600000, retryInitial: 50 });
    e.stringValue('f', '', { targetingKey: 'u' });
    process.on('exit', () => console.log('dropped', e.stats().dropped));
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /dropped 1/);
  assert.ok(r.ms < 10000, `took ${r.ms} ms`);
});

test('process.exit(): built-in exporters still deliver (synchronous close at exit)', async (t) => {
  const dir = tmpDir(t);
  const r = await runNode(`
    const vexil = require(process.env.VEXIL);
    const e = new vexil.Engine(${FLAGS}, { logger: false });
    e.addExporter(vexil.FileExporter({ outputDir: ${JSON.stringify(dir)}, filename: 'out.json' }), { flushInterval: 3600000 });
    for (let i = 0; i < 5; i++) e.stringValue('f', '', { targetingKey: 'u' + i });
    process.exit(3);
  `);
  assert.equal(r.code, 3, r.stderr);
  const lines = fs.readFileSync(path.join(dir, 'out.json'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 5);
});

test('ESM: top-level await of flush() and close() finishes', async () => {
  const file = path.join(__dirname, 'fixtures', 'esm_close.mjs');
  const r = await runNode(`import(${JSON.stringify(file)})`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'esm ok 3 true 3');
});

test('engines in worker threads, each with its own exporter', async () => {
  const r = await runNode(`
    const { Worker } = require('node:worker_threads');
    const code = \`
      const { parentPort, workerData } = require('node:worker_threads');
      const vexil = require(process.env.VEXIL);
      const e = new vexil.Engine(${FLAGS}, { logger: false });
      let got = 0;
      e.addExporter(async (events) => { got += events.length; });
      let a = 0;
      for (let i = 0; i < 200; i++) if (e.stringValue('f', '', { targetingKey: 'w' + workerData + '-' + i }) === 'x') a++;
      // A second engine in the same worker: Contexts answer as plain objects do.
      const e2 = new vexil.Engine(${FLAGS}, { logger: false });
      let same = 0;
      for (let i = 0; i < 200; i++) {
        const k = 'w' + workerData + '-' + i;
        if (e2.stringValue('f', '', new vexil.Context(k)) === e2.stringValue('f', '', { targetingKey: k })) same++;
      }
      e.close().then(() => parentPort.postMessage({ a, got, same }));
    \`;
    const runs = [0, 1, 2, 3].map((id) => new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: id });
      w.once('message', resolve);
      w.once('error', reject);
    }));
    // A worker terminated with an engine still holding events must not crash the process.
    const doomed = new Worker(\`
      const vexil = require(process.env.VEXIL);
      const e = new vexil.Engine(${FLAGS}, { logger: false });
      e.addExporter(() => new Promise(() => {}), { bulk: false });
      e.addExporter(vexil.FileExporter({ outputDir: require('node:os').tmpdir() + '/vexil-doomed' }), { flushInterval: 3600000 });
      setInterval(() => e.stringValue('f', '', { targetingKey: 'd' }), 1);
    \`, { eval: true });
    Promise.all(runs).then(async (results) => {
      await new Promise((r) => setTimeout(r, 100));
      await doomed.terminate();
      console.log(JSON.stringify(results));
    });
  `, { timeout: 30000 });
  assert.equal(r.code, 0, r.stderr);
  const results = JSON.parse(r.stdout);
  assert.equal(results.length, 4);
  for (const { a, got, same } of results) {
    assert.equal(got, 200);
    assert.equal(same, 200);
    assert.ok(a > 60 && a < 140, String(a));
  }
});

test('engines without exporters, and closed ones, are garbage-collected', async () => {
  const r = await runNode(`
    const vexil = require(process.env.VEXIL);
    async function round(n) {
      for (let i = 0; i < n; i++) {
        const e = new vexil.Engine(${FLAGS}, { logger: false });
        e.stringValue('f', '', new vexil.Context('u' + i));
        if (i % 10 === 0) {
          e.addExporter(async () => {});
          e.addExporter(vexil.LogExporter({ log: () => {} }));
          e.stringValue('f', '', { targetingKey: 'x' });
          if (i % 20 === 0) await e.close(); else e.closeSync();
        }
      }
      global.gc();
      await new Promise((r) => setTimeout(r, 20));
      global.gc();
    }
    (async () => {
      // Two warm-up rounds: glibc caches the stacks of finished threads (up
      // to 40 MiB), which looks like growth but is bounded.
      await round(1000);
      await round(1000);
      const before = process.memoryUsage().rss;
      for (let k = 0; k < 3; k++) await round(1000);
      console.log('rss growth MB', Math.round((process.memoryUsage().rss - before) / 1e6));
    })();
  `, { env: { NODE_OPTIONS: '--expose-gc' }, timeout: 60000 });
  assert.equal(r.code, 0, r.stderr);
  const mb = Number(r.stdout.match(/rss growth MB (-?\d+)/)[1]);
  assert.ok(mb < 60, `rss grew ${mb} MB`);
});

test('engines collected by GC give their table slots to new engines; each still answers its own flags', async () => {
  const r = await runNode(`
    const assert = require('node:assert/strict');
    const vexil = require(process.env.VEXIL);
    const make = (n) => new vexil.Engine({ f: { variations: { a: 'e' + n }, defaultRule: { variation: 'a' } } }, { logger: false });
    const ctx = new vexil.Context('u');
    const kept = [];
    for (let n = 0; n < 200; n++) {
      const e = make(n);
      assert.equal(e.stringValue('f', '', ctx), 'e' + n);
      if (n % 10 === 0) kept.push([n, e]);
    }
    (async () => {
      for (let i = 0; i < 3; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
      for (let n = 200; n < 400; n++) kept.push([n, make(n)]);
      for (const [n, e] of kept) {
        assert.equal(e.stringValue('f', '', ctx), 'e' + n);
        assert.equal(e.boolValue('f', true, ctx), true);
      }
      console.log('ok', kept.length);
    })();
  `, { env: { NODE_OPTIONS: '--expose-gc' }, timeout: 60000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok 220/);
});
