import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySecurityHeaders } from './security-headers';
import { locateUiDir, UiAssets, UI_DIR } from './ui-assets';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

function fakeUi(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'warden-ui-'));
  const dir = join(root, UI_DIR);
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<script type="module" src="%ASSETS%/app.js"></script>');
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, 'assets', name), body);
  return root;
}

describe('UI assets', () => {
  it('finds the UI folder walking up from a nested directory (sources or dist)', () => {
    const root = fakeUi({ 'app.js': '' });
    const nested = join(root, 'dist', 'apps', 'gateway', 'src', 'ui');
    mkdirSync(nested, { recursive: true });
    expect(locateUiDir(nested)).toBe(join(root, UI_DIR));
    expect(locateUiDir(join(__dirname))).toBe(join(__dirname, '..', '..', 'ui'));
  });

  it('fingerprints the assets: the shell names them under /ui/assets/<hash>/, a change changes the hash', () => {
    const a = UiAssets.load(
      join(fakeUi({ 'app.js': 'one', 'app.css': 'x', 'notes.txt': 'ignored' }), UI_DIR),
    );
    const b = UiAssets.load(join(fakeUi({ 'app.js': 'two', 'app.css': 'x' }), UI_DIR));
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(a.hash).not.toBe(b.hash);
    expect(a.html.toString()).toBe(`<script type="module" src="/ui/assets/${a.hash}/app.js"></script>`);
    expect(a.names().sort()).toEqual(['app.css', 'app.js']);
    expect(a.asset(a.hash, 'app.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(a.asset(b.hash, 'app.js')).toBeUndefined();
    expect(a.asset(a.hash, '../index.html')).toBeUndefined();
  });

  it('loads the real UI, whose modules are all referenced assets', () => {
    const dir = locateUiDir(__dirname);
    expect(dir).toBeDefined();
    const ui = UiAssets.load(dir ?? '');
    expect(ui.names()).toEqual(expect.arrayContaining(['app.js', 'app.css', 'dom.js', 'live.js', 'call.js']));
    expect(ui.html.toString()).not.toContain('%ASSETS%');
  });
});

describe('security headers (helmet)', () => {
  function run(url: string): Record<string, unknown> {
    const req = new IncomingMessage(new Socket());
    req.url = url;
    const res = new ServerResponse(req);
    const next = jest.fn();
    applySecurityHeaders(req, res, next);
    expect(next).toHaveBeenCalledWith();
    return res.getHeaders();
  }

  it('sets a strict CSP and friends on /ui and /api, no-store on /api, nothing elsewhere', () => {
    const csp = String(run('/ui/live')['content-security-policy']);
    expect(csp.split(';')).toEqual(
      expect.arrayContaining([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
      ]),
    );
    expect(csp).not.toContain('unsafe');
    expect(run('/ui')['x-frame-options']).toBe('DENY');
    expect(run('/api/calls?limit=1')).toMatchObject({
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    expect(run('/API/calls')['content-security-policy']).toBe(csp);
    expect(run('/v1/models')).toEqual({});
    expect(run('/uix')).toEqual({});
  });

  it('lets the API docs use inline styles, never inline scripts', () => {
    const csp = String(run('/docs')['content-security-policy']);
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("script-src 'self' 'unsafe");
  });
});
