'use strict';
// vexil for Node.js: a thin layer over the native addon (node/src), which does
// all the work through the C core. Nothing here evaluates flags: this file
// checks arguments, picks the fast native path and adapts JavaScript exporters
// (sync or async) to the core's pull model.

const path = require('node:path');

// The addon: a build of the package's own sources (build/Release, from
// `npm run build`) when there is one, else the prebuilt binary for this
// platform (prebuilds/<platform>-<arch>/, with the C libraries it links in
// prebuilds/vexil.libs). node-gyp-build picks the file.
function loadAddon() {
  // VEXIL_ADDON: another build of the addon (a sanitizer build, say).
  if (process.env.VEXIL_ADDON) return require(path.resolve(process.env.VEXIL_ADDON));
  const root = path.resolve(__dirname, '..', '..');
  let file;
  try {
    file = require('node-gyp-build').resolve(root);
  } catch (cause) {
    throw new Error(`vexil: no native addon for ${process.platform}-${process.arch} in ${root}: ` +
      'no prebuilt binary fits and none was built. Build it from source with ' +
      '`npm explore vexil -- npm run build` (needs a C compiler and the C libraries vexil links; ' +
      'see "Add vexil to your app" in the README)', { cause });
  }
  return require(file);
}

const native = loadAddon();
const { checkObject, checkMs, checkBool, checkString, checkCount } = require('./check.js');
const builtins = require('./builtins.js');

const { traceSource } = require('./otel.js');
const { BuiltinExporter, BuiltinRetriever, BuiltinNotifier } = builtins;

// *Details calls return the value and leave the rest here (see node/src/eval.c):
// [0] reason, [1] error code, [2] trackEvents, [3] cacheable, [5..7] where the
// variant, version and metadata are (>= 0: the engine's cache, -1: none,
// -2: outRefs). [4] is the generation of the learned attributes.
//
// Evaluations with a Context pass their engine's slot, the flag id and a
// boolean or number default in one shared 16-byte buffer: evalInts [0] slot,
// [1] flag id; evalNum [0] (bytes 8-15) the default.
// Arguments read through N-API cost a few nanoseconds each; this costs none.
//
// One set per loaded addon: a second copy of this module (a test runner's
// fresh module registry) shares the first one's, as the addon does.
// The ConfigError class is shared too, so that `instanceof` holds across copies.
function newShared() {
  /** A flag configuration that does not parse or is not a configuration. */
  class ConfigError extends Error {
    constructor(message) {
      super(message);
      this.name = 'ConfigError';
    }
  }
  const s = Object.freeze({
    ConfigError,
    outInts: new Int32Array(8),
    outRefs: [undefined, undefined, undefined, undefined],
    evalArgs: new ArrayBuffer(16),
  });
  native.setup(s);
  return s;
}
const shared = native.shared ?? (native.shared = newShared());
const { ConfigError, outInts, outRefs, evalArgs } = shared;
const evalInts = new Int32Array(evalArgs, 0, 2);
const evalNum = new Float64Array(evalArgs, 8, 1);
const NO_METADATA = Object.freeze({});
// Held directly: a property load from the addon's (large) exports object is an
// inline-cache miss on every call.
const { boolValueFast: nativeBoolValueFast, stringValueFast: nativeStringValueFast,
  intValueFast: nativeIntValueFast, floatValueFast: nativeFloatValueFast,
  objectValueFast: nativeObjectValueFast, boolDetails: nativeBoolDetails,
  boolDetailsCtx: nativeBoolDetailsCtx, boolDetailsObj: nativeBoolDetailsObj,
  boolValue: nativeBoolValue, boolValueCtx: nativeBoolValueCtx, boolValueObj: nativeBoolValueObj,
  floatDetails: nativeFloatDetails, floatDetailsCtx: nativeFloatDetailsCtx,
  floatDetailsObj: nativeFloatDetailsObj, floatValue: nativeFloatValue,
  floatValueCtx: nativeFloatValueCtx, floatValueObj: nativeFloatValueObj,
  intDetails: nativeIntDetails, intDetailsCtx: nativeIntDetailsCtx,
  intDetailsObj: nativeIntDetailsObj, intValue: nativeIntValue, intValueCtx: nativeIntValueCtx,
  intValueObj: nativeIntValueObj, objectDetails: nativeObjectDetails,
  objectDetailsCtx: nativeObjectDetailsCtx, objectDetailsObj: nativeObjectDetailsObj,
  objectValue: nativeObjectValue, objectValueCtx: nativeObjectValueCtx,
  objectValueObj: nativeObjectValueObj, stringDetails: nativeStringDetails,
  stringDetailsCtx: nativeStringDetailsCtx, stringDetailsObj: nativeStringDetailsObj,
  stringValue: nativeStringValue, stringValueCtx: nativeStringValueCtx,
  stringValueObj: nativeStringValueObj,
} = native;
const { reasons: REASONS, errorCodes: ERROR_CODES, statuses: STATUSES } = native.names();

function details(value, cache) {
  const errorCode = outInts[1];
  const variant = outInts[5];
  const version = outInts[6];
  const meta = outInts[7];
  return {
    value,
    variant: variant >= 0 ? cache[variant] : variant === -1 ? '' : outRefs[0],
    reason: REASONS[outInts[0]],
    errorCode: errorCode === 0 ? undefined : ERROR_CODES[errorCode],
    errorMessage: errorCode === 0 ? undefined : outRefs[2],
    flagMetadata: meta >= 0 ? cache[meta] : meta === -1 ? NO_METADATA : outRefs[3],
    version: version >= 0 ? cache[version] : version === -1 ? '' : outRefs[1],
    trackEvents: outInts[2] === 1,
    cacheable: outInts[3] === 1,
  };
}

// Flag keys are interned per engine: the native side then gets a small
// integer instead of converting the same string on every call.
const MAX_INTERNED_FLAGS = 10000; // ids stay below 65536 (see #pre)

const LOG_LEVELS = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };
const FORMATS = { auto: 0, json: 1, yaml: 2, toml: 3 };
const EVENT_TYPES = { feature: 0, tracking: 1 };

let contextHandle;
// The plain-object path's arguments, left by Engine#pre() for the call that follows.
let pTk, p0, p1, p2, p3, p4, p5;

/**
 * A reusable evaluation context: converted to native form once, so evaluating
 * with it costs no conversion. Immutable.
 */
class Context {
  #h;

  constructor(targetingKey, attributes) {
    this.#h = native.contextNew(targetingKey, attributes);
    this.targetingKey = targetingKey ?? undefined;
    this.attributes = attributes ?? {};
    Object.freeze(this);
  }

  static {
    contextHandle = (ctx) => ctx.#h;
  }
}

// The context argument as the native side takes it: a Context's handle, or the
// plain object plus its targetingKey (read here, where V8 reads it fastest).
function targetingKeyOf(ctx) {
  if (ctx === null || typeof ctx !== 'object') return undefined;
  try {
    return ctx.targetingKey;
  } catch (err) {
    throw new TypeError(`reading targetingKey threw: ${err}`);
  }
}

function logFunction(logger) {
  if (typeof logger === 'function') return (level, message) => logger(level, message);
  if (logger && typeof logger === 'object') {
    return (level, message) => {
      const fn = logger[level] ?? logger.log;
      if (typeof fn === 'function') fn.call(logger, message);
    };
  }
  return (level, message) => {
    const out = level === 'error' ? console.error : level === 'warn' ? console.warn : console.log;
    out(`vexil: ${message}`);
  };
}

// Live-configuration options (fromUrl, fromFile with pollInterval): the
// refresh options, taken out of `options`; what remains is for the Engine.
const LIVE_KEYS = ['pollInterval', 'jitter', 'staleAfter', 'persistentFile', 'startWithError', 'startTimeout', 'notifyOnStart'];
const HTTP_KEYS = ['headers', 'timeout', 'method', 'body', 'maxResponseBytes', 'insecureSkipVerify', 'caFile',
  'clientCertFile', 'clientKeyFile'];
const EVENT_TYPE_NAMES = ['feature', 'tracking'];

// addExporter()'s options (checked by exporterOptions) under the core's
// GOFF-style pipeline keys.
function pipelineKeys(o) {
  const keys = {
    eventType: o.eventType === undefined ? undefined : EVENT_TYPE_NAMES[o.eventType],
    bulk: o.bulk, flushInterval: o.flushInterval, maxEventInMemory: o.maxEvents,
    maxBatchEvents: o.maxBatchEvents, maxMemoryBytes: o.maxMemoryBytes,
    retryInitial: o.retryInitial, retryMax: o.retryMax, name: o.name,
  };
  for (const k of Object.keys(keys)) if (keys[k] === undefined) delete keys[k];
  // The core counts whole milliseconds, at least one.
  for (const k of ['flushInterval', 'retryInitial', 'retryMax']) {
    if (k in keys) keys[k] = Math.max(1, Math.ceil(keys[k]));
  }
  return keys;
}

function splitOptions(options, keys) {
  const rest = { ...checkObject(options, 'options') };
  const taken = {};
  for (const key of keys) {
    if (key in rest) {
      taken[key] = rest[key];
      delete rest[key];
    }
  }
  return [taken, rest];
}

function liveOptions(o, defaultPoll) {
  let startTimeout = o.startTimeout;
  if (startTimeout === Infinity) startTimeout = -1;
  else startTimeout = checkMs(startTimeout, 'startTimeout', undefined);
  return {
    pollInterval: checkMs(o.pollInterval, 'pollInterval', defaultPoll),
    jitter: checkBool(o.jitter, 'jitter'),
    staleAfter: checkCount(o.staleAfter, 'staleAfter'),
    persistentFile: checkString(o.persistentFile, 'persistentFile'),
    startWithError: checkBool(o.startWithError, 'startWithError'),
    startTimeout,
    notifyOnStart: checkBool(o.notifyOnStart, 'notifyOnStart'),
  };
}

// Calls each listener; one that throws does not stop the others (nor the
// process): its error goes to the engine's logger.
function callListeners(set, arg, report) {
  for (const fn of [...set]) {
    try {
      fn(arg);
    } catch (err) {
      try {
        report('error', `change listener failed: ${err instanceof Error ? err.stack : errorText(err)}`);
      } catch { /* a throwing logger must not break the engine */ }
    }
  }
}

function exporterOptions(options, defaults, name) {
  const o = checkObject(options, 'exporter options');
  const out = { ...defaults, name };
  if (o.eventType !== undefined) {
    if (!(o.eventType in EVENT_TYPES)) throw new TypeError("eventType must be 'feature' or 'tracking'");
    out.eventType = EVENT_TYPES[o.eventType];
  }
  if (o.bulk !== undefined) {
    if (typeof o.bulk !== 'boolean') throw new TypeError('bulk must be a boolean');
    out.bulk = o.bulk;
  }
  for (const key of ['flushInterval', 'maxEvents', 'maxBatchEvents', 'maxMemoryBytes', 'retryInitial', 'retryMax']) {
    if (o[key] !== undefined) out[key] = checkMs(o[key], key);
  }
  if (o.name !== undefined) {
    if (typeof o.name !== 'string') throw new TypeError('name must be a string');
    out.name = o.name;
  }
  return out;
}

function errorText(err) {
  if (err instanceof Error) return err.message || String(err);
  try {
    return String(err);
  } catch {
    return 'export failed';
  }
}

// Calls a JS exporter and reports the outcome once: a throw, a rejected
// Promise or `false` is a failed export (the core retries the batch).
function runExport(fn, payload, ack) {
  let result;
  try {
    result = fn(payload);
  } catch (err) {
    ack(false, errorText(err));
    return;
  }
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    result.then(
      (v) => (v === false ? ack(false, 'exporter returned false') : ack(true)),
      (err) => ack(false, errorText(err)),
    );
  } else if (result === false) {
    ack(false, 'exporter returned false');
  } else {
    ack(true);
  }
}

// Events arrive from the addon as columns (see node/src/exporters.c): an
// Int32Array of 12 fields per event, a Float64Array (creationDate, numeric
// value), a string table and an array of nested values. Object literals give
// every event the same shape, which is much faster than building objects
// property by property through N-API.
const VALUE_NULL = 0, VALUE_FALSE = 1, VALUE_TRUE = 2, VALUE_NUMBER = 3, VALUE_STRING = 4;

function eventValue(tag, ref, num, strs, objs) {
  switch (tag) {
    case VALUE_NULL: return null;
    case VALUE_FALSE: return false;
    case VALUE_TRUE: return true;
    case VALUE_NUMBER: return num;
    case VALUE_STRING: return strs[ref];
    default: return objs[ref];
  }
}

function buildEvents(strs, meta, nums, objs) {
  const n = nums.length >> 1;
  const events = new Array(n);
  for (let i = 0; i < n; i++) {
    const m = i * 12;
    if (meta[m] === 0) {
      const ev = {
        kind: 'feature',
        contextKind: strs[meta[m + 1]],
        userKey: strs[meta[m + 2]],
        creationDate: nums[2 * i],
        key: strs[meta[m + 3]],
        variation: strs[meta[m + 4]],
        value: eventValue(meta[m + 5], meta[m + 6], nums[2 * i + 1], strs, objs),
        default: meta[m + 7] === 1,
        version: strs[meta[m + 8]],
        source: strs[meta[m + 9]],
      };
      if (meta[m + 10] >= 0) ev.metadata = objs[meta[m + 10]];
      events[i] = ev;
    } else {
      events[i] = {
        kind: 'tracking',
        contextKind: strs[meta[m + 1]],
        userKey: strs[meta[m + 2]],
        creationDate: nums[2 * i],
        key: strs[meta[m + 3]],
        evaluationContext: objs[meta[m + 10]],
        trackingEventDetails: meta[m + 11] >= 0 ? objs[meta[m + 11]] : null,
      };
    }
  }
  return events;
}

// ---- Process exit ----------------------------------------------------------
// Engines with exporters are tracked so pending events get a chance to leave:
// at 'beforeExit' (the loop is empty) they are flushed, which keeps the loop
// alive until done; at 'exit' (nothing asynchronous runs any more) they are
// closed synchronously, giving the built-in exporters up to exitTimeout ms.
// JavaScript exporters cannot run at 'exit': what is still pending for them
// then is counted as dropped. process.exit() skips 'beforeExit'.
const liveEngines = new Set();
let exitHooked = false;

function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  process.on('beforeExit', () => {
    for (const engine of liveEngines) engine[kBeforeExit]();
  });
  process.on('exit', () => {
    for (const engine of liveEngines) engine[kExit]();
  });
}

// flush(), close() and the exit-time delivery wait at most this long by
// default, as in Python (5 s).
const DEFAULT_WAIT_MS = 5000;

const kBeforeExit = Symbol('beforeExit');
const kExit = Symbol('exit');

// engine.stats() has Python's shape and names, camelCased: the totals, then
// the same counters per exporter name.
function totals(list) {
  const sum = { exported: 0, failedAttempts: 0, dropped: 0, pending: 0, retainedBytes: 0 };
  for (const s of list) {
    for (const key of Object.keys(sum)) sum[key] += s[key];
  }
  return sum;
}

/**
 * A flag engine. Evaluations are synchronous; events go to exporters on
 * threads of their own.
 */
class Engine {
  #h;
  #slot; // in the addon's engine table: the Context fast path (evalInts)
  #ids = new Map();
  #attrs = [];
  #gen = -1;
  #format = 0;
  #exporters = 0;
  #onChange = new Set();
  #onStatus = new Set();
  #held = null;
  #cache = []; // *Details' variants, versions and metadata (see details()) // notifications waiting for the first listener (notifyOnStart)
  #listening = false;
  #report; // (level, message) for listener errors
  #flushOnExit = true;
  #exitTimeout = DEFAULT_WAIT_MS;
  #exitMark = -1;
  #closed = false;
  #traceSource = false; // the active OpenTelemetry span is asked for (otel.js)

  /**
   * @param flags a flags object, JSON or YAML text, or nothing (an empty engine)
   * @param options see EngineOptions in index.d.ts
   */
  constructor(flags, options) {
    const o = checkObject(options, 'options');
    const level = o.logLevel === undefined ? 'warn' : o.logLevel;
    if (!(level in LOG_LEVELS)) throw new TypeError("logLevel must be 'debug', 'info', 'warn', 'error' or 'off'");
    if (o.format !== undefined && !(o.format in FORMATS)) throw new TypeError("format must be 'json', 'yaml', 'toml' or 'auto'");
    this.#format = FORMATS[o.format ?? 'auto'];
    this.#exitTimeout = checkMs(o.exitTimeout, 'exitTimeout', DEFAULT_WAIT_MS);
    this.#flushOnExit = o.flushOnExit !== false;
    const logger = o.logger === false ? null : o.logger;
    const log = logFunction(logger);
    const minLevel = o.logger === false ? 4 : LOG_LEVELS[level];
    this.#h = native.engineNew(log, minLevel, this.#exitTimeout, this.#cache);
    this.#slot = native.engineSlot(this.#h);
    this.#report = minLevel <= LOG_LEVELS.error ? log : () => {};
    if (o.environment !== undefined) native.engineSet(this.#h, 'environment', o.environment);
    if (o.enrichment !== undefined) native.engineSet(this.#h, 'enrichment', checkObject(o.enrichment, 'enrichment'));
    if (o.eventSource !== undefined) native.engineSet(this.#h, 'eventSource', o.eventSource);
    if (o.exporterMetadata !== undefined) {
      native.engineSet(this.#h, 'exporterMetadata', checkObject(o.exporterMetadata, 'exporterMetadata'));
    }
    if (flags !== undefined && flags !== null) this.load(flags);
  }

  /**
   * An engine reading a GOFF flag file (.json, .yaml, .yml). Throws ConfigError.
   * With pollInterval (ms), a thread of the engine reads the file again at
   * that interval and publishes edits (the live options of fromUrl apply).
   */
  static fromFile(file, options) {
    if (typeof file !== 'string') throw new TypeError('path must be a string');
    const [live, rest] = splitOptions(options, LIVE_KEYS);
    const engine = new Engine(undefined, rest);
    if (Object.keys(live).length === 0) {
      engine.loadFile(file);
      return engine;
    }
    try {
      const o = liveOptions(live, 0);
      engine.#addRetrievers([builtins.FileRetriever({ path: file })]);
      if (o.notifyOnStart) engine.#listen(true);
      native.engineStart(engine.#h, o, true);
    } catch (err) {
      engine.closeSync(0);
      throw err;
    }
    return engine;
  }

  /**
   * An engine whose configuration lives at `url` (http:// or https://):
   * Engine.fromRetrievers() with one HttpRetriever. Options are fromRetrievers()'s
   * plus the HttpRetriever's (headers, timeout, method, body, TLS options).
   */
  static async fromUrl(url, options) {
    if (typeof url !== 'string' || url === '') throw new TypeError('url must be a non-empty string');
    const [http, rest] = splitOptions(options, HTTP_KEYS);
    return Engine.fromRetrievers([builtins.HttpRetriever({ ...http, url })], rest);
  }

  /**
   * An engine whose configuration comes from `retrievers` (FileRetriever,
   * HttpRetriever...), merged in order as GOFF merges them: resolves once the
   * first retrieval succeeded (rejects with ConfigError when it fails, unless
   * a persistentFile copy or startWithError lets it start), then polls every
   * pollInterval ms (default 60000; 0: only refresh()).
   */
  static async fromRetrievers(retrievers, options) {
    if (!Array.isArray(retrievers) || retrievers.length === 0) {
      throw new TypeError('fromRetrievers needs a non-empty array of retrievers');
    }
    const [live, rest] = splitOptions(options, LIVE_KEYS);
    const o = liveOptions(live, 60000);
    const engine = new Engine(undefined, rest);
    try {
      engine.#addRetrievers(retrievers);
      if (o.notifyOnStart) engine.#listen(true);
      await native.engineStart(engine.#h, o, false);
    } catch (err) {
      engine.closeSync(0);
      throw err;
    }
    return engine;
  }

  #addRetrievers(retrievers) {
    for (const r of retrievers) {
      if (!(r instanceof BuiltinRetriever)) throw new TypeError('not a vexil retriever (FileRetriever, HttpRetriever...)');
      const opts = r.options;
      if (opts.format === undefined && this.#format !== FORMATS.auto) {
        opts.format = Object.keys(FORMATS).find((k) => FORMATS[k] === this.#format);
      }
      native.addBuiltinRetriever(this.#h, r.kind, opts);
    }
  }

  /**
   * An engine set up by a GO Feature Flag configuration file (a relay proxy's
   * goff-proxy.yaml; YAML, JSON or TOML): its retrievers, pollingInterval,
   * exporters, notifiers and the rest of GOFF's keys, read by the C core as
   * for every language and the vexil command. Options: format ('yaml',
   * 'json', 'toml'; default by extension), flagset (one of GOFF's flagsets,
   * by name), env (GOFF's environment overrides, default true),
   * startTimeout, staleAfter, and the Engine options. Resolves once the
   * first retrieval succeeded; rejects with a ConfigError naming the key
   * path of a bad setting or the retriever that failed.
   */
  static async fromConfig(file, options) {
    if (typeof file !== 'string' || file === '') throw new TypeError('path must be a non-empty string');
    const [own, rest] = splitOptions(options, ['format', 'flagset', 'env', 'startTimeout', 'staleAfter']);
    if (own.format !== undefined && !['yaml', 'yml', 'json', 'toml'].includes(own.format)) {
      throw new TypeError("format must be 'yaml', 'json' or 'toml'");
    }
    if (own.flagset !== undefined && typeof own.flagset !== 'string') throw new TypeError('flagset must be a string');
    const engine = new Engine(undefined, rest);
    try {
      const refresh = native.engineApplyConfigFile(engine.#h, file, {
        format: own.format, flagset: own.flagset, env: checkBool(own.env ?? true, 'env'),
      });
      const o = liveOptions({ ...refresh, startTimeout: own.startTimeout, staleAfter: own.staleAfter }, 60000);
      if (o.notifyOnStart) engine.#listen(true);
      await native.engineStart(engine.#h, o, false);
    } catch (err) {
      engine.closeSync(0);
      throw err;
    }
    return engine;
  }

  /** An engine in "from-env" mode: each flag is a JSON document in the environment variable named after it. */
  static fromEnv(options) {
    const engine = new Engine(undefined, options);
    native.engineSet(engine.#h, 'fromEnv');
    return engine;
  }

  /** Replaces the configuration; on error throws ConfigError and keeps the last good one. */
  load(flags) {
    let text = flags;
    let format = this.#format;
    if (flags instanceof Uint8Array) {
      text = Buffer.from(flags.buffer, flags.byteOffset, flags.byteLength).toString('utf8');
    } else if (typeof flags === 'object' && flags !== null) {
      try {
        text = JSON.stringify(flags);
      } catch (err) {
        throw new TypeError(`flags cannot be serialised: ${err.message}`);
      }
      format = FORMATS.json;
    }
    if (typeof text !== 'string') throw new TypeError('flags must be an object, a string or UTF-8 bytes');
    native.engineLoad(this.#h, text, format, false);
  }

  /** Replaces the configuration with a file's; like load(). */
  loadFile(file) {
    if (typeof file !== 'string') throw new TypeError('path must be a string');
    native.engineLoad(this.#h, file, 0, true);
  }

  // ---- Live configuration --------------------------------------------------------

  /** 'NOT_READY', 'READY', 'STALE' or 'ERROR'. */
  get status() {
    return STATUSES[native.engineStatus(this.#h)];
  }

  /** Retrieves now (fromUrl / fromFile with retrievers); rejects with ConfigError on failure. */
  async refresh() {
    await native.engineRefresh(this.#h);
  }

  /** Refresh counters since start. */
  refreshStats() {
    const s = native.engineRefreshStats(this.#h);
    s.lastSuccess = s.lastSuccess > 0 ? new Date(s.lastSuccess * 1000) : null;
    return s;
  }

  /**
   * Calls cb({ flagsChanged, diff }) after each publication that changes flags
   * (load(), a refresh, polling). Returns a function that unsubscribes.
   */
  onChange(cb) {
    return this.#subscribe(this.#onChange, cb, 0);
  }

  /** Calls cb(status) when the status changes (READY -> STALE -> READY...). Returns an unsubscribe function. */
  onStatusChange(cb) {
    return this.#subscribe(this.#onStatus, cb, 1);
  }

  /** GOFF's webhook notifier: POSTs {meta, flags: diff} for each change, on a thread of the core. */
  addWebhookNotifier(config) {
    this.addNotifier(builtins.WebhookNotifier(config));
  }

  /** GOFF's Slack notifier to an incoming-webhook URL (a string, or SlackNotifier's config). */
  addSlackNotifier(config) {
    this.addNotifier(builtins.SlackNotifier(config));
  }

  /** GOFF's Discord notifier to a Discord webhook URL (a string, or DiscordNotifier's config). */
  addDiscordNotifier(config) {
    this.addNotifier(builtins.DiscordNotifier(config));
  }

  /** GOFF's Microsoft Teams notifier to a Teams Workflows webhook URL (a string, or TeamsNotifier's config). */
  addTeamsNotifier(config) {
    this.addNotifier(builtins.TeamsNotifier(config));
  }

  /** Delivery counters of the built-in notifiers: delivered, retries, failed, dropped, pending. */
  notifierStats() {
    return native.engineNotifierStats(this.#h);
  }

  /** Registers a built-in notifier (WebhookNotifier...): told of every configuration change, on a thread of the core. */
  addNotifier(notifier) {
    if (!(notifier instanceof BuiltinNotifier)) throw new TypeError('not a vexil notifier (WebhookNotifier...)');
    native.addBuiltinNotifier(this.#h, notifier.kind, notifier.options);
  }

  #subscribe(set, cb, kind) {
    if (typeof cb !== 'function') throw new TypeError('a listener must be a function');
    set.add(cb);
    this.#listen(false);
    const items = this.#held?.[kind];
    const report = this.#report;
    if (items) {
      // notifyOnStart: what came before the first listener goes to it.
      this.#held[kind] = null;
      if (items.length > 0) queueMicrotask(() => { for (const item of items) callListeners([cb], item, report); });
    }
    return () => { set.delete(cb); };
  }

  // Notifications come from a pull notifier drained by a thread of the addon
  // (node/src/live.c). The callback must not hold the engine: the addon keeps
  // it until the engine is closed and the last notification delivered.
  #listen(hold) {
    if (this.#listening) return;
    const change = this.#onChange;
    const status = this.#onStatus;
    const held = hold ? [[], []] : null;
    const report = this.#report;
    this.#held = held;
    this.#listening = native.engineListen(this.#h, (kind, a, b) => {
      const item = kind === 0 ? { flagsChanged: a, diff: b } : STATUSES[a];
      const set = kind === 0 ? change : status;
      if (set.size === 0 && held?.[kind] && held[kind].length < 100) held[kind].push(item);
      else callListeners(set, item, report);
    });
  }

  /** The keys of the configuration's valid flags. */
  flagKeys() {
    return native.engineFlagKeys(this.#h);
  }

  #intern(flag) {
    if (typeof flag !== 'string') throw new TypeError('flag key must be a string');
    if (this.#ids.size >= MAX_INTERNED_FLAGS) return flag;
    const id = native.internFlag(this.#h, flag);
    this.#ids.set(flag, id);
    return id;
  }

  #relearn() {
    this.#gen = outInts[4];
    this.#attrs = native.learnedAttributes(this.#h);
  }

  // A plain-object context. The native side learns which attributes each flag
  // reads; those are read here (a JS property read is far cheaper than one
  // through N-API) and passed along, the rest is looked up lazily. A getter
  // that throws sends the call down the lazy path, which reports the error.
  //
  // #pre() leaves the targeting key and the pre-read values in pTk, p0..p5
  // and returns the flag id with, in bits 16-21, which of them are undefined
  // (absent: the native side then knows without looking) and in bits 22-24
  // how many there are. Six: a flag's own attributes, and `anonymous` and
  // `gofeatureflag`, which the core reads for each recorded event. Each method then makes its own native call, so that
  // every call site stays monomorphic (a shared one cost ~20 ns per call).
  #pre(id, ctx) {
    const tk = targetingKeyOf(ctx);
    if (typeof tk !== 'string' && tk !== undefined && tk !== null) throw new TypeError('targetingKey must be a string');
    if (outInts[4] !== this.#gen) this.#relearn();
    const names = typeof id === 'number' ? this.#attrs[id] : undefined;
    const n = names === undefined ? 0 : names.length;
    let a0, a1, a2, a3, a4, a5;
    let key = id;
    if (n > 0) {
      try {
        a0 = ctx[names[0]];
        if (n > 1) {
          a1 = ctx[names[1]];
          if (n > 2) a2 = ctx[names[2]];
          if (n > 3) a3 = ctx[names[3]];
          if (n > 4) a4 = ctx[names[4]];
          if (n > 5) a5 = ctx[names[5]];
        }
        key = id + 65536 * ((a0 === undefined ? 1 : 0) | (a1 === undefined ? 2 : 0)
          | (a2 === undefined ? 4 : 0) | (a3 === undefined ? 8 : 0)
          | (a4 === undefined ? 16 : 0) | (a5 === undefined ? 32 : 0)) + 4194304 * n;
      } catch {
        a0 = a1 = a2 = a3 = a4 = a5 = undefined;
      }
    }
    // Set last: a getter above may have evaluated (and used these) itself.
    pTk = tk;
    p0 = a0;
    p1 = a1;
    p2 = a2;
    p3 = a3;
    p4 = a4;
    p5 = a5;
    return key;
  }

  // ---- Evaluation: one method per type, each a direct native call ----------

  boolValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) {
      if (typeof id === 'number' && typeof defaultValue === 'boolean') {
        evalInts[0] = this.#slot;
        evalInts[1] = id;
        evalNum[0] = defaultValue ? 1 : 0;
        return nativeBoolValueFast(contextHandle(ctx));
      }
      return nativeBoolValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    }
    if (ctx === null || typeof ctx !== 'object') return nativeBoolValue(this.#h, id, defaultValue, ctx);
    const key = this.#pre(id, ctx);
    return nativeBoolValueObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5);
  }

  stringValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) {
      if (typeof id === 'number') {
        evalInts[0] = this.#slot;
        evalInts[1] = id;
        return nativeStringValueFast(contextHandle(ctx), defaultValue);
      }
      return nativeStringValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    }
    if (ctx === null || typeof ctx !== 'object') return nativeStringValue(this.#h, id, defaultValue, ctx);
    const key = this.#pre(id, ctx);
    return nativeStringValueObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5);
  }

  numberValue(flag, defaultValue, ctx) {
    return this.floatValue(flag, defaultValue, ctx); // one method, one native call site
  }


  intValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) {
      if (typeof id === 'number' && typeof defaultValue === 'number') {
        evalInts[0] = this.#slot;
        evalInts[1] = id;
        evalNum[0] = defaultValue;
        return nativeIntValueFast(contextHandle(ctx));
      }
      return nativeIntValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    }
    if (ctx === null || typeof ctx !== 'object') return nativeIntValue(this.#h, id, defaultValue, ctx);
    const key = this.#pre(id, ctx);
    return nativeIntValueObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5);
  }

  floatValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) {
      if (typeof id === 'number' && typeof defaultValue === 'number') {
        evalInts[0] = this.#slot;
        evalInts[1] = id;
        evalNum[0] = defaultValue;
        return nativeFloatValueFast(contextHandle(ctx));
      }
      return nativeFloatValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    }
    if (ctx === null || typeof ctx !== 'object') return nativeFloatValue(this.#h, id, defaultValue, ctx);
    const key = this.#pre(id, ctx);
    return nativeFloatValueObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5);
  }

  objectValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) {
      if (typeof id === 'number') {
        evalInts[0] = this.#slot;
        evalInts[1] = id;
        return nativeObjectValueFast(contextHandle(ctx), defaultValue);
      }
      return nativeObjectValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    }
    if (ctx === null || typeof ctx !== 'object') return nativeObjectValue(this.#h, id, defaultValue, ctx);
    const key = this.#pre(id, ctx);
    return nativeObjectValueObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5);
  }

  boolDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(nativeBoolDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)), this.#cache);
    if (ctx === null || typeof ctx !== 'object') return details(nativeBoolDetails(this.#h, id, defaultValue, ctx), this.#cache);
    const key = this.#pre(id, ctx);
    return details(nativeBoolDetailsObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5), this.#cache);
  }

  stringDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(nativeStringDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)), this.#cache);
    if (ctx === null || typeof ctx !== 'object') return details(nativeStringDetails(this.#h, id, defaultValue, ctx), this.#cache);
    const key = this.#pre(id, ctx);
    return details(nativeStringDetailsObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5), this.#cache);
  }

  numberDetails(flag, defaultValue, ctx) {
    return this.floatDetails(flag, defaultValue, ctx);
  }


  intDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(nativeIntDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)), this.#cache);
    if (ctx === null || typeof ctx !== 'object') return details(nativeIntDetails(this.#h, id, defaultValue, ctx), this.#cache);
    const key = this.#pre(id, ctx);
    return details(nativeIntDetailsObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5), this.#cache);
  }

  floatDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(nativeFloatDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)), this.#cache);
    if (ctx === null || typeof ctx !== 'object') return details(nativeFloatDetails(this.#h, id, defaultValue, ctx), this.#cache);
    const key = this.#pre(id, ctx);
    return details(nativeFloatDetailsObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5), this.#cache);
  }

  objectDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(nativeObjectDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)), this.#cache);
    if (ctx === null || typeof ctx !== 'object') return details(nativeObjectDetails(this.#h, id, defaultValue, ctx), this.#cache);
    const key = this.#pre(id, ctx);
    return details(nativeObjectDetailsObj(this.#h, key, defaultValue, ctx, pTk, p0, p1, p2, p3, p4, p5), this.#cache);
  }

  // ---- Events ------------------------------------------------------------------

  /** Records a tracking event (for exporters with eventType 'tracking'). */
  track(name, ctx, details) {
    if (typeof name !== 'string') throw new TypeError('event name must be a string');
    if (ctx instanceof Context) {
      native.engineTrack(this.#h, name, contextHandle(ctx), undefined, details);
    } else {
      native.engineTrack(this.#h, name, ctx, targetingKeyOf(ctx), details);
    }
  }

  /**
   * Registers an exporter: a function taking an array of events, an object
   * with export(events), or a built-in exporter. Returns the exporter's name.
   */
  addExporter(exporter, options) {
    if (this.#closed) {
      const err = new Error('the engine is closed');
      err.code = 'VX_ECLOSED';
      throw err;
    }
    const index = ++this.#exporters;
    let name;
    if (exporter instanceof BuiltinExporter) {
      const opts = exporterOptions(options, exporter.defaults, `${exporter.kind}-${index}`);
      const { log } = exporter;
      if (exporter.kind === 'log' && log !== undefined) {
        const write = typeof log === 'function' ? log : (line) => log.info(line);
        name = this.#addJs((lines) => { for (const line of lines) write(line); }, opts, exporter.options.logFormat ?? null);
      } else {
        name = native.addBuiltinExporter(this.#h, exporter.kind, { ...exporter.options, ...pipelineKeys(opts) });
        if (exporter.kind === 'opentelemetry' && exporter.options.traceContext !== false && !this.#traceSource) {
          this.#traceSource = true;
          const source = traceSource();
          if (source) native.engineTraceSource(this.#h, source);
        }
      }
    } else {
      let fn;
      if (typeof exporter === 'function') fn = exporter;
      else if (exporter && typeof exporter.export === 'function') fn = (events) => exporter.export(events);
      else throw new TypeError('exporter must be a function, an object with export(events), or a built-in exporter');
      const opts = exporterOptions(options, {}, `exporter-${index}`);
      name = this.#addJs(fn, opts, undefined);
    }
    liveEngines.add(this);
    hookExit();
    return name;
  }

  #addJs(fn, opts, logFormat) {
    let pump;
    // The engine handle travels with every ack: an exporter still holding
    // this closure keeps the engine (and the pump the ack points to) alive.
    const h = this.#h;
    const ack = (ok, message) => native.pumpAck(h, pump, ok, message);
    const template = logFormat === undefined ? undefined
      : logFormat ?? '[{{ .FormattedDate}}] user="{{ .UserKey}}", flag="{{ .Key}}", value="{{ .Value}}"';
    const deliver = template === undefined
      ? (strs, meta, nums, objs) => runExport(fn, buildEvents(strs, meta, nums, objs), ack)
      : (lines) => runExport(fn, lines, ack);
    pump = native.addJsExporter(this.#h, deliver, opts, template);
    return opts.name;
  }

  /** Delivers every event recorded so far; resolves true when all were delivered in time. */
  flush(timeout = DEFAULT_WAIT_MS) {
    return native.engineFlush(this.#h, checkMs(timeout, 'timeout'));
  }

  /** Exporter counters, summed and per exporter. */
  stats() {
    const list = native.engineStats(this.#h);
    const exporters = {};
    for (const { name, ...counters } of list) exporters[name] = counters;
    return { ...totals(list), exporters };
  }

  /**
   * Stops recording events, delivers what is pending (within timeout ms),
   * then stops the exporters. Evaluations keep working (without events).
   */
  async close(timeout = DEFAULT_WAIT_MS) {
    const ms = checkMs(timeout, 'timeout');
    this.#closed = true;
    liveEngines.delete(this);
    await native.engineClose(this.#h, ms);
  }

  /**
   * Closes without returning to the event loop, for process 'exit' handlers:
   * built-in exporters get up to timeout ms; JavaScript exporters cannot run
   * (their pending events are counted as dropped). Returns true when nothing
   * was left undelivered.
   */
  closeSync(timeout = this.#exitTimeout) {
    const ms = checkMs(timeout, 'timeout');
    this.#closed = true;
    liveEngines.delete(this);
    return native.engineCloseSync(this.#h, ms);
  }

  get closed() {
    return this.#closed;
  }

  [kBeforeExit]() {
    if (!this.#flushOnExit || this.#closed) return;
    const s = totals(native.engineStats(this.#h));
    // Flush once per batch of new events: a flush that could not deliver
    // (an exporter keeps failing) is not repeated forever.
    const mark = s.exported + s.pending + s.dropped;
    if (s.pending === 0 || mark === this.#exitMark) return;
    this.#exitMark = mark;
    this.flush(this.#exitTimeout);
  }

  [kExit]() {
    if (this.#flushOnExit && !this.#closed) this.closeSync(this.#exitTimeout);
  }
}

const vexil = {
  Engine,
  Context,
  ConfigError,
  FileExporter: builtins.FileExporter,
  LogExporter: builtins.LogExporter,
  WebhookExporter: builtins.WebhookExporter,
  KafkaExporter: builtins.KafkaExporter,
  PubSubExporter: builtins.PubSubExporter,
  S3Exporter: builtins.S3Exporter,
  OpenTelemetryExporter: builtins.OpenTelemetryExporter,
  GCSExporter: builtins.GCSExporter,
  KinesisExporter: builtins.KinesisExporter,
  SQSExporter: builtins.SQSExporter,
  FileRetriever: builtins.FileRetriever,
  HttpRetriever: builtins.HttpRetriever,
  S3Retriever: builtins.S3Retriever,
  GCSRetriever: builtins.GCSRetriever,
  GitHubRetriever: builtins.GitHubRetriever,
  GitLabRetriever: builtins.GitLabRetriever,
  BitbucketRetriever: builtins.BitbucketRetriever,
  AzureBlobExporter: builtins.AzureBlobExporter,
  AzureBlobRetriever: builtins.AzureBlobRetriever,
  WebhookNotifier: builtins.WebhookNotifier,
  SlackNotifier: builtins.SlackNotifier,
  DiscordNotifier: builtins.DiscordNotifier,
  TeamsNotifier: builtins.TeamsNotifier,
  BuiltinExporter,
  BuiltinRetriever,
  BuiltinNotifier,
  version: native.version(),
};

// The provider needs @openfeature/server-sdk, an optional peer dependency:
// load it only when asked for.
Object.defineProperty(vexil, 'VexilProvider', {
  enumerable: true,
  get() {
    return require('./provider.js').VexilProvider;
  },
});

module.exports = vexil;
