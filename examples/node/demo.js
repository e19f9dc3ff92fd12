'use strict';
// The JavaScript side of `make demo`: the shared flag file, a JavaScript
// exporter (an async function), the core's file exporter, and tracking events.
//
//   npm install && node examples/node/demo.js examples/flags.yaml /tmp/vexil-events
const vexil = require('../..');

const flags = process.argv[2] || 'examples/flags.yaml';
const outDir = process.argv[3] || 'out/demo/events-js';

async function main() {
  const engine = vexil.Engine.fromFile(flags);
  const received = [];
  // Called on the event loop with an array of GOFF-shaped objects; may be async.
  engine.addExporter(async (events) => { received.push(...events); }, { flushInterval: 1000 });
  engine.addExporter(vexil.FileExporter({ outputDir: outDir, format: 'json' }));
  engine.addExporter((events) => { received.push(...events); }, { eventType: 'tracking' });

  let enabled = 0;
  for (let i = 0; i < 200; i++) {
    enabled += engine.boolValue('new-checkout', false, { targetingKey: `user-${i}`, beta: i % 50 === 0 });
  }
  console.log(`new-checkout enabled for ${enabled} of 200 users`);
  const ada = new vexil.Context('ada', { email: 'ada@example.com', country: 'FR' });
  const d = engine.stringDetails('banner-color', '#000000', ada);
  console.log(`banner-color for ada: ${d.value} (variant ${d.variant}, reason ${d.reason}, ` +
    `rule ${d.flagMetadata.evaluatedRuleName})`);
  console.log('max-items as an int:', engine.intValue('max-items', 5, ada));
  engine.track('checkout', ada, { value: 99.5 });
  await engine.close();

  const kinds = {};
  for (const e of received) kinds[e.kind] = (kinds[e.kind] || 0) + 1;
  console.log(`the JavaScript exporter received ${received.length} events:`, kinds);
  console.log(`JSON lines written under ${outDir}`);
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
