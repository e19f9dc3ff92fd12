// Type declarations for vexil (CommonJS and ESM entry points).

/** A JSON value as flags and contexts hold it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A context attribute. Dates become ISO 8601 strings; BigInts within 64 bits
 * become integers; undefined members are skipped. Symbols and functions are
 * refused (TypeError, or an ERROR result when read lazily from a plain object).
 */
export type AttributeValue =
  | null | undefined | boolean | number | bigint | string | Date
  | AttributeValue[] | { [key: string]: AttributeValue };

/** A plain-object evaluation context, as OpenFeature shapes it. */
export interface EvaluationContext {
  targetingKey?: string;
  [attribute: string]: AttributeValue;
}

/** GOFF's reasons (plus any string a future engine may add). */
export type Reason =
  | 'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'TARGETING_MATCH_SPLIT' | 'SPLIT'
  | 'DISABLED' | 'ERROR' | 'UNKNOWN' | (string & {});

export type ErrorCode =
  | 'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'TARGETING_KEY_MISSING' | 'FLAG_CONFIG' | 'GENERAL'
  | 'PARSE_ERROR' | 'INVALID_CONTEXT' | 'PROVIDER_NOT_READY';

/** The full result of an evaluation (engine.*Details()). */
export interface EvaluationDetails<T> {
  /** The flag's value, or the default on errors and when the flag is disabled. */
  value: T;
  /** The variation name; "SdkDefault" on errors and when disabled. */
  variant: string;
  reason: Reason;
  /** Set only when reason is 'ERROR'. */
  errorCode: ErrorCode | undefined;
  errorMessage: string | undefined;
  /** The flag's metadata, plus evaluatedRuleName when a named rule matched. */
  flagMetadata: { [key: string]: JsonValue };
  /** The flag's version ("" when unset). */
  version: string;
  /** Whether this evaluation produced a feature event (GOFF's trackEvents). */
  trackEvents: boolean;
  /** GOFF's cacheable flag. */
  cacheable: boolean;
}

/** A feature event (GOFF's shape). */
export interface FeatureEvent {
  kind: 'feature';
  contextKind?: 'user' | 'anonymousUser' | string;
  userKey: string;
  creationDate: number;
  key: string;
  variation: string;
  value: JsonValue;
  default: boolean;
  version: string;
  source: string;
  metadata?: { [key: string]: JsonValue };
}

/** A tracking event (GOFF's shape). */
export interface TrackingEvent {
  kind: 'tracking';
  contextKind?: 'user' | 'anonymousUser' | string;
  userKey: string;
  creationDate: number;
  key: string;
  evaluationContext: { [key: string]: JsonValue };
  trackingEventDetails: { [key: string]: JsonValue } | null;
}

export type ExportEvent = FeatureEvent | TrackingEvent;

/**
 * A JavaScript exporter. A throw, a rejected Promise or `false` is a failed
 * export: the same events are offered again after a backoff.
 */
export type ExportFunction = (events: ExportEvent[]) => unknown | Promise<unknown>;
export interface ExporterObject {
  export(events: ExportEvent[]): unknown | Promise<unknown>;
}

export interface ExporterOptions {
  /** Which events the exporter receives (default 'feature'). */
  eventType?: 'feature' | 'tracking';
  /** true (default): batches every flushInterval or at maxEvents; false: as events arrive. */
  bulk?: boolean;
  /** Milliseconds between bulk deliveries (default 60000). */
  flushInterval?: number;
  /** Pending events that trigger an early delivery (default 100000). */
  maxEvents?: number;
  /** The largest batch handed over at once (default 100000). */
  maxBatchEvents?: number;
  /** Memory cap for undelivered events; past it the oldest are dropped and counted (default 256 MiB). */
  maxMemoryBytes?: number;
  /** First retry delay after a failed export, doubled up to retryMax (defaults 1000 and 60000 ms). */
  retryInitial?: number;
  retryMax?: number;
  /** Name in stats() and logs (default "<kind>-<n>" or "exporter-<n>"). */
  name?: string;
}

/**
 * A secret (token, key, password, webhook secret): the value itself, or the
 * name of an environment variable or a file the core reads it from. Never shown
 * by util.inspect() or JSON.stringify() of a built-in description.
 */
export type Secret = string | { fromEnv: string } | { fromFile: string };

/**
 * A built-in exporter, retriever or notifier of the C core: a kind (GOFF's
 * name) and options under GOFF's configuration keys, which the core checks
 * when the description is added (a bad key throws a TypeError naming it).
 */
export class Builtin {
  readonly kind: string;
  /** The GOFF-keyed options handed to the core (a copy). */
  readonly options: { [key: string]: JsonValue };
  toJSON(): { [key: string]: JsonValue };
}
/** A built-in exporter of the C core; pass it to engine.addExporter(). */
export class BuiltinExporter extends Builtin {}
/** A built-in retriever; pass it to Engine.fromRetrievers(). */
export class BuiltinRetriever extends Builtin {}
/** A built-in notifier; pass it to engine.addNotifier(). */
export class BuiltinNotifier extends Builtin {}

export interface FileExporterConfig {
  /** Directory for the files (created when missing; default "."). */
  outputDir?: string;
  /**
   * 'json' (JSON lines, default), 'csv' or 'parquet' (GOFF's Parquet schema, one file per
   * batch; a name already used gets "-1", "-2"... before the extension). Case-insensitive; as in GOFF, any
   * other name writes JSON lines under that extension.
   */
  format?: 'json' | 'csv' | 'parquet' | 'JSON' | 'CSV' | 'PARQUET' | string;
  /** GOFF's file name template (default "flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}"). */
  filename?: string;
  /** GOFF's CSV line template. */
  csvTemplate?: string;
  /** Parquet codec: 'UNCOMPRESSED', 'SNAPPY' (default), 'GZIP' or 'ZSTD' (case-insensitive). */
  parquetCompressionCodec?: string;
}

export interface LogExporterConfig {
  /** GOFF's log line template. */
  format?: string;
  /** Where lines go: a function, or an object with info(); default: stderr (from a native thread). */
  log?: ((line: string) => void) | { info(line: string): void };
}

export interface WebhookExporterConfig {
  url: string;
  /** Adds X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>. */
  secret?: Secret;
  headers?: { [name: string]: string | string[] };
  /** Sent as the body's "meta" (plus "hostname"). */
  meta?: { [key: string]: JsonValue };
  /** Request timeout in ms (default 10000). */
  timeout?: number;
  insecureSkipVerify?: boolean;
  caFile?: string;
}

/**
 * OpenTelemetry exporter options. Unset ones come from the standard variables
 * (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT, _COMPRESSION,
 * _CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER[_ARG]).
 */
export interface OpenTelemetryExporterConfig {
  /** The collector's base URL: /v1/traces is appended (default http://localhost:4318). */
  endpoint?: string;
  /** The full traces URL, used as it is. */
  tracesEndpoint?: string;
  /** Request headers; a value may be a Secret. */
  headers?: { [name: string]: string | string[] | { fromEnv: string } | { fromFile: string } };
  /** GOFF's tracerName: the instrumentation scope (default "go-feature-flag"). */
  tracerName?: string;
  /** The resource's service.name (default "unknown_service"). */
  serviceName?: string;
  resourceAttributes?: { [key: string]: string | number | boolean };
  /** Request timeout in ms (default 10000). */
  timeout?: number;
  compression?: 'gzip' | 'none';
  insecureSkipVerify?: boolean;
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  /** Spans per request (default 512). */
  maxSpansPerRequest?: number;
  /** Bytes per request before compression (default 4 MiB). */
  maxRequestBytes?: number;
  /** The semantic conventions' feature_flag.evaluation span event (default true). */
  evaluationEvent?: boolean;
  /** feature_flag.result.value on that event even when a variant is known (default false). */
  resultValue?: boolean;
  /** feature_flag.provider.name (default "vexil"). */
  providerName?: string;
  sampler?: 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio'
    | 'always_on' | 'always_off' | 'traceidratio';
  /** The traceidratio samplers' ratio, in [0, 1] (default 1). */
  samplerArg?: number;
  /**
   * Spans join the context's traceparent or the active span (default true);
   * false makes them roots timed to the second, as GOFF's, and spares
   * evaluations the lookup.
   */
  traceContext?: boolean;
}

/** A librdkafka property value; a secret one may come from the environment or a file. */
export type KafkaPropertyValue = string | number | boolean | Array<string | number | boolean> | { fromEnv: string } | { fromFile: string };

export interface KafkaExporterConfig {
  /** The topic every event goes to. */
  topic: string;
  /** Bootstrap brokers: ['host:9092', ...] or GOFF's comma-separated string (or bootstrap.servers in config). */
  addresses?: string | string[];
  /**
   * librdkafka properties, passed through as its CONFIGURATION.md documents them:
   * { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': 'app',
   *   'sasl.password': { fromEnv: 'KAFKA_PASSWORD' }, 'compression.type': 'zstd' }.
   * Defaults: enable.idempotence true (acks all), message.timeout.ms 30000, client.id 'vexil',
   * Sarama's hash partitioner. GOFF's sarama fields net.sasl.*, net.tls.enable and clientID are translated.
   */
  config?: { [property: string]: KafkaPropertyValue | { [field: string]: JsonValue } };
}

/** GOFF's Kafka exporter (synchronous, as GOFF's: events are sent as they arrive). */
export function KafkaExporter(config: KafkaExporterConfig): BuiltinExporter;
export interface PubSubExporterConfig {
  /** GOFF's projectID (default: the credentials' project); not needed when topic is a full name. */
  projectID?: string;
  /** GOFF's topic: a topic id, or its full name projects/PROJECT/topics/TOPIC. */
  topic: string;
  /** The userKey as each message's ordering key (GOFF's option, which sets none). Default false. */
  enableMessageOrdering?: boolean;
  /** Default: PUBSUB_EMULATOR_HOST's (cleartext HTTP/2), else https://pubsub.googleapis.com. */
  endpoint?: string;
  /** A service-account or authorized-user key file (default: Application Default Credentials). */
  credentialsFile?: string;
  /** The key file's JSON text (hidden from inspect and toJSON). */
  credentialsJson?: Secret;
  /** No credentials; PUBSUB_EMULATOR_HOST implies it. */
  withoutAuthentication?: boolean;
  /** Each Publish call's deadline, in ms (default 60000). */
  timeout?: number;
  /** Messages per Publish request, 1 to 1000 (default 1000). */
  maxMessagesPerRequest?: number;
  /** Bytes per Publish request, 1024 to 10000000 (default 10000000; 4194304 on an emulator). */
  maxRequestBytes?: number;
  caFile?: string;
  insecureSkipVerify?: boolean;
}

/** GOFF's Google Pub/Sub exporter (synchronous, as GOFF's: events are sent as they arrive). */
export function PubSubExporter(config: PubSubExporterConfig): BuiltinExporter;
/** What every AWS kind (S3 exporter and retriever) reads besides its own keys. */
export interface AwsOptions {
  /** Else AWS_REGION, AWS_DEFAULT_REGION, the profile's region. */
  region?: string;
  /** An S3-compatible store or a local server; else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, AWS's own. */
  endpoint?: string;
  /** Path-style addressing (/bucket/key); default: on for a configured endpoint and for bucket names that are not DNS names. */
  forcePathStyle?: boolean;
  /** The shared files' profile (else AWS_PROFILE, else "default"). */
  profile?: string;
  /** Explicit keys instead of the credential chain (environment, profile, web identity, container, IMDSv2). */
  accessKeyId?: Secret;
  secretAccessKey?: Secret;
  sessionToken?: Secret;
  /** Per request, in ms (exporter default 30000, retriever 10000). */
  timeout?: number;
  caFile?: string;
  insecureSkipVerify?: boolean;
}

/** Credentials and endpoint of the Google Cloud Storage kinds. */
export interface GCSOptions {
  bucket: string;
  /** Default: STORAGE_EMULATOR_HOST's, else https://storage.googleapis.com. */
  endpoint?: string;
  /** A service-account or authorized-user key file (default: Application Default Credentials). */
  credentialsFile?: string;
  /** The key file's JSON text (hidden from inspect and toJSON). */
  credentialsJson?: Secret;
  /** No credentials (emulators, public buckets); STORAGE_EMULATOR_HOST implies it. */
  withoutAuthentication?: boolean;
  /** Per request, in ms (exporter 60000, retriever 10000). */
  timeout?: number;
  caFile?: string;
  insecureSkipVerify?: boolean;
}

export interface S3ExporterConfig extends AwsOptions {
  bucket: string;
  /** GOFF's S3Path: objects are named path + "/" + filename. */
  path?: string;
  format?: 'json' | 'csv' | 'parquet' | 'JSON' | 'CSV' | 'PARQUET' | string;
  filename?: string;
  csvTemplate?: string;
  parquetCompressionCodec?: string;
  /** Multipart upload in parts of this many bytes above it (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** If-None-Match: * so another writer's object is never overwritten (default true). */
  conditionalWrite?: boolean;
  /** No leading, trailing or doubled slashes in object names (GOFF's join keeps them; default false). */
  cleanPath?: boolean;
  /** Default: over https an unsigned payload with 'CRC32C' (x-amz-checksum-crc32c), over http 'SHA256' (the signed payload hash, sent as x-amz-checksum-sha256 too). 'SHA256' signs the payload over https too; 'MD5': Content-MD5 and the ETag. */
  checksum?: 'CRC32C' | 'SHA256' | 'MD5';
}

/** The AWS keys of the Kinesis and SQS exporters (no path-style addressing there). */
export type AwsStreamOptions = Omit<AwsOptions, 'forcePathStyle'>;

export interface KinesisExporterConfig extends AwsStreamOptions {
  /** GOFF's streamName; wins over streamArn when both are given (GOFF's relay proxy). */
  streamName?: string;
  /** GOFF's streamArn (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME); its region is used when none is given. */
  streamArn?: string;
  /** A GOFF template over the event: "default" (GOFF's constant, the default) or "{{ .UserKey}}"... */
  partitionKey?: string;
  /** A decimal integer below 2^128: the shard's hash key, instead of the partition key's MD5. */
  explicitHashKey?: string | bigint | number;
}

export interface SQSExporterConfig extends AwsStreamOptions {
  /** GOFF's queueUrl. */
  queueUrl?: string;
  /** Instead of queueUrl: resolved with GetQueueUrl, or built with accountId. */
  queueName?: string;
  /** 12 digits: the queue's owner. */
  accountId?: string;
  /** A GOFF template (or a constant): FIFO queues default to "{{ .UserKey}}"; standard queues send none unless set. */
  messageGroupId?: string;
  /** Bytes per message (attributes included) and per request: 1024 to 1048576 (the default, SQS's limit since 2026). */
  maxMessageSize?: number;
  /** Requests sent at once, 1 to 16: 8 by default for a standard queue; a FIFO queue takes only 1 (its default), which keeps each message group in order. */
  maxInFlight?: number;
}

export interface S3RetrieverConfig extends AwsOptions {
  bucket: string;
  item: string;
  format?: 'json' | 'yaml' | 'auto';
  maxResponseBytes?: number;
}

export interface GCSExporterConfig extends GCSOptions {
  /** Object name prefix, joined as GOFF does (path.Clean(path + "/" + filename)). */
  path?: string;
  format?: 'json' | 'csv' | 'parquet' | string;
  filename?: string;
  csvTemplate?: string;
  parquetCompressionCodec?: string;
  /** Bodies above this many bytes go as resumable uploads (default 8 MiB). */
  resumableThreshold?: number;
  /** Resumable chunk size, a multiple of 262144 (default 8 MiB). */
  resumableChunkSize?: number;
}

export interface GCSRetrieverConfig extends GCSOptions {
  object: string;
  format?: 'json' | 'yaml' | 'auto';
  /** Objects larger than this fail (default 64 MiB). */
  maxResponseBytes?: number;
}

/**
 * The Azure credentials and endpoint every Azure kind takes. The first that
 * applies wins: connectionString, accountKey (SharedKey), sasToken,
 * clientSecret (with tenantId and clientId), federatedTokenFile (workload
 * identity), the AZURE_STORAGE_CONNECTION_STRING variable, then the Azure
 * SDKs' DefaultAzureCredential order (AZURE_TENANT_ID + AZURE_CLIENT_ID +
 * AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, managed identity).
 */
export interface AzureCredentialConfig {
  /** The storage account (optional when the connection string or serviceUrl names it). */
  accountName?: string;
  /** The account key (base64): SharedKey signing. */
  accountKey?: Secret;
  /** Instead of https://<accountName>.blob.core.windows.net (Azurite: http://127.0.0.1:10000/devstoreaccount1). */
  serviceUrl?: string;
  /** A shared access signature ("sv=...&sig=..."), sent as the query. */
  sasToken?: Secret;
  /** "AccountName=...;AccountKey=...", "BlobEndpoint=...;SharedAccessSignature=...", or "UseDevelopmentStorage=true". */
  connectionString?: Secret;
  /** Forces one credential instead of the first that applies. */
  credential?: 'default' | 'sharedKey' | 'sas' | 'clientSecret' | 'workloadIdentity' | 'managedIdentity' | 'anonymous';
  /** Entra ID: the tenant (default AZURE_TENANT_ID). */
  tenantId?: string;
  /** Entra ID: the app (default AZURE_CLIENT_ID); with managed identity, a user-assigned identity. */
  clientId?: string;
  /** Entra ID: the app's client secret (default AZURE_CLIENT_SECRET). */
  clientSecret?: Secret;
  /** Workload identity: the federated token file (default AZURE_FEDERATED_TOKEN_FILE). */
  federatedTokenFile?: string;
  /** Entra ID: the authority (default AZURE_AUTHORITY_HOST or https://login.microsoftonline.com). */
  authorityHost?: string;
  /** Per request, in ms (exporter default 30000, retriever 10000). */
  timeout?: number;
  caFile?: string;
  insecureSkipVerify?: boolean;
}

export interface AzureBlobExporterConfig extends AzureCredentialConfig {
  container: string;
  /** Blobs go to path + "/" + filename (GOFF's naming); at the container's root when absent. */
  path?: string;
  /** 'json' (default), 'csv' or 'parquet', as FileExporter. */
  format?: 'json' | 'csv' | 'parquet' | 'JSON' | 'CSV' | 'PARQUET' | string;
  filename?: string;
  csvTemplate?: string;
  parquetCompressionCodec?: string;
  /** Files up to this many bytes are one Put Blob; larger ones go as blocks of this size (default 8 MiB). */
  blockSize?: number;
  /** 'CRC64' (default: x-ms-content-crc64 on every request, the file's CRC-64 as the blob's vexilcrc64 metadata) or 'MD5' (Content-MD5, and the blob's Content-MD5). */
  checksum?: 'CRC64' | 'MD5';
}

export interface AzureBlobRetrieverConfig extends AzureCredentialConfig {
  container: string;
  /** The flag file's blob name. */
  object: string;
  format?: 'json' | 'yaml' | 'auto';
}

export function FileExporter(config?: FileExporterConfig): BuiltinExporter;
/** GOFF's Azure Blob Storage exporter (kind azureBlobStorage). */
export function AzureBlobExporter(config: AzureBlobExporterConfig): BuiltinExporter;
/** GOFF's Azure Blob Storage retriever, with If-None-Match on the ETag (a 304 when unchanged). */
export function AzureBlobRetriever(config: AzureBlobRetrieverConfig): BuiltinRetriever;
/** GOFF's S3 exporter: a batch per object, unique names, multipart, verified uploads. */
export function S3Exporter(config: S3ExporterConfig): BuiltinExporter;
/** GOFF's Google Cloud Storage exporter: one verified, never-overwriting object per batch. */
export function GCSExporter(config: GCSExporterConfig): BuiltinExporter;
/** GOFF's Google Cloud Storage retriever, with a conditional download per refresh. */
export function GCSRetriever(config: GCSRetrieverConfig): BuiltinRetriever;
/** GOFF's Kinesis exporter: PutRecords within Kinesis's limits, failed records retried alone. */
export function KinesisExporter(config: KinesisExporterConfig): BuiltinExporter;
/** GOFF's SQS exporter: SendMessageBatch with the emitter attribute, FIFO groups and deduplication. */
export function SQSExporter(config: SQSExporterConfig): BuiltinExporter;
export function LogExporter(config?: LogExporterConfig): BuiltinExporter;
export function WebhookExporter(config: WebhookExporterConfig): BuiltinExporter;
/**
 * GOFF's OpenTelemetry exporter: a span feature_flag.evaluate per feature
 * event, sent as OTLP/HTTP protobuf. A string is the endpoint. Spans join the
 * context's traceparent attribute, else the active OpenTelemetry span (when
 * @opentelemetry/api is installed).
 */
export function OpenTelemetryExporter(config?: OpenTelemetryExporterConfig | string): BuiltinExporter;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

export interface EngineOptions {
  /** How flags given as text are read (default 'auto': JSON if it starts with '{', else YAML). */
  format?: 'auto' | 'json' | 'yaml' | 'toml';
  /** GOFF's Environment: every evaluation sees the attribute env=<environment>. */
  environment?: string;
  /** Attributes added to every context, overriding the context's own (GOFF's EvaluationContextEnrichment). */
  enrichment?: { [key: string]: JsonValue };
  /** The feature events' "source" field (default "SERVER"). */
  eventSource?: string;
  /** Merged into every feature event's metadata. */
  exporterMetadata?: { [key: string]: JsonValue };
  /**
   * Where engine diagnostics go, on the JavaScript thread: a function
   * (level, message), a console-like object, or false for none. Default:
   * console.warn / console.error, prefixed "vexil: ".
   */
  logger?: ((level: Exclude<LogLevel, 'off'>, message: string) => void) | Partial<Record<'debug' | 'info' | 'warn' | 'error' | 'log', (message: string) => void>> | false;
  /** The lowest level passed to the logger (default 'warn'). */
  logLevel?: LogLevel;
  /**
   * Deliver pending events when the process exits (default true): a flush at
   * 'beforeExit', a bounded synchronous close at 'exit' (built-in exporters only).
   */
  flushOnExit?: boolean;
  /** Milliseconds the exit-time delivery may take (default 5000, as flush() and close()). */
  exitTimeout?: number;
}

/** What an engine serves: see Engine.status. */
export type EngineStatus = 'NOT_READY' | 'READY' | 'STALE' | 'ERROR';

/** How a live engine (fromUrl, fromFile with pollInterval) starts and refreshes. */
export interface LiveOptions {
  /**
   * Milliseconds between refreshes, made by a thread of the engine (fromUrl:
   * default 60000; at least 1000; 0: never, call refresh()). For fromFile, giving
   * it (or any live option) makes the engine re-read the file.
   */
  pollInterval?: number;
  /** Add a random offset of up to +/-10% to the interval, chosen once (default false). */
  jitter?: boolean;
  /** Failed refreshes in a row before the status is STALE (default 3). */
  staleAfter?: number;
  /** The last good configuration is written there (YAML) after each change, and read at start-up when the first retrieval fails. */
  persistentFile?: string;
  /** Start even when the first retrieval fails and nothing is persisted: defaults, status ERROR, polling goes on. */
  startWithError?: boolean;
  /** How long the first retrieval may take, in ms (default 10000; Infinity: no limit). */
  startTimeout?: number;
  /** Report the first load to listeners as "everything added" (default false); onChange listeners registered later hear it. */
  notifyOnStart?: boolean;
}

/** GOFF's HTTP retriever: HttpRetriever(), and the options of fromUrl. */
export interface HttpRetrieverOptions {
  /** Sent with each request. */
  headers?: { [name: string]: string | string[] };
  /** Per request, in ms (default 10000). */
  timeout?: number;
  /** Default 'GET'. */
  method?: string;
  body?: string;
  /** Responses larger than this fail (default 64 MiB). */
  maxResponseBytes?: number;
  /** Skip TLS certificate verification (default false: verified). */
  insecureSkipVerify?: boolean;
  /** PEM files: CA bundle, and a client certificate and key for mutual TLS. */
  caFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  /** 'json', 'yaml' or 'toml'; by default the URL path's extension, else the content. */
  format?: 'json' | 'yaml' | 'toml' | 'auto';
}
export interface UrlOptions extends LiveOptions, HttpRetrieverOptions {}
export interface HttpRetrieverConfig extends HttpRetrieverOptions {
  url: string;
}
export interface FileRetrieverConfig {
  path: string;
  format?: 'json' | 'yaml' | 'toml' | 'auto';
}
/** GOFF's file retriever: a local flag file, read at every refresh. */
export function FileRetriever(config: FileRetrieverConfig | string): BuiltinRetriever;
/** GOFF's HTTP retriever, with conditional GETs (a 304 when unchanged). */
export function HttpRetriever(config: HttpRetrieverConfig | string): BuiltinRetriever;
/** GOFF's S3 retriever, with If-None-Match on the ETag (a 304 when unchanged). */
export function S3Retriever(config: S3RetrieverConfig): BuiltinRetriever;

/** A configuration change: the changed keys (sorted) and GOFF's DiffCache. */
export interface ConfigChange {
  flagsChanged: string[];
  diff: {
    added: { [key: string]: JsonValue };
    deleted: { [key: string]: JsonValue };
    updated: { [key: string]: { old_value: JsonValue; new_value: JsonValue } };
  };
}

export interface RefreshStats {
  /** Attempts since start, the first retrieval included. */
  refreshes: number;
  failures: number;
  /** Successful attempts that changed nothing (304s included). */
  unchanged: number;
  /** Successful attempts that published a new configuration. */
  changes: number;
  consecutiveFailures: number;
  lastSuccess: Date | null;
}

export interface WebhookNotifierConfig {
  url: string;
  /** Adds X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>. */
  secret?: Secret;
  headers?: { [name: string]: string | string[] };
  /** Sent as the body's "meta" (plus "hostname"). */
  meta?: { [key: string]: JsonValue };
  /** Request timeout in ms (default 10000). */
  timeout?: number;
  insecureSkipVerify?: boolean;
  caFile?: string;
}

/** GOFF's webhook notifier: POSTs {meta, flags: diff} for each change. */
export function WebhookNotifier(config: WebhookNotifierConfig): BuiltinNotifier;

/** How every built-in notifier retries a failed delivery (vexil's keys, in ms). */
export interface NotifierRetryOptions {
  /** Retries after the first attempt (default 3); then the failure is logged. */
  maxRetries?: number;
  /** The first wait (default 1000), doubling up to retryMax (default 30000); a service's Retry-After wins. */
  retryInitial?: number;
  retryMax?: number;
}

/** A chat service's incoming webhook; the URL is the credential (hidden from inspect() and toJSON()). */
export interface ChatNotifierConfig extends NotifierRetryOptions {
  url: Secret;
  /** Request timeout in ms (default 10000; Teams 5000). */
  timeout?: number;
  insecureSkipVerify?: boolean;
  caFile?: string;
}
export interface TeamsNotifierConfig extends ChatNotifierConfig {
  /** Check that the URL is a Teams Workflows webhook (default true). */
  validateUrl?: boolean;
}
/** GOFF's Slack notifier: one attachment per changed flag, within Slack's limits. */
export function SlackNotifier(config: ChatNotifierConfig | string): BuiltinNotifier;
/** GOFF's Discord notifier: one embed per changed flag (10 at most), within Discord's limits. */
export function DiscordNotifier(config: ChatNotifierConfig | string): BuiltinNotifier;
/** GOFF's Microsoft Teams notifier: an Adaptive Card to a Teams Workflows webhook. */
export function TeamsNotifier(config: TeamsNotifierConfig | string): BuiltinNotifier;

/** A file in a git host's repository, by GOFF's keys. Requests are conditional and the host's rate limit is honoured. */
export interface GitRetrieverConfig {
  /** "owner/repo" (GitLab: "group/subgroup/project"); ".." is refused. */
  repositorySlug: string;
  /** The flag file in the repository; ".." is refused. */
  path: string;
  /** Default 'main'. */
  branch?: string;
  /** A personal or repository access token (hidden from inspect() and every message). */
  token?: Secret;
  /** GitHub Enterprise (https://HOST/api/v3), a self-hosted GitLab or Bitbucket. */
  baseUrl?: string;
  /** Per request, in ms (default 10000). */
  timeout?: number;
  format?: 'json' | 'yaml' | 'toml' | 'auto';
  insecureSkipVerify?: boolean;
  caFile?: string;
  maxResponseBytes?: number;
}
/** GOFF's GitHub retriever (the contents API). */
export function GitHubRetriever(config: GitRetrieverConfig): BuiltinRetriever;
/** GOFF's GitLab retriever (the repository files API). */
export function GitLabRetriever(config: GitRetrieverConfig): BuiltinRetriever;
/** GOFF's Bitbucket retriever (the 2.0 src API). */
export function BitbucketRetriever(config: GitRetrieverConfig): BuiltinRetriever;

/** Delivery counters of the built-in notifiers (Engine#notifierStats). */
export interface NotifierStats {
  delivered: number;
  retries: number;
  /** Given up on: retries exhausted, a permanent error, or undelivered at close. */
  failed: number;
  /** Dropped from a full queue. */
  dropped: number;
  pending: number;
}

/** Engine.fromConfig()'s options, besides the Engine options. */
export interface ConfigFileOptions {
  /** The file's format (default: its extension, else YAML). */
  format?: 'yaml' | 'yml' | 'json' | 'toml';
  /** One of GOFF's flagsets, by name (or index "0"). */
  flagset?: string;
  /** Apply GOFF's environment-variable overrides (RETRIEVERS_0_PATH=...); default true. */
  env?: boolean;
  /** How long the first retrieval may take, in ms (default 10000). */
  startTimeout?: number;
  /** Failed refreshes in a row before the status is STALE (default 3). */
  staleAfter?: number;
}

/** One exporter's counters (Python's, camelCased). */
export interface ExporterStats {
  /** Events delivered. */
  exported: number;
  /** Export calls that failed (each is retried with backoff). */
  failedAttempts: number;
  /** Events dropped by the memory cap, left undelivered at close, or refused by the service (too large). */
  dropped: number;
  /** Events waiting for the exporter now. */
  pending: number;
  /** Memory held for the exporter now. */
  retainedBytes: number;
  /** Why the last attempt failed (the service's code and message); null after a success. */
  lastError: string | null;
}

/** The counters summed over the exporters, and per exporter name. */
export interface EngineStats extends Omit<ExporterStats, 'lastError'> {
  exporters: { [name: string]: ExporterStats };
}

/** A reusable evaluation context: converted once, evaluated at no conversion cost. */
export class Context {
  constructor(targetingKey?: string | null, attributes?: { [key: string]: AttributeValue });
  readonly targetingKey: string | undefined;
  readonly attributes: { [key: string]: AttributeValue };
}

export type ContextArg = Context | EvaluationContext | null | undefined;

/** A flag configuration that does not parse or is not a configuration. */
export class ConfigError extends Error {
  /** The core's status name: 'VX_EPARSE', 'VX_ECONFIG', 'VX_ELIMIT', 'VX_EIO'... */
  code: string;
  /** 1-based position in the document, when known. */
  line?: number;
  column?: number;
}

export class Engine {
  /**
   * @param flags a flags object, JSON or YAML text (a string, Buffer or Uint8Array of UTF-8), or nothing
   * @throws ConfigError when the flags do not parse
   */
  constructor(flags?: object | string | Uint8Array | null, options?: EngineOptions);
  /**
   * An engine reading a GOFF flag file (.json, .yaml, .yml). With pollInterval
   * (or another live option) a thread of the engine re-reads it and publishes edits.
   * @throws ConfigError when the file cannot be read or does not parse
   */
  static fromFile(path: string, options?: EngineOptions & LiveOptions): Engine;
  /**
   * An engine whose configuration lives at `url`, polled every pollInterval ms
   * (If-None-Match / If-Modified-Since: unchanged costs a 304). Resolves once the
   * first retrieval succeeded; rejects with ConfigError when it fails (unless
   * persistentFile or startWithError).
   */
  static fromUrl(url: string, options?: EngineOptions & UrlOptions): Promise<Engine>;
  /**
   * An engine whose configuration comes from `retrievers`, merged in order (a
   * later retriever's flag replaces an earlier one's). Resolves once the first
   * retrieval succeeded; rejects with ConfigError when it fails (unless
   * persistentFile or startWithError); then polls every pollInterval ms.
   */
  static fromRetrievers(retrievers: BuiltinRetriever[], options?: EngineOptions & LiveOptions): Promise<Engine>;
  /**
   * An engine set up by a GO Feature Flag configuration file (goff-proxy.yaml;
   * YAML, JSON or TOML): retrievers, polling, exporters, notifiers, as the
   * core reads them for every language. Rejects with a ConfigError naming
   * the key path ("exporters[1].bucket: required for kind s3").
   */
  static fromConfig(path: string, options?: EngineOptions & ConfigFileOptions): Promise<Engine>;
  /** The "from-env" format: each flag is a JSON document in the environment variable named after it. */
  static fromEnv(options?: EngineOptions): Engine;

  /** Replaces the configuration; throws ConfigError and keeps the last good one on failure. */
  load(flags: object | string | Uint8Array): void;
  loadFile(path: string): void;
  /** The keys of the valid flags. */
  flagKeys(): string[];

  /** NOT_READY (no configuration yet), READY, STALE (the last staleAfter refreshes failed), ERROR (started without one). */
  readonly status: EngineStatus;
  /** Retrieves now; rejects with ConfigError on failure (the last good configuration stays). */
  refresh(): Promise<void>;
  refreshStats(): RefreshStats;
  /**
   * Calls cb after each publication that changes flags (load(), refresh(),
   * polling), on the JavaScript thread. Returns a function that unsubscribes.
   * A listener that throws is reported to the logger. Listening keeps the
   * engine alive until close().
   */
  onChange(cb: (change: ConfigChange) => void): () => void;
  /** Calls cb when the status changes (READY -> STALE -> READY, ERROR -> READY). Returns an unsubscribe function. */
  onStatusChange(cb: (status: EngineStatus) => void): () => void;
  /** GOFF's webhook notifier: POSTs {meta, flags: diff} for each change, from a thread of the core. */
  addWebhookNotifier(config: WebhookNotifierConfig): void;
  /** GOFF's Slack notifier (see SlackNotifier). */
  addSlackNotifier(config: ChatNotifierConfig | string): void;
  /** GOFF's Discord notifier (see DiscordNotifier). */
  addDiscordNotifier(config: ChatNotifierConfig | string): void;
  /** GOFF's Microsoft Teams notifier (see TeamsNotifier). */
  addTeamsNotifier(config: TeamsNotifierConfig | string): void;
  /** Delivery counters of the built-in notifiers. */
  notifierStats(): NotifierStats;
  /** Registers a built-in notifier: told of every configuration change, from a thread of the core. */
  addNotifier(notifier: BuiltinNotifier): void;

  boolValue(flag: string, defaultValue: boolean, ctx?: ContextArg): boolean;
  stringValue(flag: string, defaultValue: string, ctx?: ContextArg): string;
  numberValue(flag: string, defaultValue: number, ctx?: ContextArg): number;
  intValue(flag: string, defaultValue: number, ctx?: ContextArg): number;
  floatValue(flag: string, defaultValue: number, ctx?: ContextArg): number;
  objectValue<T extends JsonValue = JsonValue>(flag: string, defaultValue: T, ctx?: ContextArg): T;

  boolDetails(flag: string, defaultValue: boolean, ctx?: ContextArg): EvaluationDetails<boolean>;
  stringDetails(flag: string, defaultValue: string, ctx?: ContextArg): EvaluationDetails<string>;
  numberDetails(flag: string, defaultValue: number, ctx?: ContextArg): EvaluationDetails<number>;
  intDetails(flag: string, defaultValue: number, ctx?: ContextArg): EvaluationDetails<number>;
  floatDetails(flag: string, defaultValue: number, ctx?: ContextArg): EvaluationDetails<number>;
  objectDetails<T extends JsonValue = JsonValue>(flag: string, defaultValue: T, ctx?: ContextArg): EvaluationDetails<T>;

  /** Records a tracking event (for exporters with eventType 'tracking'). Ignored after close(). */
  track(name: string, ctx?: ContextArg, details?: { value?: number; [key: string]: AttributeValue }): void;

  /** Registers an exporter for events recorded from now on; returns its name. */
  addExporter(exporter: ExportFunction | ExporterObject | BuiltinExporter, options?: ExporterOptions): string;
  /**
   * Delivers what was recorded so far, waiting up to timeoutMs (default 5000); resolves true when
   * everything was delivered in time. An exporter whose last export failed is retried on its
   * backoff schedule, not at once.
   */
  flush(timeoutMs?: number): Promise<boolean>;
  stats(): EngineStats;
  /** Stops events, delivers what is pending (within timeoutMs, default 5000), stops the exporters. Evaluations keep working. */
  close(timeoutMs?: number): Promise<void>;
  /**
   * close() without the event loop, for 'exit' handlers: built-in exporters
   * get up to timeoutMs; JavaScript exporters cannot run (their pending events
   * are counted as dropped). Returns true when nothing was left undelivered.
   */
  closeSync(timeoutMs?: number): boolean;
  readonly closed: boolean;
}

/** The OpenFeature provider (needs @openfeature/server-sdk). */
export class VexilProvider {
  /**
   * @param source an Engine, or where the provider's own engine (made in
   *   initialize()) gets its flags, plus engine options
   */
  constructor(source?: Engine | (EngineOptions & UrlOptions & { url?: string; file?: string; flags?: object | string; fromEnv?: boolean }));
  readonly metadata: { readonly name: 'vexil' };
  readonly runsOn: 'server';
  readonly hooks: [];
  /**
   * An OpenFeatureEventEmitter: ConfigurationChanged (with flagsChanged) after each
   * change, Stale when refreshes keep failing, Ready when they succeed again.
   */
  readonly events: import('@openfeature/server-sdk').OpenFeatureEventEmitter;
  readonly engine: Engine | undefined;
  initialize(context?: object): Promise<void>;
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<import('@openfeature/server-sdk').ResolutionDetails<boolean>>;
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<import('@openfeature/server-sdk').ResolutionDetails<string>>;
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<import('@openfeature/server-sdk').ResolutionDetails<number>>;
  resolveObjectEvaluation<T extends import('@openfeature/server-sdk').JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<import('@openfeature/server-sdk').ResolutionDetails<T>>;
  track(trackingEventName: string, context?: EvaluationContext, trackingEventDetails?: object): void;
  onClose(): Promise<void>;
}

/** The core library's version. */
export const version: string;

declare const vexil: {
  Engine: typeof Engine;
  Context: typeof Context;
  ConfigError: typeof ConfigError;
  FileExporter: typeof FileExporter;
  LogExporter: typeof LogExporter;
  WebhookExporter: typeof WebhookExporter;
  KafkaExporter: typeof KafkaExporter;
  PubSubExporter: typeof PubSubExporter;
  S3Exporter: typeof S3Exporter;
  OpenTelemetryExporter: typeof OpenTelemetryExporter;
  AzureBlobExporter: typeof AzureBlobExporter;
  KinesisExporter: typeof KinesisExporter;
  SQSExporter: typeof SQSExporter;
  FileRetriever: typeof FileRetriever;
  HttpRetriever: typeof HttpRetriever;
  AzureBlobRetriever: typeof AzureBlobRetriever;
  S3Retriever: typeof S3Retriever;
  GitHubRetriever: typeof GitHubRetriever;
  GitLabRetriever: typeof GitLabRetriever;
  BitbucketRetriever: typeof BitbucketRetriever;
  GCSExporter: typeof GCSExporter;
  GCSRetriever: typeof GCSRetriever;
  WebhookNotifier: typeof WebhookNotifier;
  SlackNotifier: typeof SlackNotifier;
  DiscordNotifier: typeof DiscordNotifier;
  TeamsNotifier: typeof TeamsNotifier;
  BuiltinExporter: typeof BuiltinExporter;
  BuiltinRetriever: typeof BuiltinRetriever;
  BuiltinNotifier: typeof BuiltinNotifier;
  VexilProvider: typeof VexilProvider;
  version: string;
};
export default vexil;
