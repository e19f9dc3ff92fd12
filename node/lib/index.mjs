// ESM entry: the CommonJS implementation, re-exported with named exports.
// VexilProvider is a getter on the CommonJS side (its peer dependency is
// optional); here it is exported as a live binding that loads on first use.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const vexil = require('./index.js');

export const {
  AzureBlobExporter,
  AzureBlobRetriever,
  BitbucketRetriever,
  BuiltinExporter,
  BuiltinNotifier,
  BuiltinRetriever,
  ConfigError,
  Context,
  DiscordNotifier,
  Engine,
  FileExporter,
  FileRetriever,
  GCSExporter,
  GCSRetriever,
  GitHubRetriever,
  GitLabRetriever,
  HttpRetriever,
  KafkaExporter,
  KinesisExporter,
  LogExporter,
  OpenTelemetryExporter,
  PubSubExporter,
  S3Exporter,
  S3Retriever,
  SlackNotifier,
  SQSExporter,
  TeamsNotifier,
  version,
  WebhookExporter,
  WebhookNotifier,
} = vexil;
export { VexilProvider } from './provider.js';
export default vexil;
