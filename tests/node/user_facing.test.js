'use strict';
// What a new user meets first: error messages that name the file and show
// one position, stats with Python's names (camelCase), and the defaults.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vexil = require('../../node/lib/index.js');
const { tmpDir } = require('./helpers.js');

const FLAGS = { f: { variations: { a: 1 }, defaultRule: { variation: 'a' } } };

test('cannot open: the message names the file', (t) => {
  const missing = path.join(tmpDir(t), 'nope', 'flags.yaml');
  assert.throws(() => vexil.Engine.fromFile(missing), (err) => {
    assert.ok(err instanceof vexil.ConfigError);
    assert.equal(err.message, `cannot open ${missing}: No such file or directory`);
    return true;
  });
});

test('a YAML error shows one position', (t) => {
  const bad = path.join(tmpDir(t), 'bad.yaml');
  fs.writeFileSync(bad, 'a:\n  b: 1\n c: 2\n');
  assert.throws(() => vexil.Engine.fromFile(bad), (err) => {
    assert.equal(err.message, 'did not find expected key (line 3, column 2)');
    assert.deepEqual([err.line, err.column], [3, 2]);
    return true;
  });
});

test("stats: Python's names and shape, camelCased", async () => {
  const e = new vexil.Engine(FLAGS, { logger: false });
  e.addExporter(() => true, { name: 'sink' });
  e.addExporter(() => true, { name: 'other' });
  e.intValue('f', 0, { targetingKey: 'u' });
  assert.equal(await e.flush(), true);
  const s = e.stats();
  const counters = ['exported', 'failedAttempts', 'dropped', 'pending', 'retainedBytes'];
  assert.deepEqual(Object.keys(s), [...counters, 'exporters']);
  assert.deepEqual(Object.keys(s.exporters).sort(), ['other', 'sink']);
  assert.deepEqual(Object.keys(s.exporters.sink), counters);
  assert.equal(s.exported, 2);
  assert.equal(s.exporters.sink.exported, 1);
  await e.close();
});

test('flush() and close() wait 5 s by default, as in Python (stated in the .d.ts too)', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', '..', 'node', 'lib', 'index.d.ts'), 'utf8');
  assert.match(dts, /flush\(timeoutMs\?: number\)/);
  assert.match(dts, /waiting up to timeoutMs \(default 5000\)/);
  assert.match(dts, /within timeoutMs, default 5000/);
  assert.match(dts, /exit-time delivery may take \(default 5000/);
  const src = fs.readFileSync(path.join(__dirname, '..', '..', 'node', 'lib', 'index.js'), 'utf8');
  assert.match(src, /const DEFAULT_WAIT_MS = 5000;/);
  assert.match(src, /flush\(timeout = DEFAULT_WAIT_MS\)/);
  assert.match(src, /close\(timeout = DEFAULT_WAIT_MS\)/);
});
