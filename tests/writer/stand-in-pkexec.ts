/**
 * A stand-in for pkexec that behaves as the real one does once polkit said
 * yes (polkit's src/programs/pkexec.c): it marks every descriptor >= 3
 * close-on-exec, becomes root (setuid root itself), clears the environment
 * (keeping a root PATH/HOME/USER), sets PKEXEC_UID to the caller's uid and
 * execs its argv. Compiled with gcc into a folder the user nobody can reach,
 * installed setuid root.
 *
 * `rootexec` is the same without PKEXEC_UID: a child started as root by an
 * unprivileged parent some other way. The child's data path must not depend
 * on PKEXEC_UID, so the tests use it where PKEXEC_UID would refuse earlier
 * (loop devices) and they want to see what the image data does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './cli-process.js';

const SOURCE = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2 || argv[1][0] != '/') {
    fprintf(stderr, "usage: pkexec /absolute/program [arguments]\n");
    return 127;
  }
  char uid[32];
  snprintf(uid, sizeof uid, "%u", (unsigned) getuid());
  DIR *fds = opendir("/proc/self/fd");
  if (fds == NULL) return 127;
  struct dirent *e;
  while ((e = readdir(fds)) != NULL) {
    int fd = atoi(e->d_name);
    if (fd >= 3 && fd != dirfd(fds)) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  closedir(fds);
  if (setgroups(0, NULL) != 0 || setgid(0) != 0 || setuid(0) != 0) {
    perror("pkexec: becoming root");
    return 127;
  }
  clearenv();
  setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  setenv("HOME", "/root", 1);
  setenv("USER", "root", 1);
  setenv("LOGNAME", "root", 1);
#ifdef SET_PKEXEC_UID
  setenv("PKEXEC_UID", uid, 1);
#endif
  execv(argv[1], argv + 1);
  perror("pkexec: exec");
  return 127;
}
`;

export const NOBODY = 65534;
/** Runs a command as nobody: no supplementary groups, nothing of root's. */
export const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] as const;

/** Why these tests cannot run here, or null. */
export function standInUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'installing a setuid stand-in needs root';
  if (spawnSync('gcc', ['--version']).status !== 0) return 'gcc is not installed';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv is missing';
  const probe = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), 'test', '-r', path.join(REPO_ROOT, 'node_modules', 'tsx', 'package.json'), '-a', '-x', process.execPath]);
  if (probe.status !== 0) return `the user nobody cannot read ${REPO_ROOT} or run ${process.execPath} (a clone in a 0700 folder)`;
  return null;
}

export interface StandIns {
  /** Behaves as pkexec: PKEXEC_UID set. */
  readonly pkexec: string;
  /** Becomes root without PKEXEC_UID. */
  readonly rootexec: string;
  cleanup(): void;
}

export function buildStandIns(): StandIns {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-stand-in-'));
  chmodSync(dir, 0o755);
  const source = path.join(dir, 'stand-in.c');
  writeFileSync(source, SOURCE);
  const pkexec = path.join(dir, 'pkexec');
  const rootexec = path.join(dir, 'rootexec');
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-DSET_PKEXEC_UID', '-o', pkexec, source]);
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', rootexec, source]);
  for (const program of [pkexec, rootexec]) {
    chownSync(program, 0, 0);
    chmodSync(program, 0o4755);
  }
  if (!existsSync(pkexec) || !existsSync(rootexec)) throw new Error('the stand-in did not build');
  return { pkexec, rootexec, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
