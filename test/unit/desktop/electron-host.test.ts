import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_API_CALLS } from '../../../src/shared/cluster-api.js';

/**
 * The Electron host cannot run here (no Electron binary), so its wiring is checked against a
 * recording stand-in for the `electron` module: the window's security options, the IPC channels,
 * and the app:// protocol that serves the renderer with its CSP.
 */
register('./fake-electron/hooks.mjs', import.meta.url);

interface FakeWindow {
  options: { webPreferences: Record<string, unknown> };
  webContents: { loaded: string; openHandler: (d: { url: string }) => { action: string }; listeners: Map<string, (e: { preventDefault(): void }, url?: string) => void> };
}
interface Fake {
  windows: FakeWindow[];
  ipc: Map<string, (...a: unknown[]) => Promise<unknown>>;
  schemes: { scheme: string; privileges: Record<string, boolean> }[];
  protocolHandlers: Map<string, (r: Request) => Promise<Response>>;
  headerHooks: unknown[];
  permissionHandlers: ((wc: unknown, permission: string, cb: (ok: boolean) => void) => void)[];
}
const fake = () => (globalThis as unknown as { __fakeElectron: Fake }).__fakeElectron;

describe('Electron host wiring (against a stand-in electron module)', () => {
  let rendererDir: string;
  before(async () => {
    rendererDir = await mkdtemp(join(tmpdir(), 'yak-renderer-'));
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>YAK</title>');
  });
  after(() => rm(rendererDir, { recursive: true, force: true }));

  it('opens a locked-down window on app://yak, with no way to navigate or open windows elsewhere', async () => {
    const { createMainWindow } = await import('../../../src/main/host/window.js');
    createMainWindow({ preloadPath: '/app/out/preload/index.cjs', devServerUrl: undefined });
    const win = fake().windows.at(-1)!;
    assert.deepEqual(
      { ...win.options.webPreferences },
      {
        preload: '/app/out/preload/index.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        spellcheck: false,
      },
    );
    assert.equal(win.webContents.loaded, 'app://yak/index.html');
    assert.deepEqual(win.webContents.openHandler({ url: 'https://example.com' }), { action: 'deny' });
    const navigate = win.webContents.listeners.get('will-navigate')!;
    let prevented = 0;
    navigate({ preventDefault: () => prevented++ }, 'https://evil.example/');
    navigate({ preventDefault: () => prevented++ }, 'file:///etc/passwd');
    navigate({ preventDefault: () => prevented++ }, 'app://yak/index.html#/dashboard');
    assert.equal(prevented, 2);
    const answers: boolean[] = [];
    fake().permissionHandlers.at(-1)!(null, 'media', (ok) => answers.push(ok));
    assert.deepEqual(answers, [false]);
    assert.equal(fake().headerHooks.length, 0, 'the packaged page gets its CSP from the protocol, not a header hook');
  });

  it('serves the renderer on a privileged app:// scheme with the CSP header, and nothing outside its folder', async () => {
    const { registerAppScheme, serveRenderer } = await import('../../../src/main/host/protocol.js');
    registerAppScheme();
    assert.deepEqual(fake().schemes, [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    serveRenderer(rendererDir);
    const handle = fake().protocolHandlers.get('app')!;
    const page = await handle(new Request('app://yak/'));
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'; script-src 'self'/);
    assert.equal((await handle(new Request('app://yak/..%2f..%2fetc%2fpasswd'))).status, 403);
    assert.equal((await handle(new Request('app://yak/missing.js'))).status, 404);
    assert.equal((await handle(new Request('app://other/index.html'))).status, 404);
  });

  it('registers ipcMain handlers for exactly the ClusterApi calls, and pushes to windows on the shared channels', async () => {
    const { registerIpc, pushToWindows } = await import('../../../src/main/host/ipc.js');
    const { trustedUrlCheck } = await import('../../../src/main/host/trusted-origin.js');
    const api = Object.fromEntries(CLUSTER_API_CALLS.map((m) => [m, async () => m])) as never;
    const unregister = registerIpc(api, trustedUrlCheck());
    assert.deepEqual([...fake().ipc.keys()].sort(), CLUSTER_API_CALLS.map((m) => `yak:${m}`).sort());
    assert.deepEqual(await fake().ipc.get('yak:listTopics')!({ senderFrame: { url: 'app://yak/index.html' } }), { result: 'listTopics' });
    unregister();
    assert.equal(fake().ipc.size, 0);

    let snapshotListener: ((s: unknown) => void) | null = null;
    const stop = pushToWindows({ onSnapshot: (l) => ((snapshotListener = l as never), () => undefined), onEvent: () => () => undefined });
    snapshotListener!({ at: 1 });
    const sent = (globalThis as unknown as { __fakeElectron: { sent: { channel: string }[] } }).__fakeElectron.sent;
    assert.ok(sent.some((s) => s.channel === 'yak:snapshot'));
    stop();
  });
});
