'use strict';
// Bad input throws (TypeError, ConfigError) or gives ERROR results: it never crashes.
const test = require('node:test');
const assert = require('node:assert/strict');
const vexil = require('../../node/lib/index.js');

const FLAGS = {
  rule: {
    variations: { y: 'yes', n: 'no' },
    targeting: [{ query: 'attr eq "v"', variation: 'y' }],
    defaultRule: { variation: 'n' },
  },
  jl: {
    variations: { y: 'yes', n: 'no' },
    targeting: [{ query: JSON.stringify({ '==': [{ var: 'deep.a' }, 1] }), variation: 'y' }],
    defaultRule: { variation: 'n' },
  },
};
const engine = () => new vexil.Engine(FLAGS, { logger: false });

function deep(levels) {
  let v = 'leaf';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

test('wrong argument types throw TypeError', () => {
  const e = engine();
  for (const key of [undefined, null, 42, Symbol('k'), {}, ['rule']]) {
    assert.throws(() => e.stringValue(key, 'd'), TypeError);
  }
  assert.throws(() => e.boolValue('rule', 'true'), TypeError);
  assert.throws(() => e.stringValue('rule', 1), TypeError);
  assert.throws(() => e.intValue('rule', '1'), TypeError);
  assert.throws(() => e.floatValue('rule', null), TypeError);
  assert.throws(() => e.objectValue('rule', 'str'), TypeError);
  for (const ctx of [42, 'ctx', Symbol('c'), true, () => {}]) {
    assert.throws(() => e.stringValue('rule', 'd', ctx), TypeError);
  }
  assert.throws(() => e.stringValue('rule', 'd', { targetingKey: 7 }), TypeError);
  assert.throws(() => e.stringValue('rule', 'd', { targetingKey: Symbol('k') }), TypeError);
  // The key is converted only when the flag reads it: then a NUL is an ERROR result.
  assert.throws(() => new vexil.Context('a\0b'), TypeError);
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'a\0b', attr: 'v' }), 'yes');
  const split = new vexil.Engine({ s: { variations: { a: 'x', b: 'y' }, defaultRule: { percentage: { a: 50, b: 50 } } } });
  const nul = split.stringDetails('s', 'd', { targetingKey: 'a\0b' });
  assert.equal(nul.value, 'd');
  assert.equal(nul.errorCode, 'GENERAL');
  assert.match(nul.errorMessage, /NUL/);
  assert.throws(() => e.stringValue('rule', 'd', { get targetingKey() { throw new Error('no'); } }), TypeError);
  assert.throws(() => new vexil.Context(12), TypeError);
  assert.throws(() => new vexil.Context('k', [1, 2]), TypeError);
  assert.throws(() => new vexil.Context('k', 'attrs'), TypeError);
  assert.throws(() => e.track(1, {}), TypeError);
  assert.throws(() => e.load(42), TypeError);
  assert.throws(() => new vexil.Engine(FLAGS, { logLevel: 'loud' }), TypeError);
  assert.throws(() => new vexil.Engine(FLAGS, { enrichment: [1] }), TypeError);
  assert.throws(() => new vexil.Engine(FLAGS, { format: 'xml' }), TypeError);
  assert.throws(() => e.flush(-5), TypeError);
  // The same checks with a Context (its own fast path).
  const ctx = new vexil.Context('u', { attr: 'v' });
  assert.throws(() => e.boolValue('rule', 'true', ctx), TypeError);
  assert.throws(() => e.boolValue('rule', undefined, ctx), TypeError);
  assert.throws(() => e.stringValue('rule', 1, ctx), TypeError);
  assert.throws(() => e.stringValue('rule', undefined, ctx), TypeError);
  assert.throws(() => e.intValue('rule', '1', ctx), TypeError);
  assert.throws(() => e.intValue('rule', 1n, ctx), TypeError);
  assert.throws(() => e.numberValue('rule', null, ctx), TypeError);
  assert.throws(() => e.floatValue('rule', null, ctx), TypeError);
  assert.throws(() => e.objectValue('rule', 'str', ctx), TypeError);
  for (const key of [undefined, null, 42, Symbol('k'), {}]) {
    assert.throws(() => e.boolValue(key, false, ctx), TypeError);
  }
  assert.equal(e.stringValue('rule', 'd', ctx), 'yes');
  assert.equal(e.intValue('rule', Infinity, ctx), Infinity); // a type mismatch: the default, as given
  // null and undefined contexts are anonymous evaluations
  assert.equal(e.stringValue('rule', 'd', null), 'no');
  assert.equal(e.stringValue('rule', 'd'), 'no');
});

test('values a rule reads lazily and cannot use give ERROR results', () => {
  const e = engine();
  const cyclic = { targetingKey: 'u' };
  cyclic.attr = cyclic;
  const cases = [
    { targetingKey: 'u', attr: Symbol('s') },
    { targetingKey: 'u', attr() {} },
    cyclic,
    { targetingKey: 'u', attr: deep(300) },
    { targetingKey: 'u', attr: 2n ** 70n },
    { targetingKey: 'u', get attr() { throw new RangeError('getter says no'); } },
    new Proxy({ targetingKey: 'u' }, { get(t, k) { if (k === 'attr') throw new Error('trap'); return t[k]; } }),
  ];
  for (const ctx of cases) {
    assert.equal(e.stringValue('rule', 'dflt', ctx), 'dflt');
    const d = e.stringDetails('rule', 'dflt', ctx);
    assert.equal(d.reason, 'ERROR');
    assert.equal(d.errorCode, 'GENERAL');
    assert.match(d.errorMessage, /attr/);
  }
  assert.match(e.stringDetails('rule', 'd', cases[5]).errorMessage, /getter says no/);
  // an attribute the rule does not read is never looked at
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'u', attr: 'v', other: Symbol('x') }), 'yes');
  // inherited properties (toString, __proto__) are not attributes
  const proto = engine();
  proto.load({ p: { variations: { y: 'y', n: 'n' }, targeting: [{ query: 'toString eq "x" or __proto__ eq "x"', variation: 'y' }], defaultRule: { variation: 'n' } } });
  assert.equal(proto.stringDetails('p', 'd', { targetingKey: 'u' }).reason, 'DEFAULT');
});

test('eager conversions (Context, track, defaults) throw TypeError on the same values', () => {
  const e = engine();
  const cyclic = {};
  cyclic.self = cyclic;
  assert.throws(() => new vexil.Context('u', { a: Symbol('s') }), /symbol/);
  assert.throws(() => new vexil.Context('u', { a: cyclic }), /deeper than 256/);
  assert.throws(() => new vexil.Context('u', { a: () => 1 }), /function/);
  assert.throws(() => new vexil.Context('u', { get a() { throw new Error('bad getter'); } }), /bad getter/);
  assert.throws(() => e.track('t', { targetingKey: 'u', a: cyclic }), TypeError);
  assert.throws(() => e.track('t', { targetingKey: 'u' }, { details: cyclic }), TypeError);
  assert.throws(() => e.load({ a: cyclic }), TypeError);
  e.addExporter(() => {}); // with feature events on, object defaults are converted
  assert.throws(() => e.objectValue('rule', { a: cyclic }), TypeError);
  return e.close();
});

test('deep but legal nesting, huge contexts and odd strings work', () => {
  const e = engine();
  assert.equal(e.stringValue('jl', 'd', { targetingKey: 'u', deep: { a: 1, pad: deep(200) } }), 'yes');
  const big = { targetingKey: 'u', attr: 'v' };
  for (let i = 0; i < 100000; i++) big[`k${i}`] = i;
  assert.equal(e.stringValue('rule', 'd', big), 'yes');
  const { targetingKey, ...attrs } = big;
  assert.equal(e.stringValue('rule', 'd', new vexil.Context(targetingKey, attrs)), 'yes');
  assert.throws(() => new vexil.Context('u', { a: new Array(1_100_000).fill(0) }), /1,000,000/);
  assert.equal(e.stringValue('rule', 'd', { targetingKey: '\uD800lone', attr: 'v' }), 'yes');
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'u', attr: 'v\0x' }), 'no');
});

test('non-ASCII text goes through unchanged, short and long', async () => {
  const text = new vexil.Engine({ t: { variations: { y: 'y', n: 'n' }, targeting: [{ query: 'attr eq "héllo €uro 😀 ✓"', variation: 'y' }], defaultRule: { variation: 'n' } } }, { logger: false });
  assert.equal(text.stringValue('t', 'd', { targetingKey: 'ü', attr: 'héllo €uro 😀 ✓' }), 'y');
  assert.equal(text.stringValue('t', 'd', new vexil.Context('ü'.repeat(200), { attr: 'héllo €uro 😀 ✓' })), 'y');
  assert.equal(text.stringValue('t', 'd', { targetingKey: 'u', attr: 'héllo €uro 😀 ✗' }), 'n');
  const events = [];
  text.addExporter((evs) => { events.push(...evs); });
  text.stringValue('t', 'd', { targetingKey: 'clé-😀'.repeat(30), attr: 'x' });
  await text.flush();
  assert.equal(events[0].userKey, 'clé-😀'.repeat(30));
  await text.close();
});

test('more odd values', () => {
  const e = engine();
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'x'.repeat(100000), attr: 'v' }), 'yes');
  assert.equal(e.stringValue('x'.repeat(5000), 'd'), 'd');
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'u', attr: 2n ** 40n }), 'no');
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'u', attr: NaN }), 'no');
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'u', attr: new Date(NaN) }), 'no');
  assert.equal(e.stringValue('rule', 'd', Object.create(null)), 'no');
});

test('invalid flag documents throw ConfigError', () => {
  const e = engine();
  const docs = [
    '{"a": ',
    'a: [1, 2',
    '"just a string"',
    '[1, 2, 3]',
    '{"a": ' + '['.repeat(300) + ']'.repeat(300) + '}',
    'a: &x [*x]',
    '\u0000\u0001binary',
  ];
  for (const doc of docs) {
    assert.throws(() => e.load(doc), (err) => err instanceof vexil.ConfigError && typeof err.code === 'string', doc.slice(0, 20));
  }
  assert.equal(e.stringValue('rule', 'd', { targetingKey: 'u', attr: 'v' }), 'yes');
});
