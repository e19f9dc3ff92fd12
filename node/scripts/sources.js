'use strict';
// Prints the C sources of the addon for binding.gyp: the addon's own files and
// every file of the core (paths relative to the repository root, where gyp runs).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const dirs = ['node/src', 'csrc', 'csrc/exporters'];
const files = [];
for (const dir of dirs) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) continue;
  for (const name of fs.readdirSync(abs).sort()) {
    if (name.endsWith('.c')) files.push(`${dir}/${name}`);
  }
}
process.stdout.write(files.join(' '));
