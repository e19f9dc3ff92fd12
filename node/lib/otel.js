'use strict';
// The active OpenTelemetry span as the parent of feature-flag spans. Once an
// OpenTelemetryExporter is registered, the engine calls the function made
// here during each evaluation whose context has no traceparent (and only
// then). @opentelemetry/api is optional: without it there is no source. The
// last span's traceparent is kept, so evaluations inside one span format it
// once.

function loadApi() {
  // The application's copy first: the API keeps its state in a global, but
  // a copy of another major version would see none of it.
  for (const from of [process.cwd(), __dirname]) {
    try {
      return require(require.resolve('@opentelemetry/api', { paths: [from] }));
    } catch {
      // not installed there
    }
  }
  return null;
}

/** () => "traceparent[\ntracestate]" or "" when no span is active; null without the API. */
function traceSource() {
  const api = loadApi();
  if (!api || !api.trace || !api.context) return null;
  let lastSpan;
  let last = '';
  return function activeTraceparent() {
    const span = api.trace.getSpan(api.context.active());
    if (span === undefined) return '';
    if (span === lastSpan) return last;
    lastSpan = span;
    const sc = span.spanContext();
    if (!api.isSpanContextValid(sc)) {
      last = '';
      return last;
    }
    const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
    const state = sc.traceState ? sc.traceState.serialize() : '';
    last = `00-${sc.traceId}-${sc.spanId}-${flags}${state ? `\n${state}` : ''}`;
    return last;
  };
}

module.exports = { traceSource };
