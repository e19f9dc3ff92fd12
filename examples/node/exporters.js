'use strict';
// Feature events to a JavaScript exporter and to GOFF's file exporter:
//   node examples/node/exporters.js
const os = require('node:os');
const path = require('node:path');
const vexil = require('../../node/lib/index.js');

const engine = new vexil.Engine({
  banner: { variations: { a: 'blue', b: 'green' }, defaultRule: { percentage: { a: 50, b: 50 } } },
});

// Any function (or object with export()) taking an array of events; it may be
// async. A throw, a rejected Promise or `false` makes the batch retry later.
engine.addExporter(async (events) => {
  console.log(`exporter got ${events.length} events, first:`, events[0]);
}, { flushInterval: 1000, maxEvents: 1000 });

const dir = path.join(os.tmpdir(), 'vexil-example');
engine.addExporter(vexil.FileExporter({ outputDir: dir, format: 'csv' }));

for (let i = 0; i < 10; i++) engine.stringValue('banner', 'grey', { targetingKey: `user-${i}` });
engine.track('purchase', { targetingKey: 'user-1' }, { value: 42 }); // for eventType: 'tracking' exporters

(async () => {
  await engine.close(); // delivers what is pending, then stops the exporters
  console.log('stats:', engine.stats());
  console.log(`CSV written under ${dir}`);
})();
