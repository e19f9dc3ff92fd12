// The package as published: ESM default and named imports through the
// "exports" map (self-reference by name), and CommonJS require of the same.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import vexil, { Engine, Context, ConfigError, FileExporter, LogExporter, WebhookExporter, VexilProvider, version } from 'vexil';

const require = createRequire(import.meta.url);

test('ESM default and named exports are the CommonJS ones', () => {
  const cjs = require('vexil');
  assert.equal(vexil, cjs);
  assert.equal(Engine, cjs.Engine);
  assert.equal(Context, cjs.Context);
  assert.equal(ConfigError, cjs.ConfigError);
  assert.equal(VexilProvider, cjs.VexilProvider);
  assert.equal(typeof FileExporter, 'function');
  assert.equal(typeof LogExporter, 'function');
  assert.equal(typeof WebhookExporter, 'function');
  assert.equal(version, cjs.version);
  const e = new Engine({ f: { variations: { a: true }, defaultRule: { variation: 'a' } } }, { logger: false });
  assert.equal(e.boolValue('f', false, new Context('u')), true);
});
