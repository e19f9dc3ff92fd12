'use strict';
// vexil for Node.js: a thin layer over the native addon (node/src), which does
// all the work through the C core. Nothing here evaluates flags: this file
// checks arguments, picks the fast native path and adapts JavaScript exporters
// (sync or async) to the core's pull model.

const path = require('node:path');

function loadAddon() {
  // VEXIL_ADDON: another build of the addon (a sanitizer build, say).
  if (process.env.VEXIL_ADDON) return require(path.resolve(process.env.VEXIL_ADDON));
  const root = path.resolve(__dirname, '..', '..');
  const tried = [];
  for (const dir of ['Release', 'Debug']) {
    const file = path.join(root, 'build', dir, 'vexil.node');
    try {
      return require(file);
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') throw err;
      tried.push(file);
    }
  }
  throw new Error(`vexil: native addon not built (looked for ${tried.join(', ')}); run \`npm install\``);
}

const native = loadAddon();

/** A flag configuration that does not parse or is not a configuration. */
class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigError';
  }
}
// *Details calls return the value and leave the rest here (see node/src/eval.c).
const outInts = new Int32Array(5); // [4]: generation of the learned attributes
const outRefs = [undefined, undefined, undefined, undefined];
native.setup({ ConfigError, outInts, outRefs });
const { reasons: REASONS, errorCodes: ERROR_CODES } = native.names();

function details(value) {
  const errorCode = outInts[1];
  return {
    value,
    variant: outRefs[0],
    reason: REASONS[outInts[0]],
    errorCode: errorCode === 0 ? undefined : ERROR_CODES[errorCode],
    errorMessage: outRefs[2],
    flagMetadata: outRefs[3] ?? {},
    version: outRefs[1] ?? '',
    trackEvents: outInts[2] === 1,
    cacheable: outInts[3] === 1,
  };
}

// Flag keys are interned per engine: the native side then gets a small
// integer instead of converting the same string on every call.
const MAX_INTERNED_FLAGS = 10000;

const LOG_LEVELS = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };
const FORMATS = { auto: 0, json: 1, yaml: 2 };
const EVENT_TYPES = { feature: 0, tracking: 1 };
// Internal hook for configuration changes (the provider listens to it).
const kFlagsChanged = Symbol.for('vexil.internal.flagsChanged');

let contextHandle;

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

function checkObject(value, what) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${what} must be an object`);
  return value;
}

function checkMs(value, what, fallback) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a non-negative number of milliseconds`);
  }
  return value;
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

/** A built-in exporter of the C core, made by FileExporter(), LogExporter(), WebhookExporter(). */
class BuiltinExporter {
  constructor(kind, config, defaults) {
    this.kind = kind;
    this.config = config;
    this.defaults = defaults;
    Object.freeze(this);
  }
}

function stringOptions(config, keys, what) {
  for (const key of keys) {
    if (config[key] !== undefined && typeof config[key] !== 'string') {
      throw new TypeError(`${what}: ${key} must be a string`);
    }
  }
}

/** GOFF's file exporter: JSON lines or CSV files in outputDir. */
function FileExporter(config) {
  const c = { ...checkObject(config, 'FileExporter config') };
  stringOptions(c, ['outputDir', 'format', 'filename', 'csvTemplate'], 'FileExporter');
  if (c.format !== undefined && !/^(json|csv)$/i.test(c.format)) {
    throw new TypeError("FileExporter: format must be 'json' or 'csv'");
  }
  return new BuiltinExporter('file', c, {});
}

/** GOFF's log exporter: one line per event (format: GOFF's template), to stderr or `log(line)`. */
function LogExporter(config) {
  const c = { ...checkObject(config, 'LogExporter config') };
  stringOptions(c, ['format'], 'LogExporter');
  const { log } = c;
  if (log !== undefined && typeof log !== 'function' && !(log && typeof log.info === 'function')) {
    throw new TypeError('LogExporter: log must be a function or an object with info()');
  }
  return new BuiltinExporter('log', c, { bulk: false });
}

/** GOFF's webhook exporter: POSTs {meta, events}, signed with X-Hub-Signature-256 when a secret is set. */
function WebhookExporter(config) {
  const c = { ...checkObject(config, 'WebhookExporter config') };
  if (typeof c.url !== 'string' || !c.url) throw new TypeError('WebhookExporter: url is required');
  stringOptions(c, ['secret', 'caFile'], 'WebhookExporter');
  checkObject(c.headers, 'WebhookExporter headers');
  checkObject(c.meta, 'WebhookExporter meta');
  c.timeout = checkMs(c.timeout, 'WebhookExporter timeout', undefined);
  return new BuiltinExporter('webhook', c, {});
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

const kBeforeExit = Symbol('beforeExit');
const kExit = Symbol('exit');

function totals(list) {
  const sum = { exported: 0, failedAttempts: 0, dropped: 0, pending: 0 };
  for (const s of list) {
    sum.exported += s.exported;
    sum.failedAttempts += s.failedAttempts;
    sum.dropped += s.dropped;
    sum.pending += s.pending;
  }
  return sum;
}

/**
 * A flag engine. Evaluations are synchronous; events go to exporters on
 * threads of their own.
 */
class Engine {
  #h;
  #ids = new Map();
  #attrs = [];
  #gen = -1;
  #format = 0;
  #exporters = 0;
  #listeners = new Set();
  #flushOnExit = true;
  #exitTimeout = 2000;
  #exitMark = -1;
  #closed = false;

  /**
   * @param flags a flags object, JSON or YAML text, or nothing (an empty engine)
   * @param options see EngineOptions in index.d.ts
   */
  constructor(flags, options) {
    const o = checkObject(options, 'options');
    const level = o.logLevel === undefined ? 'warn' : o.logLevel;
    if (!(level in LOG_LEVELS)) throw new TypeError("logLevel must be 'debug', 'info', 'warn', 'error' or 'off'");
    if (o.format !== undefined && !(o.format in FORMATS)) throw new TypeError("format must be 'json', 'yaml' or 'auto'");
    this.#format = FORMATS[o.format ?? 'auto'];
    this.#exitTimeout = checkMs(o.exitTimeout, 'exitTimeout', 2000);
    this.#flushOnExit = o.flushOnExit !== false;
    const logger = o.logger === false ? null : o.logger;
    this.#h = native.engineNew(logFunction(logger), o.logger === false ? 4 : LOG_LEVELS[level], this.#exitTimeout);
    if (o.environment !== undefined) native.engineSet(this.#h, 'environment', o.environment);
    if (o.enrichment !== undefined) native.engineSet(this.#h, 'enrichment', checkObject(o.enrichment, 'enrichment'));
    if (o.eventSource !== undefined) native.engineSet(this.#h, 'eventSource', o.eventSource);
    if (o.exporterMetadata !== undefined) {
      native.engineSet(this.#h, 'exporterMetadata', checkObject(o.exporterMetadata, 'exporterMetadata'));
    }
    if (flags !== undefined && flags !== null) this.load(flags);
  }

  /** An engine reading a GOFF flag file (.json, .yaml, .yml). Throws ConfigError. */
  static fromFile(file, options) {
    if (typeof file !== 'string') throw new TypeError('path must be a string');
    const engine = new Engine(undefined, options);
    engine.loadFile(file);
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
    this.#changed(native.engineLoad(this.#h, text, format, false, this.#listeners.size > 0));
  }

  /** Replaces the configuration with a file's; like load(). */
  loadFile(file) {
    if (typeof file !== 'string') throw new TypeError('path must be a string');
    this.#changed(native.engineLoad(this.#h, file, 0, true, this.#listeners.size > 0));
  }

  #changed(keys) {
    if (!keys || keys.length === 0) return;
    for (const fn of this.#listeners) {
      try {
        fn(keys);
      } catch (err) {
        queueMicrotask(() => { throw err; });
      }
    }
  }

  /** Internal: fn(changedFlagKeys) after each configuration change. Returns an unsubscribe function. */
  [kFlagsChanged](fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
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
  #plain(fn, checked, id, defaultValue, ctx) {
    const h = this.#h;
    // Not an object: the checked variant answers (no context, or a TypeError).
    if (ctx === null || typeof ctx !== 'object') return checked(h, id, defaultValue, ctx);
    const tk = targetingKeyOf(ctx);
    if (outInts[4] !== this.#gen) this.#relearn();
    const names = typeof id === 'number' ? this.#attrs[id] : undefined;
    const n = names === undefined ? 0 : names.length;
    let a0, a1, a2, a3;
    try {
      if (n > 0) a0 = ctx[names[0]];
      if (n > 1) a1 = ctx[names[1]];
      if (n > 2) a2 = ctx[names[2]];
      if (n > 3) a3 = ctx[names[3]];
    } catch {
      return fn(h, id, defaultValue, ctx, tk);
    }
    switch (n) {
      case 0: return fn(h, id, defaultValue, ctx, tk);
      case 1: return fn(h, id, defaultValue, ctx, tk, a0);
      case 2: return fn(h, id, defaultValue, ctx, tk, a0, a1);
      case 3: return fn(h, id, defaultValue, ctx, tk, a0, a1, a2);
      default: return fn(h, id, defaultValue, ctx, tk, a0, a1, a2, a3);
    }
  }

  // ---- Evaluation: one method per type, each a direct native call ----------

  boolValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return native.boolValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    return this.#plain(native.boolValueObj, native.boolValue, id, defaultValue, ctx);
  }

  stringValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return native.stringValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    return this.#plain(native.stringValueObj, native.stringValue, id, defaultValue, ctx);
  }

  numberValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return native.floatValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    return this.#plain(native.floatValueObj, native.floatValue, id, defaultValue, ctx);
  }

  intValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return native.intValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    return this.#plain(native.intValueObj, native.intValue, id, defaultValue, ctx);
  }

  floatValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return native.floatValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    return this.#plain(native.floatValueObj, native.floatValue, id, defaultValue, ctx);
  }

  objectValue(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return native.objectValueCtx(this.#h, id, defaultValue, contextHandle(ctx));
    return this.#plain(native.objectValueObj, native.objectValue, id, defaultValue, ctx);
  }

  boolDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(native.boolDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)));
    return details(this.#plain(native.boolDetailsObj, native.boolDetails, id, defaultValue, ctx));
  }

  stringDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(native.stringDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)));
    return details(this.#plain(native.stringDetailsObj, native.stringDetails, id, defaultValue, ctx));
  }

  numberDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(native.floatDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)));
    return details(this.#plain(native.floatDetailsObj, native.floatDetails, id, defaultValue, ctx));
  }

  intDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(native.intDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)));
    return details(this.#plain(native.intDetailsObj, native.intDetails, id, defaultValue, ctx));
  }

  floatDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(native.floatDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)));
    return details(this.#plain(native.floatDetailsObj, native.floatDetails, id, defaultValue, ctx));
  }

  objectDetails(flag, defaultValue, ctx) {
    const id = this.#ids.get(flag) ?? this.#intern(flag);
    if (ctx instanceof Context) return details(native.objectDetailsCtx(this.#h, id, defaultValue, contextHandle(ctx)));
    return details(this.#plain(native.objectDetailsObj, native.objectDetails, id, defaultValue, ctx));
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
      const { log } = exporter.config;
      if (exporter.kind === 'log' && log !== undefined) {
        const write = typeof log === 'function' ? log : (line) => log.info(line);
        name = this.#addJs((lines) => { for (const line of lines) write(line); }, opts, exporter.config.format ?? null);
      } else {
        name = native.addBuiltinExporter(this.#h, exporter.kind, exporter.config, opts);
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
  flush(timeout = 30000) {
    return native.engineFlush(this.#h, checkMs(timeout, 'timeout'));
  }

  /** Exporter counters, summed and per exporter. */
  stats() {
    const exporters = native.engineStats(this.#h);
    return { ...totals(exporters), exporters };
  }

  /**
   * Stops recording events, delivers what is pending (within timeout ms),
   * then stops the exporters. Evaluations keep working (without events).
   */
  async close(timeout = 10000) {
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
  FileExporter,
  LogExporter,
  WebhookExporter,
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
