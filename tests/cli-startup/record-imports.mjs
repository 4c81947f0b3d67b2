// `node --import ./record-imports.mjs ...`: writes every module URL the program resolved (ESM imports, and
// CommonJS modules in require.cache) to $BOOTCARD_RECORD_IMPORTS when it exits, one a line.
import { createRequire, register } from 'node:module';
import { writeFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';

const out = process.env.BOOTCARD_RECORD_IMPORTS;
const resolved = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => resolved.add(url));
port1.unref();
register('./record-imports-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
process.on('exit', () => {
  if (!out) return;
  const required = Object.keys(createRequire(import.meta.url).cache);
  writeFileSync(out, [...resolved, ...required].join('\n'));
});
