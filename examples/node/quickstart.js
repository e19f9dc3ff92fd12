'use strict';
// Evaluate GO Feature Flag flags from Node: node examples/node/quickstart.js
const vexil = require('../../node/lib/index.js'); // require('vexil') once installed

const engine = new vexil.Engine(`
new-checkout:
  variations:
    enabled: true
    disabled: false
  targeting:
    - name: staff
      query: email ew "@example.com"
      variation: enabled
  defaultRule:
    percentage:
      enabled: 20
      disabled: 80
`);

// A plain object works everywhere...
console.log('staff:', engine.boolValue('new-checkout', false, { targetingKey: 'u1', email: 'ana@example.com' }));

// ...and a Context is converted once, for contexts evaluated many times.
const ctx = new vexil.Context('user-42', { email: 'bob@mail.test', plan: 'pro' });
console.log('user-42:', engine.boolDetails('new-checkout', false, ctx));

// A broken configuration throws and the engine keeps the last good one.
try {
  engine.load('new-checkout: [');
} catch (err) {
  console.log(`${err.name} at line ${err.line}: ${err.message}`);
}
console.log('still serving:', engine.boolValue('new-checkout', false, ctx));
