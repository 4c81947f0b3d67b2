import { describe, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';

describe('bootcard CLI', () => {
  it('prints help listing the commands, exit 0', async () => {
    const run = await runBootcard(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: bootcard');
    expect(run.stdout).toContain('info');
  });

  it('prints its version', async () => {
    const run = await runBootcard(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command or option, with a hint', async () => {
    const unknown = await runBootcard(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    const badOption = await runBootcard(['info', '--nope']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/unknown option/);
  });

  it('has --help on every command', async () => {
    const help = await runBootcard(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const sub = await runBootcard([command, '--help']);
      expect(sub.code, command).toBe(0);
      expect(sub.stdout, command).toContain(`bootcard ${command}`);
    }
  });

  it('prints JSON with --json', async () => {
    const run = await runBootcard(['info', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'bootcard' });
  });
});

describe('program options are positional', () => {
  it('bootcard --version before a command still prints the version', async () => {
    const run = await runBootcard(['--version', 'info']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('a --version after a command belongs to that command, not to bootcard', async () => {
    // `card uefi --version X --firmware Y` must be refused as two firmware sources, not print bootcard's version.
    const run = await runBootcard(['card', 'uefi', '--version', 'v1.34', '--firmware', '/nonexistent.zip', '--out', '/tmp/never.img']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/either --firmware FILE or --version VERSION/);
  });
});
