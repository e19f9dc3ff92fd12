'use strict';
// Engine.fromConfig(): a GOFF configuration file sets the engine up as the C
// core reads it (the same reader as C, the command and Python): a file
// retriever, a file exporter and a webhook notifier end to end (load, reload
// by polling, export, notify); YAML, JSON and TOML; environment overrides;
// errors naming key paths; the chat notifiers and git retrievers through
// their descriptions and the add*Notifier() sugar.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const util = require('node:util');
const vexil = require('../../node/lib/index.js');
const { tmpDir, delay } = require('./helpers.js');

const DATA = path.resolve(__dirname, '..', 'data', 'config');

function serve(t, handler) {
  const server = http.createServer(handler);
  t.after(() => server.close());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/** A loopback receiver of POSTs; `answer(i)` may give { status, headers, body }. */
async function receiver(t, answer = () => null) {
  const got = [];
  let n = 0;
  const base = await serve(t, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const a = answer(n++);
      if (a) {
        res.writeHead(a.status, a.headers ?? {}).end(a.body ?? '');
        return;
      }
      got.push({ path: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.end('ok');
    });
  });
  return { base, got };
}

async function until(cond, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await delay(10);
  }
  return cond();
}

const banner = (variation) => `banner:\n  variations: {blue: blue, red: red}\n  defaultRule: {variation: ${variation}}\n`;

test('a file retriever, a file exporter and a webhook notifier from one file', async (t) => {
  const dir = tmpDir(t);
  const flags = path.join(dir, 'flags.yaml');
  const events = path.join(dir, 'events');
  fs.writeFileSync(flags, banner('blue'));
  const hook = await receiver(t);
  const config = path.join(dir, 'goff-proxy.yaml');
  fs.writeFileSync(config, [
    'listen: 1031            # the relay proxy\'s: ignored',
    'pollingInterval: 1000',
    `retriever: {kind: file, path: ${flags}}`,
    `exporters: [{kind: file, outputDir: ${events}, flushInterval: 60000}]`,
    `notifiers: [{kind: webhook, endpointUrl: "${hook.base}/changes", meta: {team: flags}}]`,
  ].join('\n'));
  const warnings = [];
  const e = await vexil.Engine.fromConfig(config, { logger: (level, msg) => { if (level === 'warn') warnings.push(msg); } });
  assert.equal(e.status, 'READY');
  assert.equal(e.stringValue('banner', '', { targetingKey: 'u1' }), 'blue');
  assert.ok(warnings.some((w) => w.includes('ignored: listen (settings of GOFF\'s relay-proxy server')));
  // The first load is notified (disableNotifierOnInit is false by default, as in GOFF).
  assert.ok(await until(() => hook.got.length === 1));
  assert.deepEqual(Object.keys(hook.got[0].body.flags.added), ['banner']);
  assert.equal(hook.got[0].body.meta.team, 'flags');
  // An edit: polled, published, notified.
  fs.writeFileSync(flags, banner('red'));
  assert.ok(await until(() => hook.got.length === 2));
  assert.deepEqual(Object.keys(hook.got[1].body.flags.updated), ['banner']);
  assert.equal(e.stringValue('banner', ''), 'red');
  await e.close();
  assert.equal(e.notifierStats().failed, 0);
  const lines = fs.readdirSync(events).flatMap((f) => fs.readFileSync(path.join(events, f), 'utf8').trim().split('\n'));
  assert.deepEqual(lines.map((l) => JSON.parse(l).value), ['blue', 'red']);
});

for (const format of ['yaml', 'json', 'toml']) {
  test(`settings from ${format}`, async (t) => {
    const dir = tmpDir(t);
    const flags = path.join(dir, 'flags.json');
    fs.writeFileSync(flags, JSON.stringify({
      f: { variations: { a: 'A', b: 'B' }, targeting: [{ query: 'env eq "prod" and tier eq 2', variation: 'b' }], defaultRule: { variation: 'a' } },
    }));
    const file = path.join(dir, `relay.${format}`);
    const text = {
      yaml: `environment: prod\nevaluationContextEnrichment: {tier: 2}\nfileFormat: json\ndisableNotifierOnInit: true\nretrievers:\n  - kind: file\n    path: ${flags}\n`,
      json: JSON.stringify({ environment: 'prod', evaluationContextEnrichment: { tier: 2 }, fileFormat: 'json', retrievers: [{ kind: 'file', path: flags }] }),
      toml: `environment = "prod"\nfileFormat = "json"\nevaluationContextEnrichment = { tier = 2 }\n[[retrievers]]\nkind = "file"\npath = "${flags}"\n`,
    }[format];
    fs.writeFileSync(file, text);
    const e = await vexil.Engine.fromConfig(file);
    assert.equal(e.stringValue('f', ''), 'B');
    await e.close();
  });
}

test('errors name the key path; env overrides apply', async (t) => {
  const dir = tmpDir(t);
  const cases = [
    ['pollingInterval: soon\nretriever: {kind: file, path: f}\n', 'pollingInterval: must be an integer'],
    ['retrievers: [{kind: file, path: f}, {kind: redis}]\n', 'retrievers[1].kind: GOFF\'s retriever kind "redis" is not available in vexil'],
    ['retriever: {kind: file, path: f}\nexporters: [{kind: log}, {kind: webhook}]\n', 'exporters[1].endpointUrl: required for kind webhook'],
    ['retriever: {kind: file, path: f}\nnotifiers: [{kind: discord}]\n', 'notifiers[0].webhookUrl: required for kind discord'],
  ];
  for (const [text, message] of cases) {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, text);
    await assert.rejects(vexil.Engine.fromConfig(file), (err) => err instanceof vexil.ConfigError && err.message === message);
  }
  const toml = path.join(dir, 'c.toml');
  fs.writeFileSync(toml, '[retriever]\nkind = "file"\npath =\n');
  await assert.rejects(vexil.Engine.fromConfig(toml), (err) => err.line === 3 && err.code === 'VX_EPARSE');
  await assert.rejects(vexil.Engine.fromConfig(toml, { format: 'xml' }), TypeError);
  // GOFF's sample points at an HTTP retriever; the environment makes it a local file.
  const flags = path.join(dir, 'flags.yaml');
  fs.writeFileSync(flags, banner('red'));
  process.env.RETRIEVER_KIND = 'file';
  process.env.RETRIEVER_PATH = flags;
  process.env.EXPORTER_KIND = 'log';
  t.after(() => { delete process.env.RETRIEVER_KIND; delete process.env.RETRIEVER_PATH; delete process.env.EXPORTER_KIND; });
  const e = await vexil.Engine.fromConfig(path.join(DATA, 'relay-http-log.toml'), { logger: false });
  assert.equal(e.stringValue('banner', ''), 'red');
  await e.close();
  await assert.rejects(vexil.Engine.fromConfig(path.join(DATA, 'relay-http-log.toml'), { env: false, startTimeout: 2000, logger: false }),
    (err) => err.message.startsWith('retriever 1 (http): '));
});

test('chat notifiers: sugar, payloads, a 429 retried after Retry-After, stats', async (t) => {
  const slack = await receiver(t);
  const discord = await receiver(t, (i) => (i === 0
    ? { status: 429, headers: { 'Retry-After': '0.05' }, body: '{"message": "You are being rate limited.", "retry_after": 0.05}' }
    : null));
  const teams = await receiver(t);
  const logs = [];
  const on = { variations: { on: true, off: false }, defaultRule: { variation: 'on' } };
  const off = { variations: { on: true, off: false }, defaultRule: { variation: 'off' } };
  const e = new vexil.Engine({ f: on }, { logLevel: 'debug', logger: (level, msg) => logs.push(msg) });
  e.addSlackNotifier(`${slack.base}/services/T/B/SECRET-PART`);
  e.addDiscordNotifier({ url: `${discord.base}/api/webhooks/1/SECRET-PART`, retryInitial: 10 });
  e.addTeamsNotifier({ url: `${teams.base}/workflows/x`, validateUrl: false });
  e.load({ f: off });
  assert.ok(await until(() => slack.got.length && discord.got.length && teams.got.length));
  await e.close();
  const stats = e.notifierStats();
  assert.deepEqual([stats.delivered, stats.retries, stats.failed], [3, 1, 0]);
  const att = slack.got[0].body.attachments[0];
  assert.equal(att.title, '\u270f\ufe0f Flag "f" updated');
  assert.deepEqual(att.fields, [{ title: 'DefaultRule.VariationResult', value: '"on" => "off"', short: true }]);
  assert.equal(discord.got[0].body.embeds[0].color, 16753920);
  assert.equal(teams.got[0].headers['content-type'], 'application/json;charset=utf-8');
  assert.ok(teams.got[0].body.attachments[0].content.body[1].text.includes('\u270f\ufe0f Flag **f** updated'));
  assert.ok(logs.some((m) => m.includes('HTTP status 429 received')));
  assert.ok(!logs.some((m) => m.includes('SECRET-PART')));
  assert.throws(() => new vexil.Engine().addTeamsNotifier('https://example.com/hook'),
    { message: /^webhookUrl: not a Microsoft Teams Workflows URL/ });
});

test('descriptions hide secrets; the GitHub retriever makes GOFF\'s request, conditionally', async (t) => {
  const s = vexil.SlackNotifier('https://hooks.slack.com/services/T/B/SECRET');
  assert.equal(s.kind, 'slack');
  assert.ok(!util.inspect(s).includes('SECRET') && !JSON.stringify(s).includes('SECRET'));
  assert.equal(vexil.TeamsNotifier({ url: { fromEnv: 'TEAMS_URL' } }).kind, 'microsoftteams');
  assert.throws(() => vexil.DiscordNotifier({}), TypeError);
  const g = vexil.GitHubRetriever({ repositorySlug: 'acme/flags', path: 'flags.json', token: 'ghp_SECRET' });
  assert.ok(!util.inspect(g).includes('ghp_SECRET'));
  assert.throws(() => vexil.GitLabRetriever({ path: 'x' }), TypeError);
  assert.equal(vexil.BitbucketRetriever({ repositorySlug: 'w/r', path: 'f.yaml' }).kind, 'bitbucket');
  const seen = [];
  const base = await serve(t, (req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
    res.writeHead(200, { ETag: '"v1"' }).end(JSON.stringify({ f: { variations: { a: 7 }, defaultRule: { variation: 'a' } } }));
  });
  const e = await vexil.Engine.fromRetrievers([vexil.GitHubRetriever({
    repositorySlug: 'acme/flags', path: 'conf/flags.json', branch: 'dev', token: 'ghp_x', baseUrl: base,
  })], { pollInterval: 0 });
  assert.equal(e.intValue('f', 0), 7);
  await e.refresh();
  assert.equal(e.refreshStats().unchanged, 1);
  await e.close();
  assert.equal(seen[0].url, '/repos/acme/flags/contents/conf/flags.json?ref=dev');
  assert.equal(seen[0].headers.accept, 'application/vnd.github.raw');
  assert.equal(seen[0].headers['x-github-api-version'], '2022-11-28');
  assert.equal(seen[0].headers.authorization, 'Bearer ghp_x');
  assert.equal(seen[1].headers['if-none-match'], '"v1"');
  await assert.rejects(vexil.Engine.fromRetrievers([vexil.GitHubRetriever({ repositorySlug: 'a/../b', path: 'f' })]),
    { message: "repositorySlug: must not contain '..'" });
});
