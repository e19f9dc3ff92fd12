'use strict';
// Builds the addon with node-gyp (run by `npm install`).
//
// Why a script rather than npm's default `node-gyp rebuild`:
//  - node-gyp must not download headers (machines may have no internet): when
//    the running node has its headers installed next to it (e.g. /usr/include/node
//    for /usr/bin/node), pass --nodedir so node-gyp uses them;
//  - `rebuild` starts with `clean`, which deletes ./build, where the Makefile also
//    keeps the C library: `configure` + `build` only touch gyp's own files there.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm',
      'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }));
  } catch { /* not installed locally */ }
  return candidates.find((p) => p && fs.existsSync(p));
}

function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const header = path.join(prefix, 'include', 'node', 'node_api.h');
  return fs.existsSync(header) ? [`--nodedir=${prefix}`] : [];
}

function run(args) {
  const gyp = findNodeGyp();
  const cmd = gyp ? process.execPath : 'npx';
  const full = gyp ? [gyp, ...args] : ['--yes', 'node-gyp', ...args];
  const r = spawnSync(cmd, full, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const common = [...nodedirArgs()];
run(['configure', ...common]);
run(['build', `--jobs=${process.env.JOBS || 2}`, ...common]);
