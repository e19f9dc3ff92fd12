'use strict';
// vexil.VexilProvider through the real @openfeature/server-sdk.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { OpenFeature, ProviderEvents, ProviderStatus } = require('@openfeature/server-sdk');
const vexil = require('../../node/lib/index.js');
const { tmpDir, waitFor } = require('./helpers.js');

const FLAGS = {
  'bool-flag': {
    variations: { on: true, off: false },
    targeting: [{ name: 'pros', query: 'plan eq "pro"', variation: 'on' }],
    defaultRule: { variation: 'off' },
    metadata: { owner: 'team-a', nested: { x: 1 } },
    version: '3',
  },
  'my-flag': { variations: { A: 'value_A', B: 'value_B' }, defaultRule: { percentage: { A: 50, B: 50 } } },
  'num-flag': { variations: { a: 12.5 }, defaultRule: { variation: 'a' } },
  'obj-flag': { variations: { a: { theme: 'dark' } }, defaultRule: { variation: 'a' } },
  'off-flag': { variations: { a: 'x' }, defaultRule: { variation: 'a' }, disable: true },
};

test.afterEach(() => OpenFeature.close());

test('resolves every type through an OpenFeature client', async () => {
  const provider = new vexil.VexilProvider({ flags: FLAGS, logger: false });
  assert.equal(provider.metadata.name, 'vexil');
  assert.equal(provider.runsOn, 'server');
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  assert.equal(client.providerStatus, ProviderStatus.READY);

  const b = await client.getBooleanDetails('bool-flag', false, { targetingKey: 'u1', plan: 'pro' });
  assert.equal(b.value, true);
  assert.equal(b.variant, 'on');
  assert.equal(b.reason, 'TARGETING_MATCH');
  assert.deepEqual(b.flagMetadata, { owner: 'team-a', nested: '{"x":1}', evaluatedRuleName: 'pros' });

  const s = await client.getStringDetails('my-flag', 'd', { targetingKey: 'user-key' });
  assert.deepEqual([s.value, s.variant, s.reason], ['value_A', 'A', 'SPLIT']);
  assert.equal(await client.getNumberValue('num-flag', 0), 12.5);
  assert.deepEqual(await client.getObjectValue('obj-flag', {}), { theme: 'dark' });

  const off = await client.getStringDetails('off-flag', 'sdk', { targetingKey: 'u' });
  assert.deepEqual([off.value, off.reason, off.errorCode], ['sdk', 'DISABLED', undefined]);
});

test('type mismatches and missing flags are errors with the default value', async () => {
  await OpenFeature.setProviderAndWait(new vexil.VexilProvider({ flags: FLAGS, logger: false }));
  const client = OpenFeature.getClient();
  const cases = [
    ['getBooleanDetails', 'my-flag', false],
    ['getStringDetails', 'bool-flag', 'd'],
    ['getNumberDetails', 'obj-flag', 1],
    ['getObjectDetails', 'num-flag', { d: 1 }],
  ];
  for (const [method, key, dflt] of cases) {
    const d = await client[method](key, dflt, { targetingKey: 'u' });
    assert.equal(d.errorCode, 'TYPE_MISMATCH', `${method} ${key}`);
    assert.equal(d.reason, 'ERROR');
    assert.deepEqual(d.value, dflt);
  }
  const nf = await client.getBooleanDetails('missing', true, { targetingKey: 'u' });
  assert.deepEqual([nf.value, nf.errorCode, nf.reason], [true, 'FLAG_NOT_FOUND', 'ERROR']);
  const bad = await client.getBooleanDetails('bool-flag', true, { targetingKey: 'u', plan: Symbol('p') });
  assert.deepEqual([bad.value, bad.reason], [true, 'ERROR']);
});

test('the provider also does its own type check (direct resolver calls)', async () => {
  const engine = new vexil.Engine({ 'num-flag': FLAGS['num-flag'] }, { logger: false });
  const provider = new vexil.VexilProvider(engine);
  assert.equal(provider.engine, engine);
  const r = await provider.resolveObjectEvaluation('num-flag', {}, {});
  assert.equal(r.errorCode, 'TYPE_MISMATCH');
  const ok = await provider.resolveNumberEvaluation('num-flag', 0, {});
  assert.deepEqual(ok, { value: 12.5, variant: 'a', reason: 'STATIC', flagMetadata: {} });
  await provider.onClose();
  assert.equal(engine.closed, true);
});

test('ConfigurationChanged with flagsChanged after engine.load()', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'flags.json');
  fs.writeFileSync(file, JSON.stringify(FLAGS));
  const provider = new vexil.VexilProvider({ file, logger: false });
  await OpenFeature.setProviderAndWait(provider);
  const events = [];
  OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (details) => events.push(details.flagsChanged));
  const changed = { ...FLAGS, 'bool-flag': { ...FLAGS['bool-flag'], version: '4' }, 'new-flag': FLAGS['num-flag'] };
  delete changed['off-flag'];
  provider.engine.load(changed);
  provider.engine.load(changed); // no change: no event
  assert.ok(await waitFor(() => events.length === 1));
  assert.deepEqual(events[0], ['bool-flag', 'new-flag', 'off-flag']);
  fs.writeFileSync(file, JSON.stringify(FLAGS));
  provider.engine.loadFile(file);
  assert.ok(await waitFor(() => events.length === 2));
  assert.deepEqual(events[1], ['bool-flag', 'new-flag', 'off-flag']);
  OpenFeature.removeHandler(ProviderEvents.ConfigurationChanged);
});

test('a broken flag file makes initialization fail (FATAL)', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, 'a: [1, 2');
  const provider = new vexil.VexilProvider({ file, logger: false });
  await assert.rejects(OpenFeature.setProviderAndWait(provider));
  const client = OpenFeature.getClient();
  assert.equal(client.providerStatus, ProviderStatus.FATAL);
  const d = await client.getBooleanDetails('x', true);
  assert.equal(d.value, true);
  assert.equal(d.reason, 'ERROR');
});

test('track() reaches tracking exporters; close() flushes them', async () => {
  const engine = new vexil.Engine(FLAGS, { logger: false });
  const got = [];
  engine.addExporter((events) => { got.push(...events); }, { eventType: 'tracking', flushInterval: 3600000 });
  await OpenFeature.setProviderAndWait(new vexil.VexilProvider(engine));
  const client = OpenFeature.getClient();
  OpenFeature.setContext({ region: 'eu' });
  client.track('checkout', { targetingKey: 'u7', plan: 'pro' }, { value: 42, currency: 'EUR' });
  await OpenFeature.close(); // onClose closes the engine, which delivers the event
  assert.equal(engine.closed, true);
  assert.equal(got.length, 1);
  assert.equal(got[0].key, 'checkout');
  assert.equal(got[0].userKey, 'u7');
  assert.deepEqual(got[0].evaluationContext, { plan: 'pro', region: 'eu', targetingKey: 'u7' });
  assert.deepEqual(got[0].trackingEventDetails, { value: 42, currency: 'EUR' });
});
