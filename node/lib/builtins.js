'use strict';
// The built-in exporters, retrievers and notifiers: descriptions made of a
// kind name (GOFF's: 'file', 's3', 'slack'...) and options under GOFF's
// configuration keys. The core builds each kind from those keys, exactly as
// from a configuration file, and checks them, naming the key at fault. A
// secret may be a string, { fromEnv: 'NAME' } or { fromFile: '/path' }; it is
// never shown by util.inspect() or toJSON().

const util = require('node:util');
const { checkObject } = require('./check.js');

const kOptions = Symbol('vexil.options');

class Builtin {
  // `hidden`: further read-only properties kept out of toJSON() (defaults, log).
  constructor(kind, options, secretKeys = [], hidden = {}) {
    this.kind = kind;
    const clean = {};
    for (const [k, v] of Object.entries(options)) if (v !== undefined && v !== null) clean[k] = v;
    Object.defineProperty(this, kOptions, { value: Object.freeze(clean) });
    Object.defineProperty(this, 'secretKeys', { value: secretKeys });
    for (const [k, v] of Object.entries(hidden)) Object.defineProperty(this, k, { value: v });
    Object.freeze(this);
  }

  /** The GOFF-keyed options handed to the core (a copy). */
  get options() {
    return { ...this[kOptions] };
  }

  toJSON() {
    const shown = { kind: this.kind, ...this[kOptions] };
    for (const k of this.secretKeys) if (k in shown) shown[k] = '<hidden>';
    return shown;
  }

  [util.inspect.custom]() {
    return `${this.constructor.name} ${util.inspect(this.toJSON())}`;
  }
}

/** A built-in exporter of the C core. `defaults` are pipeline defaults (GOFF's bulk or not). */
class BuiltinExporter extends Builtin {
  constructor(kind, options, secretKeys = [], defaults = {}, hidden = {}) {
    super(kind, options, secretKeys, { ...hidden, defaults: Object.freeze({ ...defaults }) });
  }
}

class BuiltinRetriever extends Builtin {}
class BuiltinNotifier extends Builtin {}

// Options objects are copied with their keys as given (the JavaScript names
// are GOFF's camelCase keys); `renames` maps the few that differ.
function goffOptions(config, what, renames = {}) {
  const c = checkObject(config, what);
  const out = {};
  for (const [k, v] of Object.entries(c)) out[renames[k] ?? k] = v;
  return out;
}

// ---- exporters -----------------------------------------------------------------

/** GOFF's file exporter: JSON lines or CSV files in outputDir. */
function FileExporter(config) {
  return new BuiltinExporter('file', goffOptions(config, 'FileExporter config'));
}

/**
 * GOFF's log exporter: one line per event (format: GOFF's template), to
 * `log(line)` (a function, or an object with info()) or to stderr.
 */
function LogExporter(config) {
  const c = { ...checkObject(config, 'LogExporter config') };
  const { log } = c;
  if (log !== undefined && typeof log !== 'function' && !(log && typeof log.info === 'function')) {
    throw new TypeError('LogExporter: log must be a function or an object with info()');
  }
  if (c.format !== undefined && typeof c.format !== 'string') throw new TypeError('LogExporter: format must be a string');
  return new BuiltinExporter('log', { logFormat: c.format, output: 'stderr' }, [], { bulk: false },
    log === undefined ? {} : { log });
}

/** GOFF's webhook exporter: POSTs {meta, events}, signed with X-Hub-Signature-256 when a secret is set. */
function WebhookExporter(config) {
  const c = goffOptions(config, 'WebhookExporter config', { url: 'endpointUrl' });
  if (typeof c.endpointUrl !== 'string' || !c.endpointUrl) throw new TypeError('WebhookExporter: url is required');
  return new BuiltinExporter('webhook', c, ['secret', 'headers']);
}

/**
 * GOFF's Kafka exporter on librdkafka: one message per event (key: userKey,
 * value: the event's GOFF JSON, partition: Sarama's for that key), sent as
 * events arrive. `config` holds librdkafka properties, passed through (and
 * hidden from inspect() and toJSON()).
 */
function KafkaExporter(config) {
  return new BuiltinExporter('kafka', goffOptions(config, 'KafkaExporter config'), ['config'], { bulk: false });
}

/**
 * GOFF's Google Pub/Sub exporter (kind pubsub): one message per event on
 * projects/<projectID>/topics/<topic> (or a full topic name), data the
 * event's GOFF JSON, attribute emitter "GO Feature Flag", ordering key the
 * userKey with enableMessageOrdering; sent as events arrive, in requests of
 * at most 1000 messages and 10 MB (4 MiB on an emulator). Credentials as for
 * GCSExporter; PUBSUB_EMULATOR_HOST names an emulator and turns
 * authentication off.
 */
function PubSubExporter(config) {
  const c = goffOptions(config, 'PubSubExporter config');
  if (typeof c.topic !== 'string' || !c.topic) throw new TypeError('PubSubExporter: topic is required');
  return new BuiltinExporter('pubsub', c, ['credentialsJson'], { bulk: false });
}

const AWS_SECRETS = ['accessKeyId', 'secretAccessKey', 'sessionToken'];

/**
 * GOFF's S3 exporter: each batch one object in `bucket`, named path + "/" +
 * filename as GOFF names it, unique, verified, multipart above partSize; the
 * AWS credential chain unless accessKeyId/secretAccessKey/sessionToken are
 * given (hidden from inspect/toJSON).
 */
function S3Exporter(config) {
  const c = goffOptions(config, 'S3Exporter config');
  if (typeof c.bucket !== 'string' || !c.bucket) throw new TypeError('S3Exporter: bucket is required');
  return new BuiltinExporter('s3', c, AWS_SECRETS);
}

/**
 * GOFF's OpenTelemetry exporter with its TracerProvider built in: a span
 * feature_flag.evaluate per feature event, OTLP/HTTP protobuf to a collector.
 * Options as the core's keys (endpoint, tracesEndpoint, headers, serviceName,
 * resourceAttributes, tracerName...); unset ones come from the OTEL_*
 * variables. Spans join the active OpenTelemetry span when
 * @opentelemetry/api is installed.
 */
function OpenTelemetryExporter(config = {}) {
  const c = typeof config === 'string' ? { endpoint: config } : goffOptions(config, 'OpenTelemetryExporter config');
  return new BuiltinExporter('opentelemetry', c, ['headers'], { bulk: false });
}

/**
 * GOFF's Google Cloud Storage exporter (kind googleStorage): one object per
 * batch in `bucket`, named path/<filename>, never overwriting (a taken name
 * gets -1, -2...), each upload verified by CRC-32C; resumable uploads above
 * resumableThreshold bytes. Credentials: Application Default Credentials,
 * credentialsFile, credentialsJson (a secret) or withoutAuthentication;
 * STORAGE_EMULATOR_HOST sets the endpoint and turns authentication off.
 */
function GCSExporter(config) {
  const c = goffOptions(config, 'GCSExporter config');
  if (typeof c.bucket !== 'string' || !c.bucket) throw new TypeError('GCSExporter: bucket is required');
  return new BuiltinExporter('googleStorage', c, ['credentialsJson']);
}

// The Azure kinds' secrets (hidden from util.inspect() and toJSON()); a
// serviceUrl may carry a SAS in its query.
const azureSecrets = ['accountKey', 'sasToken', 'connectionString', 'clientSecret', 'serviceUrl'];

/**
 * GOFF's Azure Blob Storage exporter: each batch one blob in `container`,
 * JSON lines, CSV or Parquet; blobs are never overwritten; blocks above
 * blockSize. Credentials: connectionString, accountKey, sasToken, Entra ID
 * (clientSecret, federatedTokenFile, managed identity), or the environment.
 */
function AzureBlobExporter(config) {
  const c = goffOptions(config, 'AzureBlobExporter config');
  if (typeof c.container !== 'string' || !c.container) throw new TypeError('AzureBlobExporter: container is required');
  return new BuiltinExporter('azureBlobStorage', c, azureSecrets);
}

/**
 * GOFF's Kinesis exporter: each event's GOFF JSON one record of streamName or
 * streamArn (the name wins when both are given), put with PutRecords in
 * requests of at most 500 records and 5 MiB; partitionKey is a GOFF template
 * (default GOFF's constant "default"); failed records are sent again alone,
 * events over the 1 MiB record limit dropped and counted. Synchronous, as
 * GOFF's. The AWS credential chain unless keys are given (hidden).
 */
function KinesisExporter(config) {
  const c = goffOptions(config, 'KinesisExporter config');
  if (!c.streamName && !c.streamArn) throw new TypeError('KinesisExporter: streamName or streamArn is required');
  if (typeof c.explicitHashKey === 'bigint' || typeof c.explicitHashKey === 'number') {
    c.explicitHashKey = String(c.explicitHashKey);
  }
  return new BuiltinExporter('kinesis', c, AWS_SECRETS);
}

/**
 * GOFF's SQS exporter: each event's GOFF JSON one message on queueUrl (or
 * queueName, resolved with GetQueueUrl or built with accountId) with GOFF's
 * emitter attribute, sent with SendMessageBatch (10 entries, maxMessageSize
 * bytes per message and request, default 1 MiB; maxInFlight requests at once,
 * default 8, and 1 for FIFO queues, which keep each group's order); failed entries sent again
 * alone, SenderFault ones and oversized events dropped and counted; FIFO
 * queues get messageGroupId (a template, default "{{ .UserKey}}") and a
 * deduplication id per event. Synchronous, as GOFF's.
 */
function SQSExporter(config) {
  const c = goffOptions(config, 'SQSExporter config');
  if (!c.queueUrl && !c.queueName) throw new TypeError('SQSExporter: queueUrl or queueName is required');
  return new BuiltinExporter('sqs', c, AWS_SECRETS);
}

// ---- retrievers ----------------------------------------------------------------

/** GOFF's file retriever: a local flag file, read at every refresh. */
function FileRetriever(config) {
  const c = typeof config === 'string' ? { path: config } : goffOptions(config, 'FileRetriever config');
  return new BuiltinRetriever('file', c);
}

/** GOFF's HTTP retriever, with conditional GETs (a 304 when unchanged), TLS options and a size limit. */
function HttpRetriever(config) {
  const c = typeof config === 'string' ? { url: config }
    : goffOptions(config, 'HttpRetriever config', { clientCertFile: 'certFile', clientKeyFile: 'keyFile' });
  return new BuiltinRetriever('http', c, ['headers', 'body']);
}

/** GOFF's S3 retriever: `item` of `bucket`, fetched with If-None-Match on its ETag (a 304 when unchanged). */
function S3Retriever(config) {
  const c = goffOptions(config, 'S3Retriever config');
  if (typeof c.bucket !== 'string' || !c.bucket) throw new TypeError('S3Retriever: bucket is required');
  if (typeof c.item !== 'string' || !c.item) throw new TypeError('S3Retriever: item is required');
  return new BuiltinRetriever('s3', c, AWS_SECRETS);
}

/**
 * GOFF's Google Cloud Storage retriever: the flag file `object` in `bucket`,
 * fetched with one conditional download per refresh (a 304 when unchanged).
 */
function GCSRetriever(config) {
  const c = goffOptions(config, 'GCSRetriever config');
  if (typeof c.bucket !== 'string' || !c.bucket) throw new TypeError('GCSRetriever: bucket is required');
  if (typeof c.object !== 'string' || !c.object) throw new TypeError('GCSRetriever: object is required');
  return new BuiltinRetriever('googleStorage', c, ['credentialsJson']);
}

/** GOFF's Azure Blob Storage retriever, with If-None-Match on the ETag (a 304 when unchanged). */
function AzureBlobRetriever(config) {
  const c = goffOptions(config, 'AzureBlobRetriever config');
  for (const k of ['container', 'object']) {
    if (typeof c[k] !== 'string' || !c[k]) throw new TypeError(`AzureBlobRetriever: ${k} is required`);
  }
  return new BuiltinRetriever('azureBlobStorage', c, azureSecrets);
}

// ---- notifiers -----------------------------------------------------------------

/** GOFF's webhook notifier: POSTs {meta, flags: diff} for each change. */
function WebhookNotifier(config) {
  const c = goffOptions(config, 'WebhookNotifier config', { url: 'endpointUrl' });
  if (typeof c.endpointUrl !== 'string' || !c.endpointUrl) throw new TypeError('WebhookNotifier: url is required');
  return new BuiltinNotifier('webhook', c, ['secret', 'headers']);
}

// The chat services' incoming webhooks: the URL is the credential (a
// string, or { fromEnv } / { fromFile }), hidden from inspect() and toJSON().
function chatOptions(config, what) {
  const c = typeof config === 'string' || (config && typeof config === 'object' && ('fromEnv' in config || 'fromFile' in config))
    ? { webhookUrl: config }
    : goffOptions(config, `${what} config`, { url: 'webhookUrl' });
  const url = c.webhookUrl;
  const ok = (typeof url === 'string' && url !== '') || (url && typeof url === 'object');
  if (!ok) throw new TypeError(`${what}: url is required`);
  return c;
}

/** GOFF's Slack notifier: one attachment per changed flag, within Slack's limits. */
function SlackNotifier(config) {
  return new BuiltinNotifier('slack', chatOptions(config, 'SlackNotifier'), ['webhookUrl']);
}

/** GOFF's Discord notifier: one embed per changed flag, within Discord's limits. */
function DiscordNotifier(config) {
  return new BuiltinNotifier('discord', chatOptions(config, 'DiscordNotifier'), ['webhookUrl']);
}

/** GOFF's Microsoft Teams notifier: an Adaptive Card to a Teams Workflows webhook. */
function TeamsNotifier(config) {
  return new BuiltinNotifier('microsoftteams', chatOptions(config, 'TeamsNotifier'), ['webhookUrl']);
}

// ---- git hosts -------------------------------------------------------------------

function gitRetriever(kind, config, what) {
  const c = goffOptions(config, `${what} config`);
  for (const key of ['repositorySlug', 'path']) {
    if (typeof c[key] !== 'string' || c[key] === '') throw new TypeError(`${what}: ${key} is required`);
  }
  return new BuiltinRetriever(kind, c, ['token']);
}

/** GOFF's GitHub retriever (contents API; baseUrl for GitHub Enterprise), conditional and rate-limit aware. */
function GitHubRetriever(config) {
  return gitRetriever('github', config, 'GitHubRetriever');
}

/** GOFF's GitLab retriever (repository files API; baseUrl for a self-hosted GitLab). */
function GitLabRetriever(config) {
  return gitRetriever('gitlab', config, 'GitLabRetriever');
}

/** GOFF's Bitbucket retriever (2.0 src API, an access token). */
function BitbucketRetriever(config) {
  return gitRetriever('bitbucket', config, 'BitbucketRetriever');
}

module.exports = {
  Builtin,
  BuiltinExporter,
  BuiltinRetriever,
  BuiltinNotifier,
  goffOptions,
  FileExporter,
  LogExporter,
  WebhookExporter,
  KafkaExporter,
  PubSubExporter,
  S3Exporter,
  OpenTelemetryExporter,
  GCSExporter,
  AzureBlobExporter,
  KinesisExporter,
  SQSExporter,
  FileRetriever,
  HttpRetriever,
  AzureBlobRetriever,
  S3Retriever,
  GCSRetriever,
  GitHubRetriever,
  GitLabRetriever,
  BitbucketRetriever,
  WebhookNotifier,
  SlackNotifier,
  DiscordNotifier,
  TeamsNotifier,
};
