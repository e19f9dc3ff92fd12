'use strict';
// The seed example (seeds/004: the OpenFeature "from-env" provider tutorial)
// through Engine.fromEnv(), with the tutorial's exact console output.
const test = require('node:test');
const assert = require('node:assert/strict');
const vexil = require('../../node/lib/index.js');

// What the tutorial's init() stores: json.Marshal of its StoredFlag (Go field
// order, the "variant" key of the struct tag, criteria as {key, value}).
const AM_I_YELLOW = JSON.stringify({
  defaultVariant: 'not-yellow',
  variant: [
    { criteria: [{ key: 'color', value: 'yellow' }], targetingKey: 'user', value: true, name: 'yellow-with-targeting' },
    { criteria: [{ key: 'color', value: 'yellow' }], targetingKey: '', value: true, name: 'yellow' },
    { criteria: [{ key: 'color', value: 'not yellow' }], targetingKey: '', value: false, name: 'not-yellow' },
  ],
});

test('seed: the from-env tutorial prints what its console output shows', (t) => {
  process.env.AM_I_YELLOW = AM_I_YELLOW;
  t.after(() => { delete process.env.AM_I_YELLOW; });
  const engine = vexil.Engine.fromEnv({ logger: false });

  // "I am yellow!"
  const yellow = engine.boolDetails('AM_I_YELLOW', false, { targetingKey: '', color: 'yellow' });
  assert.equal(yellow.value, true);
  assert.equal(yellow.variant, 'yellow');
  assert.equal(yellow.reason, 'TARGETING_MATCH');

  // "I am yellow with targeting!"
  const targeted = engine.boolDetails('AM_I_YELLOW', false, new vexil.Context('user', { color: 'yellow' }));
  assert.equal(targeted.value, true);
  assert.equal(targeted.variant, 'yellow-with-targeting');
  assert.equal(targeted.reason, 'TARGETING_MATCH');

  // "I am asking for a string!" -> value: i am a default value, error: TYPE_MISMATCH
  const str = engine.stringDetails('AM_I_YELLOW', 'i am a default value', { targetingKey: '', color: 'not yellow' });
  assert.equal(str.value, 'i am a default value');
  assert.equal(str.reason, 'ERROR');
  assert.equal(str.errorCode, 'TYPE_MISMATCH');
});

test('from-env: criteria maps, default variant, missing and broken flags', (t) => {
  process.env.VX_NODE_MAP = JSON.stringify({
    defaultVariant: 'off',
    variants: [
      { name: 'on', targetingKey: '', criteria: [{ color: 'yellow', size: 3 }], value: 'on' },
      { name: 'off', targetingKey: '', criteria: [{ color: 'blue' }], value: 'off' },
    ],
  });
  process.env.VX_NODE_BROKEN = '{"defaultVariant": ';
  t.after(() => { delete process.env.VX_NODE_MAP; delete process.env.VX_NODE_BROKEN; });
  const engine = vexil.Engine.fromEnv({ logger: false });
  assert.deepEqual(
    pick(engine.stringDetails('VX_NODE_MAP', 'd', { color: 'yellow', size: 3 })),
    ['on', 'on', 'TARGETING_MATCH', undefined],
  );
  assert.deepEqual(
    pick(engine.stringDetails('VX_NODE_MAP', 'd', { color: 'yellow', size: 4 })),
    ['off', 'off', 'DEFAULT', undefined],
  );
  assert.deepEqual(pick(engine.stringDetails('VX_NODE_UNSET', 'd', {})).slice(2), ['ERROR', 'FLAG_NOT_FOUND']);
  assert.deepEqual(pick(engine.stringDetails('VX_NODE_BROKEN', 'd', {})).slice(2), ['ERROR', 'PARSE_ERROR']);
});

function pick(d) {
  return [d.value, d.variant, d.reason, d.errorCode];
}
