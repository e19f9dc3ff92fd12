'use strict';
// vexil as an OpenFeature provider (npm install @openfeature/server-sdk):
//   node examples/node/openfeature.js
const { OpenFeature, ProviderEvents } = require('@openfeature/server-sdk');
const vexil = require('../../node/lib/index.js');

(async () => {
  const provider = new vexil.VexilProvider({
    flags: { 'dark-mode': { variations: { on: true, off: false }, defaultRule: { variation: 'off' } } },
  });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();

  OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, ({ flagsChanged }) => {
    console.log('changed:', flagsChanged);
  });
  console.log(await client.getBooleanDetails('dark-mode', false, { targetingKey: 'u1' }));

  provider.engine.load({ 'dark-mode': { variations: { on: true, off: false }, defaultRule: { variation: 'on' } } });
  console.log(await client.getBooleanValue('dark-mode', false, { targetingKey: 'u1' }));
  await OpenFeature.close();
})();
