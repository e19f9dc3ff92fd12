'use strict';
// TLS from Node: certificates are verified unless explicitly turned off, for
// the webhook exporter and for fromUrl alike, and fromUrl presents a client
// certificate to a server that requires one (mTLS). Real HTTPS servers on
// 127.0.0.1, with certificates made by the openssl command.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const vexil = require('../../node/lib/index.js');

const FLAGS = { f: { variations: { a: 'A', b: 'B' }, defaultRule: { variation: 'a' } } };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vexil-tls-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

// A self-signed certificate (its own CA) for `cn`, valid for 127.0.0.1.
function selfSigned(name, cn) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

const server = selfSigned('server', '127.0.0.1');
const client = selfSigned('client', 'vexil-client');

// Serves the flags on GET and records POST bodies; with `mtls`, only to
// clients presenting the client certificate.
async function startServer(t, { mtls = false } = {}) {
  const posts = [];
  let rejected = 0;
  const srv = https.createServer({
    cert: fs.readFileSync(server.cert),
    key: fs.readFileSync(server.key),
    ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: fs.readFileSync(client.cert) } : {}),
  }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        posts.push(Buffer.concat(chunks));
        res.writeHead(200).end();
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(FLAGS));
      }
    });
  });
  srv.on('tlsClientError', () => { rejected++; });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }));
  return { url: `https://127.0.0.1:${srv.address().port}/flags.json`, posts, rejected: () => rejected };
}

async function exportOne(url, tls) {
  const e = new vexil.Engine(FLAGS, { logger: false });
  e.addExporter(vexil.WebhookExporter({ url, secret: 'hush-hush', timeout: 2000, ...tls }), { retryInitial: 10, retryMax: 50 });
  e.stringValue('f', 'x', { targetingKey: 'u1' });
  const ok = await e.flush(3000);
  const stats = e.stats();
  e.closeSync(200);
  return { ok, stats };
}

test('the webhook exporter refuses a certificate it cannot verify, and keeps the event', async (t) => {
  const srv = await startServer(t);
  const { ok, stats } = await exportOne(srv.url, {});
  assert.equal(ok, false);
  assert.ok(stats.failedAttempts >= 1, JSON.stringify(stats));
  assert.equal(stats.exported, 0);
  assert.deepEqual(srv.posts, []);
});

test('the webhook exporter trusts a given CA file, or skips verification when told to', async (t) => {
  const srv = await startServer(t);
  let r = await exportOne(srv.url, { caFile: server.cert });
  assert.equal(r.ok, true);
  assert.equal(r.stats.exported, 1);
  assert.equal(JSON.parse(srv.posts[0]).events[0].userKey, 'u1');
  r = await exportOne(srv.url, { insecureSkipVerify: true });
  assert.equal(r.ok, true);
  assert.equal(srv.posts.length, 2);
});

test('fromUrl verifies the server certificate', async (t) => {
  const srv = await startServer(t);
  const opts = { pollInterval: 0, timeout: 2000, startTimeout: 3000, logger: false };
  await assert.rejects(vexil.Engine.fromUrl(srv.url, opts), vexil.ConfigError);
  const trusted = await vexil.Engine.fromUrl(srv.url, { ...opts, caFile: server.cert });
  assert.equal(trusted.stringValue('f', 'x'), 'A');
  await trusted.close();
  const skipped = await vexil.Engine.fromUrl(srv.url, { ...opts, insecureSkipVerify: true });
  assert.equal(skipped.status, 'READY');
  await skipped.close();
});

test('fromUrl presents a client certificate to a server that requires one (mTLS)', async (t) => {
  const srv = await startServer(t, { mtls: true });
  const opts = { pollInterval: 0, timeout: 2000, startTimeout: 3000, logger: false, caFile: server.cert };
  await assert.rejects(vexil.Engine.fromUrl(srv.url, opts), vexil.ConfigError);
  const e = await vexil.Engine.fromUrl(srv.url, { ...opts, clientCertFile: client.cert, clientKeyFile: client.key });
  assert.equal(e.stringValue('f', 'x'), 'A');
  assert.equal(e.status, 'READY');
  await e.close();
  await assert.rejects(vexil.Engine.fromUrl(srv.url, { ...opts, clientCertFile: 42 }), TypeError);
});
