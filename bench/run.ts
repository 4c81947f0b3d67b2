/**
 * `npm run bench`: runs every bench/*.bench.ts and prints its ratios, measured
 * side by side in this one run. Benchmarks never gate tests.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  readonly title: string;
  run(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !only || f.includes(only))
  .sort();
for (const file of files) {
  const mod = (await import(pathToFileURL(path.join(here, file)).href)) as BenchModule;
  console.log(`\n## ${mod.title} (${file})`);
  await mod.run();
}
