'use strict';
// Evaluation through the JS API, with GOFF's semantics (reference/goff-semantics.md).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vexil = require('../../node/lib/index.js');
const { tmpDir } = require('./helpers.js');

const quiet = { logger: false };

const FLAGS = {
  'my-flag': { variations: { A: 'value_A', B: 'value_B' }, defaultRule: { percentage: { A: 50, B: 50 } } },
  'bucketed': {
    variations: { A: 'A', B: 'B' }, bucketingKey: 'teamId',
    defaultRule: { percentage: { A: 33, B: 67 } },
  },
  'TEST': {
    variations: { enable: true, disable: false },
    targeting: [{ query: 'key eq "random-key"', percentage: { enable: 90, disable: 10 } }],
    defaultRule: { variation: 'disable' },
  },
  'beta': {
    variations: { on: true, off: false },
    targeting: [{ name: 'beta users', query: 'beta eq true and email ew "@example.com"', variation: 'on' }],
    defaultRule: { variation: 'off' },
    version: '1.2.0',
    metadata: { description: 'demo' },
  },
  'static-num': { variations: { a: 42, b: 3.5 }, defaultRule: { variation: 'a' } },
  'float-num': { variations: { a: 3.75 }, defaultRule: { variation: 'a' } },
  'obj': { variations: { a: { color: 'red', sizes: [1, 2] } }, defaultRule: { variation: 'a' } },
  'off': { variations: { a: 'x' }, defaultRule: { variation: 'a' }, disable: true },
  'env-flag': {
    variations: { prod: 'prod', other: 'other' },
    targeting: [{ query: 'env eq "production"', variation: 'prod' }],
    defaultRule: { variation: 'other' },
  },
  'plan-flag': {
    variations: { pro: 'pro', free: 'free' },
    targeting: [{ query: 'plan eq "pro"', variation: 'pro' }],
    defaultRule: { variation: 'free' },
  },
};

test('percentage split: my-flag + user-key -> A with reason SPLIT (GOFF test)', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  const d = e.stringDetails('my-flag', 'default', { targetingKey: 'user-key' });
  assert.equal(d.value, 'value_A');
  assert.equal(d.variant, 'A');
  assert.equal(d.reason, 'SPLIT');
  assert.equal(d.errorCode, undefined);
  assert.equal(e.stringValue('my-flag', 'default', new vexil.Context('user-key')), 'value_A');
});

test('bucketingKey (GOFF test): user-key -> A, team-123 -> B, company-456 -> B, missing -> TARGETING_KEY_MISSING', () => {
  const e = new vexil.Engine({ 'my-flag': FLAGS.bucketed }, quiet);
  const plain = new vexil.Engine({ 'my-flag': { ...FLAGS.bucketed, bucketingKey: undefined } }, quiet);
  assert.equal(plain.stringValue('my-flag', '?', { targetingKey: 'user-key' }), 'A');
  assert.equal(e.stringValue('my-flag', '?', { targetingKey: 'user-key', teamId: 'team-123' }), 'B');
  assert.equal(e.stringValue('my-flag', '?', { targetingKey: 'user-key', teamId: 'company-456' }), 'B');
  const d = e.stringDetails('my-flag', '?', { targetingKey: 'user-key' });
  assert.equal(d.value, '?');
  assert.equal(d.reason, 'ERROR');
  assert.equal(d.errorCode, 'TARGETING_KEY_MISSING');
});

test('targeting rule with a split: TARGETING_MATCH_SPLIT', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  const d = e.boolDetails('TEST', false, { targetingKey: 'random-key' });
  assert.deepEqual([d.value, d.variant, d.reason], [true, 'enable', 'TARGETING_MATCH_SPLIT']);
});

test('named rule: metadata with evaluatedRuleName, version', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  const ctx = { targetingKey: 'u1', beta: true, email: 'a@example.com' };
  const d = e.boolDetails('beta', false, ctx);
  assert.equal(d.value, true);
  assert.equal(d.reason, 'TARGETING_MATCH');
  assert.equal(d.version, '1.2.0');
  assert.deepEqual(d.flagMetadata, { description: 'demo', evaluatedRuleName: 'beta users' });
  assert.equal(d.trackEvents, true);
  const miss = e.boolDetails('beta', true, { targetingKey: 'u1', beta: false, email: 'a@example.com' });
  assert.deepEqual([miss.value, miss.variant, miss.reason], [false, 'off', 'DEFAULT']);
});

test('plain objects and Context give the same answers', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  for (const [key, attrs] of [['u1', { beta: true, email: 'x@example.com' }], ['u2', { beta: false }], ['u3', {}]]) {
    const fromObj = e.boolDetails('beta', false, { targetingKey: key, ...attrs });
    const fromCtx = e.boolDetails('beta', false, new vexil.Context(key, attrs));
    assert.deepEqual(fromObj, fromCtx);
  }
});

test('typed values: int, float, number, object; type mismatch and not found', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  assert.equal(e.intValue('static-num', 0), 42);
  assert.equal(e.numberValue('static-num', 0), 42);
  assert.equal(e.floatValue('float-num', 0), 3.75);
  assert.equal(e.intValue('float-num', 0), 3); // truncated toward zero, as GOFF does
  assert.deepEqual(e.objectValue('obj', {}), { color: 'red', sizes: [1, 2] });
  const dflt = { fallback: true };
  assert.equal(e.objectValue('nope', dflt), dflt); // the default itself
  const mm = e.boolDetails('my-flag', true, { targetingKey: 'x' });
  assert.deepEqual([mm.value, mm.reason, mm.errorCode, mm.variant], [true, 'ERROR', 'TYPE_MISMATCH', 'SdkDefault']);
  const nf = e.stringDetails('nope', 'd');
  assert.deepEqual([nf.value, nf.reason, nf.errorCode], ['d', 'ERROR', 'FLAG_NOT_FOUND']);
  assert.equal(typeof nf.errorMessage, 'string');
});

test('disabled flag: default value, reason DISABLED, no error', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  const d = e.stringDetails('off', 'sdk', { targetingKey: 'u' });
  assert.deepEqual([d.value, d.reason, d.errorCode], ['sdk', 'DISABLED', undefined]);
});

test('environment and enrichment options reach the rules', () => {
  const e = new vexil.Engine(FLAGS, { ...quiet, environment: 'production', enrichment: { plan: 'pro' } });
  assert.equal(e.stringValue('env-flag', '?', { targetingKey: 'u' }), 'prod');
  assert.equal(e.stringValue('plan-flag', '?', { targetingKey: 'u', plan: 'free' }), 'pro'); // enrichment wins
  const plain = new vexil.Engine(FLAGS, quiet);
  assert.equal(plain.stringValue('env-flag', '?', { targetingKey: 'u' }), 'other');
});

test('YAML text, JSON text, Buffer and files', (t) => {
  const yaml = 'f:\n  variations:\n    a: 1\n    b: 2\n  defaultRule:\n    variation: b\n';
  assert.equal(new vexil.Engine(yaml, quiet).intValue('f', 0), 2);
  assert.equal(new vexil.Engine(JSON.stringify(FLAGS), quiet).intValue('static-num', 0), 42);
  assert.equal(new vexil.Engine(Buffer.from(yaml), quiet).intValue('f', 0), 2);
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'flags.yaml'), yaml);
  fs.writeFileSync(path.join(dir, 'flags.json'), JSON.stringify(FLAGS));
  assert.equal(vexil.Engine.fromFile(path.join(dir, 'flags.yaml'), quiet).intValue('f', 0), 2);
  const e = vexil.Engine.fromFile(path.join(dir, 'flags.json'), quiet);
  assert.equal(e.stringValue('my-flag', '', { targetingKey: 'user-key' }), 'value_A');
  assert.deepEqual(e.flagKeys(), Object.keys(FLAGS).sort());
  e.loadFile(path.join(dir, 'flags.yaml'));
  assert.deepEqual(e.flagKeys(), ['f']);
});

test('load() throws ConfigError with position and keeps the last good configuration', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  assert.throws(() => e.load('{"f": {"variations": '), (err) => {
    assert.ok(err instanceof vexil.ConfigError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.code, 'VX_EPARSE');
    assert.equal(err.line, 1);
    assert.ok(err.column > 1);
    return true;
  });
  assert.equal(e.stringValue('my-flag', '', { targetingKey: 'user-key' }), 'value_A');
  assert.throws(() => e.load('[1, 2]'), vexil.ConfigError);
  assert.throws(() => vexil.Engine.fromFile('/nonexistent/flags.yaml', quiet), (err) => err instanceof vexil.ConfigError && err.code === 'VX_EIO');
  assert.throws(() => new vexil.Engine('a: [\n  b', quiet), vexil.ConfigError);
});

test('invalid flags are dropped and logged at WARN through the logger option', () => {
  const lines = [];
  const e = new vexil.Engine({ good: FLAGS['static-num'], bad: { variations: { a: 1 } } }, {
    logger: (level, message) => lines.push([level, message]),
  });
  assert.deepEqual(e.flagKeys(), ['good']);
  assert.ok(lines.some(([level, m]) => level === 'warn' && m.includes('bad')), JSON.stringify(lines));
  assert.equal(e.intDetails('bad', 7).errorCode, 'FLAG_NOT_FOUND');
});

test('nested attributes, arrays, numbers and dates in contexts', () => {
  const e = new vexil.Engine({
    nested: { variations: { y: true, n: false }, targeting: [{ query: 'company.id eq "acme" and age gt 17', variation: 'y' }], defaultRule: { variation: 'n' } },
    jl: { variations: { y: true, n: false }, targeting: [{ query: JSON.stringify({ in: ['b', { var: 'tags' }] }), variation: 'y' }], defaultRule: { variation: 'n' } },
    when: { variations: { y: true, n: false }, targeting: [{ query: 'signup eq "2024-05-01T10:00:00.000Z"', variation: 'y' }], defaultRule: { variation: 'n' } },
  }, quiet);
  assert.equal(e.boolValue('nested', false, { targetingKey: 'u', company: { id: 'acme' }, age: 18 }), true);
  assert.equal(e.boolValue('nested', true, { targetingKey: 'u', company: { id: 'acme' }, age: 17 }), false);
  assert.equal(e.boolValue('jl', false, { targetingKey: 'u', tags: ['a', 'b'] }), true);
  assert.equal(e.boolValue('jl', false, new vexil.Context('u', { tags: ['a', 'b'] })), true);
  assert.equal(e.boolValue('when', false, { targetingKey: 'u', signup: new Date('2024-05-01T10:00:00Z') }), true);
});

test('a getter that evaluates on the same engine (re-entrancy) works', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  const ctx = {
    targetingKey: 'u1',
    get plan() { return e.stringValue('my-flag', '', { targetingKey: 'user-key' }) === 'value_A' ? 'pro' : 'free'; },
  };
  assert.equal(e.stringValue('plan-flag', '?', ctx), 'pro');
});

test('several engines are independent; version is exposed', () => {
  const a = new vexil.Engine(FLAGS, quiet);
  const b = new vexil.Engine({ 'my-flag': { variations: { A: 'other' }, defaultRule: { variation: 'A' } } }, quiet);
  assert.equal(a.stringValue('my-flag', '', { targetingKey: 'user-key' }), 'value_A');
  assert.equal(b.stringValue('my-flag', '', { targetingKey: 'user-key' }), 'other');
  assert.match(vexil.version, /^\d+\.\d+\.\d+/);
});

test('details: variants, versions and metadata are cached per configuration and follow changes', () => {
  const flags = (n) => ({
    f: {
      variations: { a: `v${n}`, b: 'other' },
      targeting: [{ name: `rule-${n}`, query: 'k eq 1', variation: 'a' }],
      defaultRule: { variation: 'b' },
      metadata: { n, nested: { n } },
      version: `${n}`,
    },
  });
  const e = new vexil.Engine(flags(0), { logger: false });
  const d1 = e.stringDetails('f', '', { k: 1 });
  const d2 = e.stringDetails('f', '', new vexil.Context('u', { k: 1 }));
  assert.equal(d1.flagMetadata, d2.flagMetadata, 'one object per configuration');
  assert.ok(Object.isFrozen(d1.flagMetadata) && Object.isFrozen(d1.flagMetadata.nested));
  assert.ok(Object.isFrozen(e.stringDetails('missing', '').flagMetadata));
  // Many configurations, freed and replaced: every answer matches its own.
  for (let n = 1; n < 300; n++) {
    e.load(flags(n));
    for (let i = 0; i < 3; i++) {
      const d = e.stringDetails('f', '', { k: i === 2 ? 0 : 1 });
      assert.equal(d.version, `${n}`);
      if (i === 2) {
        assert.equal(d.variant, 'b');
        assert.equal(d.value, 'other');
        assert.deepEqual(d.flagMetadata, { n, nested: { n } });
      } else {
        assert.equal(d.variant, 'a');
        assert.equal(d.value, `v${n}`);
        assert.deepEqual(d.flagMetadata, { n, nested: { n }, evaluatedRuleName: `rule-${n}` });
      }
    }
  }
  const missing = e.boolDetails('nope', true);
  assert.equal(missing.variant, 'SdkDefault');
  assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
  assert.match(missing.errorMessage, /nope/);
});

test('Context: every typed *Value answers as plain objects and *Details do, defaults included', () => {
  const e = new vexil.Engine(FLAGS, quiet);
  const users = [['u1', { beta: true, email: 'x@example.com' }], ['user-key', {}], ['u3', { beta: false }]];
  const calls = [
    ['boolValue', 'boolDetails', 'beta', false], ['boolValue', 'boolDetails', 'beta', true],
    ['stringValue', 'stringDetails', 'my-flag', 'dflt'], ['intValue', 'intDetails', 'float-num', -7],
    ['intValue', 'intDetails', 'nope', 2.5], ['numberValue', 'numberDetails', 'static-num', 0.5],
    ['floatValue', 'floatDetails', 'float-num', NaN], ['floatValue', 'floatDetails', 'beta', 1e300],
    ['objectValue', 'objectDetails', 'obj', {}], ['objectValue', 'objectDetails', 'nope', [1]],
    ['stringValue', 'stringDetails', 'beta', 'mismatch'], ['boolValue', 'boolDetails', 'nope', true],
  ];
  for (const [key, attrs] of users) {
    const ctx = new vexil.Context(key, attrs);
    const obj = { targetingKey: key, ...attrs };
    for (const [value, details, flag, dflt] of calls) {
      const got = e[value](flag, dflt, ctx);
      assert.deepEqual(got, e[value](flag, dflt, obj), `${value} ${flag} ${key}`);
      assert.deepEqual(got, e[details](flag, dflt, ctx).value, `${details} ${flag} ${key}`);
    }
  }
  // A default that is used comes back as given: the same object, an unrounded number.
  const d = { fallback: true };
  assert.equal(e.objectValue('nope', d, new vexil.Context('u')), d);
  assert.equal(e.intValue('nope', 2.5, new vexil.Context('u')), 2.5);
  assert.equal(e.intValue('my-flag', -0.5, new vexil.Context('u')), -0.5);
});

test('Context evaluations follow reloads, including flags that appear later', () => {
  const e = new vexil.Engine({}, quiet);
  const ctx = new vexil.Context('u', { plan: 'pro' });
  assert.equal(e.stringValue('later', 'd', ctx), 'd');
  for (let n = 0; n < 50; n++) {
    e.load({ later: { variations: { a: `v${n}`, b: 'no' }, targeting: [{ query: 'plan eq "pro"', variation: 'a' }], defaultRule: { variation: 'b' } } });
    assert.equal(e.stringValue('later', 'd', ctx), `v${n}`);
    assert.equal(e.stringDetails('later', 'd', ctx).variant, 'a');
  }
  e.load({});
  assert.equal(e.stringValue('later', 'd', ctx), 'd');
});

test('a getter that evaluates with a Context and reloads, inside an evaluation, works', () => {
  const flags = (n) => ({
    outer: { variations: { a: `outer-${n}`, b: 'no' }, targeting: [{ query: 'plan eq "pro"', variation: 'a' }], defaultRule: { variation: 'b' }, metadata: { n } },
    inner: { variations: { a: `inner-${n}` }, defaultRule: { variation: 'a' } },
  });
  const e = new vexil.Engine(flags(0), quiet);
  const inner = new vexil.Context('i');
  let seen;
  const ctx = {
    targetingKey: 'u',
    get plan() {
      e.load(flags(1)); // the outer evaluation keeps the configuration it started with
      seen = e.stringValue('inner', '', inner);
      return 'pro';
    },
  };
  const d = e.stringDetails('outer', '', ctx);
  assert.deepEqual([d.value, d.flagMetadata.n, seen], ['outer-0', 0, 'inner-1']);
  assert.equal(e.stringValue('outer', '', new vexil.Context('u', { plan: 'pro' })), 'outer-1');
});

test('a second copy of the module shares the addon state and the ConfigError class', () => {
  const file = require.resolve('../../node/lib/index.js');
  const saved = require.cache[file];
  delete require.cache[file];
  try {
    const copy = require(file);
    assert.notEqual(copy, vexil);
    assert.equal(copy.ConfigError, vexil.ConfigError);
    const a = new vexil.Engine(FLAGS, quiet);
    const b = new copy.Engine({ 'my-flag': { variations: { A: 'copy' }, defaultRule: { variation: 'A' } } }, quiet);
    for (let i = 0; i < 3; i++) {
      assert.equal(b.stringValue('my-flag', '', new copy.Context('user-key')), 'copy');
      assert.equal(a.stringValue('my-flag', '', new vexil.Context('user-key')), 'value_A');
      assert.equal(a.stringDetails('beta', '', { targetingKey: 'u' }).errorCode, 'TYPE_MISMATCH');
    }
    assert.throws(() => b.load('{'), vexil.ConfigError);
  } finally {
    require.cache[file] = saved;
  }
});
