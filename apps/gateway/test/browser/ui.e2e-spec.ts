import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { script, startTestGateway, type TestGateway } from '../support/harness';
import { waitFor } from '../support/wait';
import { writePolicyConfig } from '../support/test-plugins';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_KEY = 'wk-admin-key-for-browser-tests';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const XSS_SCRIPT = '<script>window.__xss=1</script>';
const XSS_IMG = '<img src=x onerror="window.__xss=2">';

/** Set by the injected markup if it ever ran. */
const xssMarker = (): unknown => (globalThis as { __xss?: unknown }).__xss;

/**
 * The web UI in real headless Chromium against the real gateway (tool-call-judge with the mock as judge): login,
 * the live view, the call page of a blocked tool call, and data that looks like HTML rendered as text.
 */
describe('web UI in Chromium', () => {
  let mock: MockLlmHandle;
  let gw: TestGateway;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const problems: string[] = [];

  beforeAll(async () => {
    mock = await startMockLlm();
    const config = writePolicyConfig([
      {
        type: 'tool-call-judge',
        options: { model: 'mock-judge', baseUrl: `${mock.url}/v1`, format: 'openai' },
      },
    ]);
    gw = await startTestGateway(
      {
        ADMIN_API_KEY: ADMIN_KEY,
        POLICY_CONFIG: config,
        DATABASE_URL: 'sqlite::memory:',
        EVENT_FLUSH_MS: '10',
      },
      mock,
    );
    profile = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    // CSP violations and script errors show up here: the UI must produce none.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  });

  afterAll(async () => {
    await context?.close();
    await gw?.close();
    await mock?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  /** Makes an Anthropic call through the gateway and returns its call id. */
  async function call(content: string, session = 'browser-session'): Promise<string> {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-claude-code-session-id': session,
      },
      body: JSON.stringify({
        model: 'claude-test',
        max_tokens: 200,
        tools: [{ name: 'bash', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content }],
      }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const id = res.headers.get('x-warden-call-id');
    if (id === null) throw new Error('no call id');
    return id;
  }

  /** Resolves when the history has the call finished, with its response (events are written in batches). */
  async function recorded(id: string): Promise<void> {
    await waitFor(async () => {
      const res = await fetch(`${gw.url}/api/calls/${id}`, { headers: { 'x-api-key': ADMIN_KEY } });
      if (res.status !== 200) return undefined;
      const { call } = (await res.json()) as { call: { status: string; finalResponse: unknown } };
      return call.status !== 'in_progress' && call.finalResponse !== null ? true : undefined;
    });
  }

  it('asks for the admin key, then opens the live view', async () => {
    await page.goto(`${gw.url}/ui/live`);
    await page.waitForSelector('#login-form');
    await page.fill('#login-key', 'wrong-key');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:has-text("Wrong key")');
    await page.fill('#login-key', ADMIN_KEY);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#feed-status[data-state="open"]');
    expect(await page.isVisible('#logout')).toBe(true);
  });

  it('shows a call made while the live view is open', async () => {
    await page.waitForSelector('#feed-status[data-state="open"]');
    const id = await call(`live view check ${script({ text: 'Hello from the live test.' })}`);
    const completed = page.locator(`li.event[data-call-id="${id}"][data-type="call.completed"]`);
    await completed.waitFor();
    expect(await completed.textContent()).toContain('status 200');
    const received = page.locator(`li.event[data-call-id="${id}"][data-type="request.received"]`);
    expect(await received.textContent()).toContain('live view check');
    // Newest on top.
    expect(await page.locator('#events > li').first().getAttribute('data-type')).toBe('call.completed');
  });

  it('renders event and prompt data that looks like HTML as text', async () => {
    const id = await call(
      `Please echo ${XSS_SCRIPT} and ${XSS_IMG} ${script({ text: `Echo: ${XSS_SCRIPT} ${XSS_IMG}` })}`,
    );
    const received = page.locator(`li.event[data-call-id="${id}"][data-type="request.received"]`);
    await received.waitFor();
    expect(await received.textContent()).toContain(XSS_SCRIPT);
    await page.getByText(XSS_SCRIPT).first().waitFor({ state: 'visible' });
    expect(await page.evaluate(xssMarker)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);

    await recorded(id);
    await page.goto(`${gw.url}/ui/calls/${id}`);
    const exchange = page.locator('#exchange');
    await exchange.waitFor();
    await page.locator('#exchange').getByText(XSS_IMG).first().waitFor({ state: 'visible' });
    expect(await exchange.textContent()).toContain(`Echo: ${XSS_SCRIPT}`);
    expect(await page.evaluate(xssMarker)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
  });

  it("shows a blocked tool call side by side with its replacement and the judge's explanation", async () => {
    const id = await call(
      `Tidy up ${script({ text: 'I will clean up.', tools: [{ name: 'bash', arguments: { command: 'rm -rf ~' } }] })}`,
    );
    await recorded(id);
    await page.goto(`${gw.url}/ui/calls/${id}`);
    const replaced = page.locator('#response-diff .diff-row.kind-replaced');
    await replaced.waitFor();
    expect(await replaced.count()).toBe(1);
    expect(await replaced.locator('td.before').textContent()).toContain('rm -rf ~');
    expect(await replaced.locator('td.before .block-tool_use').count()).toBe(1);
    expect(await replaced.locator('td.after .block-text').textContent()).toMatch(/blocked/i);
    expect(await replaced.locator('.policy-note').textContent()).toContain(
      'mock judge: matched dangerous pattern rm -rf',
    );
    const blocked = page.locator('#blocked-calls .blocked-call');
    expect(await blocked.count()).toBe(1);
    expect(await blocked.textContent()).toContain('mock judge: matched dangerous pattern rm -rf');
    expect(await page.locator('#response-diff .diff-row.kind-kept').count()).toBe(1);
  });

  it('lists the session and its calls in the history, and shows the policy chain', async () => {
    await page.goto(`${gw.url}/ui/history?session=browser-session`);
    await page.locator('#calls tr[data-call-id]').first().waitFor();
    expect(await page.locator('#calls tr[data-call-id]').count()).toBeGreaterThanOrEqual(3);
    await page.locator('#sessions a', { hasText: 'browser-…' }).first().waitFor();

    await page.goto(`${gw.url}/ui/sessions/browser-session`);
    await page.locator('#turns > li.turn').first().waitFor();
    expect(await page.locator('#turns > li.turn').count()).toBeGreaterThanOrEqual(3);

    await page.goto(`${gw.url}/ui/policy`);
    await page.locator('#policy-chain li', { hasText: 'tool-call-judge' }).waitFor();
  });

  it('logged no script error or CSP violation', () => {
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
  });
});
