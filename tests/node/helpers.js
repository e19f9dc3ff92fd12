'use strict';
// Shared helpers for the Node tests.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const vexilPath = path.join(root, 'node', 'lib', 'index.js');

function tmpDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexil-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `code` in a fresh node process; resolves { code, signal, stdout, stderr, ms }. */
function runNode(code, { timeout = 20000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', code], {
      env: { ...process.env, VEXIL: vexilPath, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ code: exitCode, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts one of the real local servers of tests/servers/ (installing it into
 * the cache first if needed) and resolves its description ({ name, port, pid,
 * ... }); it stops when the test ends.
 */
function startServer(t, name, { timeout = 600000 } = {}) {
  const python = fs.existsSync(path.join(root, 'out', 'pyvenv', 'bin', 'python'))
    ? path.join(root, 'out', 'pyvenv', 'bin', 'python') : 'python3';
  const child = spawn(python, [path.join(root, 'tests', 'servers', 'cli.py'), 'start', name],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.stdin.end();
  }));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${err}`)), timeout);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)));
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}): ${err}`)); });
  });
}

/** Polls fn() until it returns true or `ms` pass. */
async function waitFor(fn, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await delay(10);
  }
  return false;
}

/**
 * A hanging server (SIGSTOP): it keeps its connections but answers nothing.
 * Resolves once every thread of `pid` is stopped, since a signal takes a
 * moment to reach a busy process, which meanwhile may still answer.
 */
async function pauseProcess(pid) {
  process.kill(pid, 'SIGSTOP');
  for (let i = 0; i < 1000; i++) {
    let states;
    try {
      states = fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return stat[stat.lastIndexOf(')') + 2];
      });
    } catch {
      if (!fs.existsSync(`/proc/${pid}`)) return; // gone
      states = ['R']; // a thread ended while we looked: look again
    }
    if (states.every((s) => s === 'T' || s === 't')) return;
    await delay(5);
  }
}

module.exports = { root, vexilPath, tmpDir, runNode, delay, waitFor, startServer, pauseProcess };
