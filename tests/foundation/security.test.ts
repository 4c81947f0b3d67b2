import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, isTrustedSenderUrl, secureWebPreferences } from '../../electron/main/security.js';
import { IPC_FROM_MAIN, IPC_TO_MAIN } from '../../electron/preload/channel-names.js';
import { REPO_ROOT } from '../helpers/shared.js';

describe('window security', () => {
  it('isolates and sandboxes the renderer with no Node integration', () => {
    const prefs = secureWebPreferences('/app/preload.cjs');
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.preload).toBe('/app/preload.cjs');
  });

  it('has a strict CSP: nothing remote, no inline script, no eval', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    const html = readFileSync(path.join(REPO_ROOT, 'renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(meta).toContain("default-src 'none'");
    expect(meta).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });

  it('only trusts IPC from the bundled renderer page', () => {
    const own = 'file:///opt/bootcard/resources/app.asar/dist/renderer/index.html';
    expect(isTrustedSenderUrl(own, own)).toBe(true);
    expect(isTrustedSenderUrl('https://example.com/', own)).toBe(false);
    expect(isTrustedSenderUrl('file:///tmp/evil.html', own)).toBe(false);
    expect(isTrustedSenderUrl('not a url', own)).toBe(false);
  });

  it('main blocks navigation, new windows and webviews, and holds a single-instance lock', () => {
    const main = readFileSync(path.join(REPO_ROOT, 'electron', 'main', 'main.ts'), 'utf8');
    expect(main).toContain("'will-navigate'");
    expect(main).toContain('setWindowOpenHandler');
    expect(main).toContain("action: 'deny'");
    expect(main).toContain("'will-attach-webview'");
    expect(main).toContain('requestSingleInstanceLock');
    expect(main).toContain('secureWebPreferences(');
  });

  it('the sandboxed preload uses the same channel names as main', () => {
    const preload = readFileSync(path.join(REPO_ROOT, 'electron', 'preload', 'preload.cts'), 'utf8');
    expect(preload).toContain(`'${IPC_TO_MAIN}'`);
    expect(preload).toContain(`'${IPC_FROM_MAIN}'`);
    expect(preload).toMatch(/exposeInMainWorld\('bootcardTransport'/);
  });
});
