// ESM entry: the CommonJS implementation, re-exported with named exports.
// VexilProvider is a getter on the CommonJS side (its peer dependency is
// optional); here it is exported as a live binding that loads on first use.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const vexil = require('./index.js');

export const {
  Engine, Context, ConfigError, FileExporter, LogExporter, WebhookExporter, FileRetriever, HttpRetriever,
  WebhookNotifier, BuiltinExporter, BuiltinRetriever, BuiltinNotifier, S3Exporter, S3Retriever, KinesisExporter, SQSExporter,
  version,
} = vexil;
export { VexilProvider } from './provider.js';
export default vexil;
