'use strict';
// Node benchmarks: vexil's N-API addon against @openfeature/flagd-core
// (compiled and interpreted JsonLogic) on equivalent flags, and the rate at
// which events reach a JavaScript exporter. Prints a Markdown table.
//
//   node bench/bench_node.js [--quick]
//
// Every implementation runs in the same process, in alternating rounds; the
// figure is the median round (ns per evaluation), so a noisy neighbour hurts
// all columns alike.

const vexil = require('../node/lib/index.js');

let FlagdCore;
try {
  ({ FlagdCore } = require('@openfeature/flagd-core'));
} catch {
  FlagdCore = null;
}

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 7;
const ITERS = QUICK ? 100000 : 300000;

// ---- Equivalent flags ------------------------------------------------------

const GOFF_FLAGS = {
  static: { variations: { on: true, off: false }, defaultRule: { variation: 'on' } },
  rule: {
    variations: { on: true, off: false },
    targeting: [{ query: 'email ew "@example.com"', variation: 'on' }],
    defaultRule: { variation: 'off' },
  },
  split: { variations: { on: true, off: false }, defaultRule: { percentage: { on: 50, off: 50 } } },
  'rule+split': {
    variations: { on: true, off: false },
    targeting: [{ query: 'email ew "@example.com"', variation: 'on' }],
    defaultRule: { percentage: { on: 50, off: 50 } },
  },
};

const endsWith = { ends_with: [{ var: 'email' }, '@example.com'] };
const FLAGD_FLAGS = {
  flags: {
    static: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    rule: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { if: [endsWith, 'on', null] } },
    split: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { fractional: [['on', 50], ['off', 50]] } },
    'rule+split': {
      state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off',
      targeting: { if: [endsWith, 'on', { fractional: [['on', 50], ['off', 50]] }] },
    },
  },
};

const CASES = [
  ['static', 'static flag'],
  ['rule', 'one string rule'],
  ['split', 'percentage split (flagd: fractional)'],
  ['rule+split', 'string rule + percentage default'],
];

// ---- Contexts: 5 attributes, 1000 users, half of them matching -------------

const USERS = 1000;
const emails = ['someone@example.com', 'someone@other.org'];
const keys = Array.from({ length: USERS }, (_, i) => `user-${i}`);
const plainContexts = keys.map((k, i) => ({ targetingKey: k, email: emails[i & 1], plan: 'pro', age: 20 + (i % 50), country: 'fr' }));
const vexilContexts = plainContexts.map(({ targetingKey, ...attrs }) => new vexil.Context(targetingKey, attrs));

function fresh(i) {
  const j = i % USERS;
  return { targetingKey: keys[j], email: emails[j & 1], plan: 'pro', age: 20 + (j % 50), country: 'fr' };
}

// ---- Runners ------------------------------------------------------------------

const noLog = { debug() {}, info() {}, warn() {}, error() {} };
const engine = new vexil.Engine(GOFF_FLAGS, { logger: false });
const flagd = FlagdCore && new FlagdCore(undefined, noLog);
const flagdInterp = FlagdCore && new FlagdCore(undefined, noLog, { disableDynamicCodeGeneration: true });
flagd?.setConfigurations(JSON.stringify(FLAGD_FLAGS));
flagdInterp?.setConfigurations(JSON.stringify(FLAGD_FLAGS));

function runners(flag) {
  const list = [
    ['vexil boolValue, fresh object', (n) => { let t = 0; for (let i = 0; i < n; i++) if (engine.boolValue(flag, false, fresh(i))) t++; return t; }],
    ['vexil boolValue, reused Context', (n) => { let t = 0; for (let i = 0; i < n; i++) if (engine.boolValue(flag, false, vexilContexts[i % USERS])) t++; return t; }],
    ['vexil boolDetails, fresh object', (n) => { let t = 0; for (let i = 0; i < n; i++) if (engine.boolDetails(flag, false, fresh(i)).value) t++; return t; }],
  ];
  if (flagd) {
    list.push(
      ['flagd-core compiled, fresh object', (n) => { let t = 0; for (let i = 0; i < n; i++) if (flagd.resolveBooleanEvaluation(flag, false, fresh(i), noLog).value) t++; return t; }],
      ['flagd-core compiled, reused object', (n) => { let t = 0; for (let i = 0; i < n; i++) if (flagd.resolveBooleanEvaluation(flag, false, plainContexts[i % USERS], noLog).value) t++; return t; }],
      ['flagd-core interpreted, fresh object', (n) => { let t = 0; for (let i = 0; i < n; i++) if (flagdInterp.resolveBooleanEvaluation(flag, false, fresh(i), noLog).value) t++; return t; }],
    );
  }
  return list;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function measure(list) {
  const times = list.map(() => []);
  const hits = list.map(([, fn]) => fn(ITERS / 5)); // warm-up (and the answers, compared below)
  for (let r = 0; r < ROUNDS; r++) {
    list.forEach(([, fn], k) => {
      const t0 = process.hrtime.bigint();
      fn(ITERS);
      times[k].push(Number(process.hrtime.bigint() - t0) / ITERS);
    });
  }
  return { ns: times.map(median), hits };
}

// ---- Events per second to a JavaScript exporter ----------------------------------

// Records n feature events (timing the evaluations, which now also record
// an event), then times one flush that hands them all to the exporter.
async function eventRate(distinctUsers, n = QUICK ? 200000 : 1000000) {
  const e = new vexil.Engine(GOFF_FLAGS, { logger: false });
  let got = 0;
  e.addExporter((events) => { got += events.length; }, { flushInterval: 3600000, maxEvents: 1e9 });
  const ids = Array.from({ length: Math.min(distinctUsers, n) }, (_, i) => `user-${i}`);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) e.boolValue('split', false, { targetingKey: ids[i % ids.length], plan: 'pro' });
  const recordNs = Number(process.hrtime.bigint() - t0) / n;
  t0 = process.hrtime.bigint();
  await e.flush(120000);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await e.close();
  if (got !== n) throw new Error(`delivered ${got} of ${n}`);
  return { rate: n / secs, recordNs };
}

// ---- Evaluation with an exporter registered -----------------------------------------

// The same evaluations on engines without an exporter, with a JavaScript one
// and with the file exporter (to /dev/null), in alternating rounds. The file
// exporter drains on a core thread while the evaluations run; a JavaScript
// exporter can only run when the event loop does, so each round is followed
// (untimed) by a flush that delivers what it recorded.
async function exporterNs(flag) {
  const opts = { maxEvents: 10000, flushInterval: 50 };
  const withJs = new vexil.Engine(GOFF_FLAGS, { logger: false });
  withJs.addExporter(() => {}, opts);
  const withFile = new vexil.Engine(GOFF_FLAGS, { logger: false });
  withFile.addExporter(vexil.FileExporter({ outputDir: '/dev', filename: 'null' }), opts);
  const engines = [engine, withJs, withFile];
  const list = [];
  for (const e of engines) {
    list.push((n) => { let t = 0; for (let i = 0; i < n; i++) if (e.boolValue(flag, false, fresh(i))) t++; return t; });
    list.push((n) => { let t = 0; for (let i = 0; i < n; i++) if (e.boolValue(flag, false, vexilContexts[i % USERS])) t++; return t; });
  }
  const times = list.map(() => []);
  list.forEach((fn) => fn(ITERS / 5));
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < list.length; k++) {
      const t0 = process.hrtime.bigint();
      list[k](ITERS);
      times[k].push(Number(process.hrtime.bigint() - t0) / ITERS);
      await withJs.flush(60000);
    }
  }
  await withJs.close();
  await withFile.close();
  return times.map(median);
}

// ---- Through the OpenFeature SDK ---------------------------------------------------

// The provider's resolveBooleanEvaluation() called directly (what the SDK
// calls), then client.getBooleanValue(), which is async: each evaluation is
// awaited, as an application would. Fresh plain-object contexts.
async function openFeatureNs(flags) {
  let OpenFeature;
  try {
    ({ OpenFeature } = require('@openfeature/server-sdk'));
  } catch {
    return null;
  }
  const provider = new vexil.VexilProvider({ flags: GOFF_FLAGS, logger: false });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  const n = QUICK ? 20000 : 100000;
  const best = async (fn) => {
    let ns = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      await fn();
      ns = Math.min(ns, Number(process.hrtime.bigint() - t0) / n);
    }
    return ns;
  };
  const direct = [];
  const viaSdk = [];
  for (const flag of flags) {
    direct.push(await best(async () => {
      for (let i = 0; i < n; i++) provider.resolveBooleanEvaluation(flag, false, fresh(i), noLog);
    }));
    viaSdk.push(await best(async () => {
      for (let i = 0; i < n; i++) await client.getBooleanValue(flag, false, fresh(i));
    }));
  }
  // The SDK's own share: a provider that answers the default at once.
  const noop = { metadata: { name: 'noop' }, runsOn: 'server', hooks: [], resolveBooleanEvaluation: (k, d) => ({ value: d, reason: 'STATIC' }) };
  await OpenFeature.setProviderAndWait(noop);
  const sdkOnly = await best(async () => {
    for (let i = 0; i < n; i++) await client.getBooleanValue('static', false, fresh(i));
  });
  await OpenFeature.close();
  return { direct, viaSdk, sdkOnly };
}

// ---- Report ------------------------------------------------------------------------

async function main() {
  console.log(`# vexil Node benchmark (node ${process.version}, ${QUICK ? 'quick' : 'full'} run, vexil ${vexil.version})\n`);
  console.log('ns per evaluation (median of alternating rounds; lower is better); 5-attribute contexts, 1000 users.\n');
  const names = runners('static').map(([name]) => name);
  console.log(`| flag | ${names.join(' | ')} |`);
  console.log(`|---|${names.map(() => '---:').join('|')}|`);
  const ratios = [];
  for (const [flag, label] of CASES) {
    const list = runners(flag);
    const { ns, hits } = measure(list);
    // Same answers expected, except for splits (GOFF and flagd hash differently).
    if (!flag.includes('split') && !hits.every((h) => h === hits[0])) {
      console.error(`warning: implementations disagree on ${flag}: ${hits.join(', ')}`);
    }
    console.log(`| ${label} | ${ns.map((x) => x.toFixed(0)).join(' | ')} |`);
    if (flagd) ratios.push([label, ns[3] / ns[0], ns[3] / ns[1]]);
  }
  if (flagd) {
    console.log('\nSpeed-up against flagd-core compiled (its time / vexil time):\n');
    console.log('| flag | fresh object | reused Context |');
    console.log('|---|---:|---:|');
    for (const [label, a, b] of ratios) console.log(`| ${label} | ${a.toFixed(2)}x | ${b.toFixed(2)}x |`);
  } else {
    console.log('\n@openfeature/flagd-core is not installed (npm install): no comparison.');
  }
  console.log("\nGO Feature Flag's Node provider (@openfeature/go-feature-flag-provider 0.7.0, the newest on npm here)");
  console.log('has no in-process evaluation: it calls a relay proxy for every flag, so it cannot be benchmarked offline.\n');

  const of = await openFeatureNs(CASES.map(([flag]) => flag));
  if (of) {
    console.log('vexil.VexilProvider (fresh objects), ns per evaluation: its resolveBooleanEvaluation() called');
    console.log('directly, and `await client.getBooleanValue()` through @openfeature/server-sdk:\n');
    console.log(`| path | ${CASES.map(([, label]) => label).join(' | ')} |`);
    console.log(`|---|${CASES.map(() => '---:').join('|')}|`);
    console.log(`| provider | ${of.direct.map((x) => x.toFixed(0)).join(' | ')} |`);
    console.log(`| SDK client | ${of.viaSdk.map((x) => x.toFixed(0)).join(' | ')} |`);
    console.log(`| SDK client, a no-op provider instead | ${CASES.map(() => of.sdkOnly.toFixed(0)).join(' | ')} |\n`);
  }

  console.log('Evaluation with an exporter registered (ns per evaluation, median of alternating rounds;');
  console.log('in parentheses: against the same evaluation without an exporter):\n');
  console.log('| flag | fresh object | reused `Context` | fresh, JS exporter | `Context`, JS exporter | fresh, file exporter | `Context`, file exporter |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [flag, label] of CASES) {
    const ns = await exporterNs(flag);
    const cells = ns.map((x, k) => (k < 2 ? x.toFixed(0) : `${x.toFixed(0)} (${(x / ns[k % 2]).toFixed(2)}x)`));
    console.log(`| ${label} | ${cells.join(' | ')} |`);
  }
  console.log('');

  await eventRate(10); // warm-up: the first million events also pays for growing the heap
  const few = await eventRate(10);
  const many = await eventRate(Infinity);
  const pending = (QUICK ? 200000 : 1000000).toLocaleString('en-US');
  console.log(`Events delivered to a no-op JavaScript exporter (bulk, ${pending} events pending, one flush),`);
  console.log('and the cost of an evaluation that records an event (fresh object, percentage flag):\n');
  console.log('| user keys | events/s delivered | ns per evaluation + event |');
  console.log('|---|---:|---:|');
  console.log(`| 10 distinct | ${Math.round(few.rate).toLocaleString('en-US')} | ${few.recordNs.toFixed(0)} |`);
  console.log(`| all distinct | ${Math.round(many.rate).toLocaleString('en-US')} | ${many.recordNs.toFixed(0)} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
