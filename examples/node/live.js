'use strict';
// Live configuration: an engine that polls a flag file over HTTP and reports
// what changes. node examples/node/live.js (serves its own flags on 127.0.0.1).
const http = require('node:http');
const vexil = require('../../node/lib/index.js'); // require('vexil') once installed

let color = 'red';
let failing = false;
const server = http.createServer((req, res) => {
  if (failing) {
    res.writeHead(503);
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ banner: { variations: { v: color }, defaultRule: { variation: 'v' } } }));
});

server.listen(0, '127.0.0.1', async () => {
  const url = `http://127.0.0.1:${server.address().port}/flags.json`;
  const engine = await vexil.Engine.fromUrl(url, { pollInterval: 1000, staleAfter: 1, logger: false });
  console.log('start:', engine.stringValue('banner', 'grey', {}), engine.status);

  engine.onChange(({ flagsChanged, diff }) => {
    console.log('changed:', flagsChanged, '->', diff.updated.banner?.new_value.variations.v);
  });
  engine.onStatusChange((status) => console.log('status:', status));

  color = 'blue'; // the next poll picks it up
  await new Promise((r) => setTimeout(r, 1500));
  console.log('after a poll:', engine.stringValue('banner', 'grey', {}));

  failing = true;
  await engine.refresh().catch((err) => console.log('refresh failed:', err.message));
  console.log('still serving:', engine.stringValue('banner', 'grey', {}), engine.status);
  failing = false;
  await engine.refresh();
  await new Promise((r) => setTimeout(r, 50)); // let the status notification arrive
  console.log('stats:', engine.refreshStats());
  await engine.close();
  server.close();
});
