'use strict';
// vexil.VexilProvider: an OpenFeature provider for @openfeature/server-sdk
// (an optional peer dependency, loaded when a provider is created).
//
// The SDK does no type checking of resolved values, so the provider checks
// them itself and answers TYPE_MISMATCH. It never throws from a resolver:
// errors come back as resolution details with reason ERROR.

const path = require('node:path');
const { Engine, ConfigError } = require('./index.js');

const SDK = '@openfeature/server-sdk';

// The SDK is resolved from the app first: the provider must share the app's
// copy (its singleton, its error classes, which the SDK checks with
// instanceof), and a symlinked install (`npm install /path/to/vexil`,
// `npm link`) would otherwise resolve from vexil's real path, outside the
// app, where the SDK is missing or another copy. vexil's own location comes
// last, for an app that bundles vexil.
function sdkBases() {
  const bases = [];
  if (require.main?.filename) bases.push(path.dirname(require.main.filename));
  if (process.argv[1]) bases.push(path.dirname(path.resolve(process.argv[1])));
  bases.push(process.cwd());
  return bases;
}

let sdk;
function loadSdk() {
  if (sdk) return sdk;
  for (const base of sdkBases()) {
    let file;
    try {
      file = require.resolve(SDK, { paths: [base] });
    } catch {
      continue;
    }
    return (sdk = require(file));
  }
  try {
    sdk = require(SDK);
  } catch (cause) {
    throw new Error(`vexil.VexilProvider needs ${SDK}, an optional peer dependency: ` +
      `npm install ${SDK} (looked from ${sdkBases().join(', ')} and ${__dirname})`, { cause });
  }
  return sdk;
}

// Core error codes that OpenFeature does not define.
const ERROR_CODES = { FLAG_CONFIG: 'PARSE_ERROR' };

const DETAILS = {
  boolean: 'boolDetails',
  string: 'stringDetails',
  number: 'numberDetails',
  object: 'objectDetails',
};

function typeMatches(kind, value) {
  if (kind === 'object') return typeof value === 'object' && value !== null;
  return typeof value === kind;
}

// OpenFeature flag metadata is flat: strings, numbers and booleans.
function flatMetadata(meta) {
  const out = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    const t = typeof value;
    if (t === 'string' || t === 'number' || t === 'boolean') out[key] = value;
    else if (value !== null && value !== undefined) out[key] = JSON.stringify(value);
  }
  return out;
}

function failure(defaultValue, errorCode, errorMessage, flagMetadata) {
  return { value: defaultValue, reason: 'ERROR', errorCode, errorMessage, flagMetadata: flagMetadata ?? {} };
}

class VexilProvider {
  metadata = Object.freeze({ name: 'vexil' });
  runsOn = 'server';
  hooks = [];
  events;
  #engine;
  #source;
  #unsubscribe;

  /**
   * @param source a vexil.Engine, or { url } / { file } / { flags } / { fromEnv: true }
   *   plus engine options (and fromUrl's or fromFile's live options), for an
   *   engine the provider makes in initialize()
   */
  constructor(source = {}) {
    const { OpenFeatureEventEmitter } = loadSdk();
    this.events = new OpenFeatureEventEmitter();
    if (source instanceof Engine) {
      // A closed engine given by the caller still evaluates (without events).
      this.#source = { engine: source };
      this.#attach(source);
    } else if (source && typeof source === 'object') this.#source = source;
    else throw new TypeError('VexilProvider takes an Engine or { file | flags | fromEnv, ...options }');
  }

  /** The engine (undefined before initialize() when the provider makes it). */
  get engine() {
    return this.#engine;
  }

  async initialize() {
    if (!this.#engine) await this.#create();
    // Started without a configuration (startWithError): not ready yet; the
    // first good refresh emits Ready.
    if (this.#engine.status === 'ERROR') {
      throw new (loadSdk().ProviderNotReadyError)('no flag configuration could be retrieved yet');
    }
  }

  async #create() {
    const { url, file, flags, fromEnv, ...options } = this.#source;
    try {
      let engine;
      if (url !== undefined) engine = await Engine.fromUrl(url, options);
      else if (file !== undefined) engine = Engine.fromFile(file, options);
      else if (fromEnv) engine = Engine.fromEnv(options);
      else engine = new Engine(flags, options);
      this.#attach(engine);
    } catch (err) {
      const { ProviderFatalError } = loadSdk();
      throw new ProviderFatalError(err instanceof ConfigError || err instanceof TypeError ? err.message : String(err));
    }
  }

  // The engine's change notifications become provider events.
  #attach(engine) {
    if (this.#engine === engine) return;
    this.#engine = engine;
    const { ProviderEvents } = loadSdk();
    const offChange = engine.onChange(({ flagsChanged }) => {
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged, message: 'flag configuration changed' });
    });
    const offStatus = engine.onStatusChange((status) => {
      if (status === 'STALE') {
        this.events.emit(ProviderEvents.Stale, {
          message: 'the flag configuration could not be refreshed; serving the last good one',
        });
      } else if (status === 'READY') {
        this.events.emit(ProviderEvents.Ready, { message: 'flag configuration up to date' });
      }
    });
    this.#unsubscribe = () => {
      offChange();
      offStatus();
    };
  }

  #resolve(kind, flagKey, defaultValue, context) {
    const engine = this.#engine;
    if (!engine) return failure(defaultValue, 'PROVIDER_NOT_READY', 'the provider is not initialized');
    let d;
    try {
      d = engine[DETAILS[kind]](flagKey, defaultValue, context);
    } catch (err) {
      return failure(defaultValue, err instanceof TypeError ? 'INVALID_CONTEXT' : 'GENERAL', err.message);
    }
    const flagMetadata = flatMetadata(d.flagMetadata);
    if (d.errorCode) {
      return failure(defaultValue, ERROR_CODES[d.errorCode] ?? d.errorCode, d.errorMessage, flagMetadata);
    }
    if (!typeMatches(kind, d.value)) {
      return failure(defaultValue, 'TYPE_MISMATCH', `flag ${flagKey} is not of type ${kind}`, flagMetadata);
    }
    return { value: d.value, variant: d.variant, reason: d.reason, flagMetadata };
  }

  async resolveBooleanEvaluation(flagKey, defaultValue, context) {
    return this.#resolve('boolean', flagKey, defaultValue, context);
  }

  async resolveStringEvaluation(flagKey, defaultValue, context) {
    return this.#resolve('string', flagKey, defaultValue, context);
  }

  async resolveNumberEvaluation(flagKey, defaultValue, context) {
    return this.#resolve('number', flagKey, defaultValue, context);
  }

  async resolveObjectEvaluation(flagKey, defaultValue, context) {
    return this.#resolve('object', flagKey, defaultValue, context);
  }

  track(trackingEventName, context, trackingEventDetails) {
    this.#engine?.track(trackingEventName, context ?? {}, trackingEventDetails);
  }

  /** Stops the change events and closes the engine (flushing its events). */
  async onClose() {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const engine = this.#engine;
    this.#engine = undefined;
    await engine?.close();
  }
}

module.exports = { VexilProvider };
