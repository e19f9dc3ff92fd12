'use strict';
// Prints the C sources of the addon for binding.gyp: the addon's own files and
// every file of the core, in every subsystem folder but the `vexil` command's
// (paths relative to the repository root, where gyp runs).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function cFiles(dir, skip) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  const out = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!skip.includes(rel)) out.push(...cFiles(rel, skip));
    } else if (entry.name.endsWith('.c')) {
      out.push(rel);
    }
  }
  return out;
}

process.stdout.write([...cFiles('node/src', []), ...cFiles('csrc', ['csrc/cli'])].join(' '));
