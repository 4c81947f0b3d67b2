/**
 * What the end-to-end tests need: a built renderer (rebuilt when any source
 * the bundle includes is newer than dist/renderer), `bootcard serve` running
 * as a child process of the real CLI, and Debian's Chromium driven by
 * playwright-core with a fresh profile.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { REPO_ROOT } from '../helpers/shared.js';

export const CHROMIUM = process.env.BOOTCARD_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissingReason: string | null = existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium)`;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const info = statSync(full);
    newest = Math.max(newest, info.isDirectory() ? newestMtime(full) : info.mtimeMs);
  }
  return newest;
}

/** Builds dist/renderer unless it is newer than everything the bundle may include. */
export function ensureRendererBuilt(): string {
  const out = path.join(REPO_ROOT, 'dist', 'renderer');
  const index = path.join(out, 'index.html');
  const sources = ['renderer', 'electron/ipc', 'electron/core'].map((d) => newestMtime(path.join(REPO_ROOT, d)));
  if (!existsSync(index) || statSync(index).mtimeMs < Math.max(...sources)) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
  }
  return out;
}

export interface ServeChild {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly port: number;
  readonly log: () => string;
  /** The serve process, for tests that signal it themselves. */
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/**
 * `bootcard serve --port 0 --json [extra]` through the real CLI entry; resolves once it prints its URL.
 * Its profiles and remembered settings go to a fresh $XDG_CONFIG_HOME unless `env` names one, so no run
 * starts from another's settings (nor touches the user's ~/.config/bootcard).
 */
export function startServeChild(extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeChild> {
  const ownConfig = env.XDG_CONFIG_HOME === undefined ? mkdtempSync(path.join(os.tmpdir(), 'bootcard-e2e-config-')) : null;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'serve', '--port', '0', '--json', ...extra], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...(ownConfig ? { XDG_CONFIG_HOME: ownConfig } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      if (ownConfig) rmSync(ownConfig, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bootcard serve did not start in 60 s: ${stderr}`));
    }, 60_000);
    child.once('exit', (code) => reject(new Error(`bootcard serve exited with ${code}: ${stderr}`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      let info: { url: string; origin: string; token: string; port: number };
      try {
        info = JSON.parse(stdout) as typeof info;
      } catch {
        return;
      }
      clearTimeout(timer);
      resolve({
        ...info,
        log: () => stderr,
        pid: child.pid!,
        exited,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            // SIGTERM lets serve close its server; SIGKILL if it has not exited 10 s later (no orphan, no hung afterAll).
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'bootcard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    viewport: { width: 1024, height: 700 },
    colorScheme: 'light',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Where the e2e run saves a screenshot of every step. README.md shows the ones in
 * docs/screenshots: refresh them with `BOOTCARD_UPDATE_SCREENSHOTS=1 npm test -- tests/e2e`.
 * Ordinary runs save to a temporary folder, so tests leave the work tree clean.
 */
export const SCREENSHOTS = process.env.BOOTCARD_UPDATE_SCREENSHOTS
  ? path.join(REPO_ROOT, 'docs', 'screenshots')
  : path.join(os.tmpdir(), 'bootcard-e2e-screenshots');
