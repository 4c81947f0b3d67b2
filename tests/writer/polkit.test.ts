/**
 * Fewer password prompts: bootcard's polkit action and the helper it names.
 * The policy is read by polkit itself (polkitd on a private system bus, asked
 * with pkaction); the helper script is run as shipped; and bootcard is shown
 * to hand pkexec that helper alone (no arguments) when it is there, to say
 * so when it is not, and never to look pkexec up through PATH.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALLED_APP_DIR, INSTALLED_WRITER_HELPER, PKEXEC_LOCATIONS, POLKIT_ACTION_ID } from '../../electron/core/writer/privilege.js';
import { runSdLockOperation } from '../../electron/core/writer/sdlock-client.io.js';
import { writerChildEntry } from '../../electron/core/writer/spawn-child.io.js';
import { exitWithin, REPO_ROOT, startCli } from './cli-process.js';
import { AS_NOBODY, buildStandIns, standInUnavailableReason, type StandIns } from './stand-in-pkexec.js';

const POLICY = path.join(REPO_ROOT, 'resources/polkit/org.bootcard.writer.policy');
const HELPER = path.join(REPO_ROOT, 'resources/polkit/bootcard-writer');
const ACTIONS_DIR = '/usr/share/polkit-1/actions';
const POLKITD = '/usr/lib/polkit-1/polkitd';
/** A device name the SD-lock path accepts before the child looks at it; no such card exists here. */
const ABSENT_CARD = '/dev/mmcblk57';

function polkitUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'installing a polkit action and starting polkitd needs root';
  if (spawnSync('pkaction', ['--version']).error) return 'pkaction is missing (Debian package polkitd)';
  if (!existsSync(POLKITD)) return `${POLKITD} is missing (Debian package polkitd)`;
  if (spawnSync('dbus-daemon', ['--version']).error) return 'dbus-daemon is missing (Debian package dbus-daemon)';
  if (existsSync(path.join(ACTIONS_DIR, `${POLKIT_ACTION_ID}.policy`))) return `${POLKIT_ACTION_ID}.policy is installed already (a bootcard .deb); the test does not replace it`;
  return null;
}

/** Resolves once `text` appears in what `child` printed, or rejects after `ms` with that output. */
function waitForOutput(child: ChildProcess, text: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`not seen within ${ms} ms: ${text}\n${seen}`)), ms);
    const look = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before printing: ${text}\n${seen}`));
    });
  });
}

const polkitMissing = polkitUnavailableReason();
if (polkitMissing) console.warn(`[skip] the polkit action read by polkit: ${polkitMissing}`);

(polkitMissing ? describe.skip : describe)('the polkit action, as polkit reads it', () => {
  let dir: string;
  const daemons: ChildProcess[] = [];
  const installed = path.join(ACTIONS_DIR, `${POLKIT_ACTION_ID}.policy`);
  let bus: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-polkit-'));
    // polkitd drops to its own user and must reach the bus socket in here.
    chmodSync(dir, 0o755);
    bus = `unix:path=${path.join(dir, 'system_bus_socket')}`;
    writeFileSync(
      path.join(dir, 'bus.conf'),
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>${bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
</busconfig>
`,
    );
    copyFileSync(POLICY, installed);
    // A private system bus (nothing else on this machine talks to it) with the real polkitd on it, which reads the actions folder as it starts.
    const dbus = spawn('dbus-daemon', ['--config-file', path.join(dir, 'bus.conf'), '--nofork', '--print-address'], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemons.push(dbus);
    await waitForOutput(dbus, 'unix:path=', 30_000);
    const polkitd = spawn(POLKITD, [], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus } });
    daemons.push(polkitd);
    await waitForOutput(polkitd, 'Acquired the name org.freedesktop.PolicyKit1', 30_000);
  }, 90_000);
  afterAll(() => {
    for (const daemon of daemons.reverse()) daemon.kill('SIGTERM');
    rmSync(installed, { force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pkaction shows org.bootcard.writer kept for the sitting (auth_admin_keep) and bound to exactly the installed helper', () => {
    const shown = spawnSync('pkaction', ['--verbose', '--action-id', POLKIT_ACTION_ID], { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus }, encoding: 'utf8', timeout: 30_000 });
    expect(shown.status, shown.stderr).toBe(0);
    const fields = Object.fromEntries(
      shown.stdout
        .split('\n')
        .map((line) => /^\s+([^:]+):\s*(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!.trim(), m[2]!.trim()]),
    );
    expect(shown.stdout.startsWith(`${POLKIT_ACTION_ID}:`)).toBe(true);
    expect(fields['implicit any']).toBe('auth_admin_keep');
    expect(fields['implicit inactive']).toBe('auth_admin_keep');
    expect(fields['implicit active']).toBe('auth_admin_keep');
    expect(fields.message).toMatch(/write SD cards/);
    expect(fields.annotation).toBe(`org.freedesktop.policykit.exec.path -> ${INSTALLED_WRITER_HELPER}`);
  });
});

describe('the packaged helper and policy', () => {
  it('the .deb puts the helper and the policy where the code and the policy say, and the helper is executable', () => {
    const builder = readFileSync(path.join(REPO_ROOT, 'electron-builder.yml'), 'utf8');
    expect(builder).toContain(`- resources/polkit/bootcard-writer=${INSTALLED_WRITER_HELPER}`);
    expect(builder).toContain(`- resources/polkit/org.bootcard.writer.policy=${ACTIONS_DIR}/${POLKIT_ACTION_ID}.policy`);
    expect(readFileSync(POLICY, 'utf8')).toContain(`<annotate key="org.freedesktop.policykit.exec.path">${INSTALLED_WRITER_HELPER}</annotate>`);
    expect(statSync(HELPER).mode & 0o777).toBe(0o755);
  });

  it('the helper starts the installed child with a fixed command line and environment: its caller’s arguments and variables go, PKEXEC_UID stays', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-helper-'));
    try {
      // The shipped script, with only its app folder moved to a stand-in app that records how it was started.
      const script = readFileSync(HELPER, 'utf8');
      expect(script).toContain(`\napp=${INSTALLED_APP_DIR}\n`);
      const app = path.join(dir, 'app');
      mkdirSync(app);
      const record = path.join(dir, 'record');
      writeFileSync(path.join(app, 'bootcard'), `#!/bin/sh\n{ printf '%s\\n' "$@"; echo ---; env | sort; } > ${record}\n`, { mode: 0o755 });
      const helper = path.join(dir, 'bootcard-writer');
      writeFileSync(helper, script.replace(`\napp=${INSTALLED_APP_DIR}\n`, `\napp=${app}\n`), { mode: 0o755 });
      const ran = spawnSync(helper, ['--inspect=0.0.0.0:9229', '/tmp/evil.js'], {
        env: { PATH: '/tmp/evil:/usr/bin:/bin', PKEXEC_UID: '1000', NODE_OPTIONS: '--require /tmp/evil.js', BOOTCARD_MOUNTINFO: '/tmp/fake', LD_PRELOAD: '/tmp/evil.so' },
        encoding: 'utf8',
      });
      expect(ran.status, ran.stderr).toBe(0);
      const [args, env] = readFileSync(record, 'utf8').split('---\n') as [string, string];
      expect(args.trim().split('\n')).toEqual([`${app}/resources/app.asar/dist/electron/core/writer/child-main.io.js`]);
      const variables = env.trim().split('\n').filter((line) => !line.startsWith('PWD=') && !line.startsWith('SHLVL=') && !line.startsWith('_='));
      expect(variables).toEqual(['ELECTRON_RUN_AS_NODE=1', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'PKEXEC_UID=1000', 'UV_THREADPOOL_SIZE=128']);
      // The entry it names is the one the build produces from the child's source.
      expect(existsSync(path.join(REPO_ROOT, 'electron/core/writer/child-main.io.ts'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const standInMissing = standInUnavailableReason();
if (standInMissing) console.warn(`[skip] the writer helper through a stand-in pkexec: ${standInMissing}`);

(standInMissing ? describe.skip : describe)('bootcard and the writer helper, through a stand-in pkexec', () => {
  let standIns: StandIns;
  let dir: string;
  let helper: string;
  let helperLog: string;

  beforeAll(() => {
    standIns = buildStandIns();
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-writer-helper-'));
    chmodSync(dir, 0o755);
    helperLog = path.join(dir, 'helper.log');
    // An "installed" helper for this checkout: root's, 0755, recording how pkexec started it before it starts the child as the real one does.
    const entry = writerChildEntry();
    const quoted = [entry.nodePath, ...entry.nodeArgs].map((a) => `'${a}'`).join(' ');
    helper = path.join(dir, 'bootcard-writer');
    writeFileSync(
      helper,
      `#!/bin/sh\n{ echo "args=$#"; echo "uid=$(id -u)"; env | sort; } > '${helperLog}'\nexec /usr/bin/env -i PATH=/usr/bin:/bin PKEXEC_UID="$PKEXEC_UID" ${quoted}\n`,
      { mode: 0o755 },
    );
  });
  afterAll(() => {
    standIns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('with the helper there, pkexec runs it alone (no node, no /usr/bin/env, no arguments, none of the caller’s variables), the child answers, and no note is printed', async () => {
    rmSync(helperLog, { force: true });
    const notes: string[] = [];
    const outcome = await runSdLockOperation('status', ABSENT_CARD, {
      privilege: 'pkexec',
      pkexec: standIns.pkexec,
      writerHelper: helper,
      env: { ...process.env, BOOTCARD_TEST_FROM_CALLER: '1' },
      notice: (text) => notes.push(text),
    }).then(
      () => ({ code: 'none' }),
      (error: { code: string; message: string }) => error,
    );
    // The child itself looked for the card (a refusal from the helper's path would be a start-up failure instead).
    expect(outcome.code).toMatch(/^DRIVE_/);
    expect(outcome.code).not.toBe('WRITE_CHILD_FAILED');
    const log = readFileSync(helperLog, 'utf8');
    expect(log).toContain('args=0\n');
    expect(log).toContain('uid=0\n');
    expect(log).toMatch(/^PKEXEC_UID=0$/m);
    expect(log).not.toContain('BOOTCARD_TEST_FROM_CALLER');
    expect(notes).toEqual([]);
  }, 60_000);

  it('without it (a checkout), pkexec runs node as before and bootcard says why it will ask every time', async () => {
    rmSync(helperLog, { force: true });
    const notes: string[] = [];
    const missing = path.join(dir, 'not-installed', 'bootcard-writer');
    const outcome = await runSdLockOperation('status', ABSENT_CARD, { privilege: 'pkexec', pkexec: standIns.pkexec, writerHelper: missing, notice: (text) => notes.push(text) }).then(
      () => ({ code: 'none' }),
      (error: { code: string }) => error,
    );
    expect(outcome.code).toMatch(/^DRIVE_/);
    expect(existsSync(helperLog)).toBe(false);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(missing);
    expect(notes[0]).toMatch(/asks for the password at every write .* Install the \.deb/);
  }, 60_000);

  it('bootcard run by a user with an unreadable folder in PATH still finds pkexec (no "spawn pkexec EACCES")', async () => {
    const unreadable = path.join(dir, 'root-only-bin');
    mkdirSync(unreadable, { mode: 0o700 });
    const cli = startCli(['sd', 'status', ABSENT_CARD], { prefix: AS_NOBODY, env: { PATH: `${unreadable}:/usr/bin:/bin`, HOME: '/nonexistent' } });
    const end = await exitWithin(cli, 60_000);
    if (end === 'timeout') throw new Error('bootcard sd status did not finish within 60 s');
    expect(end.code).toBe(1);
    expect(end.stderr).not.toMatch(/EACCES/);
    // Here pkexec is either missing (the error names where it was looked for) or present and asked (polkit's answer).
    if (!PKEXEC_LOCATIONS.some((p) => existsSync(p))) expect(end.stderr).toContain(`${PKEXEC_LOCATIONS[0]} (polkit) is not installed`);
  }, 90_000);

  it('a helper someone other than root could change is not used', async () => {
    rmSync(helperLog, { force: true });
    const writable = path.join(dir, 'group-writable-writer');
    copyFileSync(helper, writable);
    chmodSync(writable, 0o775);
    const notes: string[] = [];
    await runSdLockOperation('status', ABSENT_CARD, { privilege: 'pkexec', pkexec: standIns.pkexec, writerHelper: writable, notice: (text) => notes.push(text) }).catch(() => undefined);
    expect(existsSync(helperLog)).toBe(false);
    expect(notes[0]).toContain(writable);
  }, 60_000);
});

describe('finding pkexec', () => {
  it('pkexec is looked for at its absolute paths, never through PATH: a "pkexec" first in PATH is not run', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-path-pkexec-'));
    try {
      const marker = path.join(dir, 'ran');
      writeFileSync(path.join(dir, 'pkexec'), `#!/bin/sh\ntouch '${marker}'\nexit 127\n`, { mode: 0o755 });
      const outcome = await runSdLockOperation('status', ABSENT_CARD, {
        privilege: 'pkexec',
        env: { PATH: `${dir}:/usr/bin:/bin` },
        notice: () => undefined,
      }).then(
        () => ({ code: 'none', message: '' }),
        (error: { code: string; message: string }) => error,
      );
      expect(existsSync(marker)).toBe(false);
      const real = PKEXEC_LOCATIONS.find((p) => existsSync(p));
      if (!real) {
        // None installed here: the "install polkit" error names the first absolute path.
        expect(outcome.code).toBe('WRITE_NO_POLKIT');
        expect(outcome.message).toContain(PKEXEC_LOCATIONS[0]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
