import type { WardenEvent } from '@warden/events';
import { startMockLlm, type MockLlmHandle } from '@warden/mock-llm';
import { LiveEventBuffer } from '../src/history/live-event-buffer';
import { LiveFeedOptions } from '../src/history/live-feed.options';
import { script, startTestGateway, type TestGateway } from './support/harness';
import { waitFor } from './support/wait';
import { writePolicyConfig } from './support/test-plugins';

const ADMIN_KEY = 'wk-admin-key-for-history-tests';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const DANGEROUS = { name: 'bash', arguments: { command: 'rm -rf ~' } };
const HARMLESS = { name: 'bash', arguments: { command: 'ls -la' } };

/** One frame of an SSE stream as the test reads it. */
interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comments: string[];
}

/** Reads an SSE response frame by frame; `waitFor` resolves on the first frame (from the start) that matches. */
class FeedReader {
  readonly frames: Frame[] = [];
  private ended = false;
  private wake: Array<() => void> = [];

  private constructor(
    readonly res: Response,
    private readonly controller: AbortController,
  ) {
    void this.pump();
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<FeedReader> {
    const controller = new AbortController();
    const res = await fetch(url, { headers, signal: controller.signal });
    return new FeedReader(res, controller);
  }

  /** The events (data frames) received so far. */
  events(): WardenEvent[] {
    return this.frames
      .filter((f) => f.data !== undefined && f.event === undefined)
      .map((f) => JSON.parse(f.data ?? '') as WardenEvent);
  }

  async waitFor(predicate: (frame: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const found = this.frames.find(predicate);
      if (found !== undefined) return found;
      if (this.ended) throw new Error('feed ended before the expected frame');
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  async waitForEvent(predicate: (event: WardenEvent) => boolean): Promise<WardenEvent> {
    const frame = await this.waitFor(
      (f) => f.data !== undefined && f.event === undefined && predicate(JSON.parse(f.data) as WardenEvent),
    );
    return JSON.parse(frame.data ?? '') as WardenEvent;
  }

  close(): void {
    this.controller.abort();
  }

  private async pump(): Promise<void> {
    const body = this.res.body;
    if (body === null) return;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) !== -1) {
          this.frames.push(parseFrame(buffered.slice(0, end)));
          buffered = buffered.slice(end + 2);
        }
        this.notify();
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.notify();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = [];
    for (const resolve of wake) resolve();
  }
}

function parseFrame(block: string): Frame {
  const frame: Frame = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comments.push(line.slice(1).trim());
    else if (line.startsWith('id: ')) frame.id = line.slice(4);
    else if (line.startsWith('event: ')) frame.event = line.slice(7);
    else if (line.startsWith('data: ')) frame.data = line.slice(6);
  }
  return frame;
}

describe('history API, live feed and UI serving', () => {
  let mock: MockLlmHandle;
  let gw: TestGateway;
  let buffer: LiveEventBuffer;

  beforeAll(async () => {
    mock = await startMockLlm();
    const config = writePolicyConfig([
      {
        type: 'tool-call-judge',
        options: { model: 'mock-judge', baseUrl: `${mock.url}/v1`, format: 'openai' },
      },
    ]);
    // The real gateway and store: history in SQLite (in memory), events flushed every 10 ms.
    gw = await startTestGateway(
      {
        ADMIN_API_KEY: ADMIN_KEY,
        POLICY_CONFIG: config,
        DATABASE_URL: 'sqlite::memory:',
        EVENT_FLUSH_MS: '10',
      },
      mock,
    );
    // The feed options are a provider: a short heartbeat for the tests (15 s in production).
    gw.app.get(LiveFeedOptions).heartbeatMs = 100;
    buffer = gw.app.get(LiveEventBuffer);
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  /** Makes an Anthropic call through the gateway; returns its call id once the response is read. */
  async function call(
    content: string,
    options: { session?: string; stream?: boolean; model?: string } = {},
  ): Promise<string> {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        ...(options.session === undefined ? {} : { 'x-claude-code-session-id': options.session }),
      },
      body: JSON.stringify({
        model: options.model ?? 'claude-test',
        max_tokens: 200,
        stream: options.stream ?? false,
        tools: [{ name: 'bash', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content }],
      }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const id = res.headers.get('x-warden-call-id');
    if (id === null) throw new Error('no call id header');
    return id;
  }

  /** Resolves once the history has the call finished (events are written in batches, off the hot path). */
  async function recorded(id: string): Promise<void> {
    await waitFor(async () => {
      const res = await fetch(`${gw.url}/api/calls/${id}`, { headers: admin });
      if (res.status !== 200) return undefined;
      const { call } = (await res.json()) as { call: { status: string; finalResponse: unknown } };
      return call.status !== 'in_progress' && call.finalResponse !== null ? true : undefined;
    });
  }

  async function getJson<T>(
    path: string,
    headers: Record<string, string> = admin,
  ): Promise<{ status: number; body: T; res: Response }> {
    const res = await fetch(`${gw.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as T, res };
  }

  describe('authentication', () => {
    it('requires the admin key (or a session cookie) on every history route', async () => {
      for (const path of [
        '/api/calls',
        '/api/calls/x',
        '/api/sessions',
        '/api/sessions/x',
        '/api/sessions/x/export',
        '/api/events/stream',
      ]) {
        const res = await fetch(`${gw.url}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 401 });
        const wrong = await fetch(`${gw.url}${path}`, { headers: { 'x-api-key': 'wrong' } });
        expect({ path, status: wrong.status }).toEqual({ path, status: 401 });
      }
      expect((await fetch(`${gw.url}/api/calls`, { headers: { 'x-api-key': ADMIN_KEY } })).status).toBe(200);
    });

    it('logs in with the key into an HttpOnly, SameSite=Strict, signed session cookie, and out', async () => {
      const state = await getJson<{ authenticated: boolean; loginRequired: boolean }>(
        '/api/auth/session',
        {},
      );
      expect(state.body).toEqual({ authenticated: false, via: null, loginRequired: true });

      const bad = await fetch(`${gw.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: 'not-the-key' }),
      });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('set-cookie')).toBeNull();

      const login = await fetch(`${gw.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: ADMIN_KEY }),
      });
      expect(login.status).toBe(204);
      const setCookie = login.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(
        /^warden_session=v1\.[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
      );
      const cookie = setCookie.split(';')[0] ?? '';

      expect((await fetch(`${gw.url}/api/calls`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${gw.url}/api/policy`, { headers: { cookie } })).status).toBe(200);
      expect((await getJson('/api/auth/session', { cookie })).body).toEqual({
        authenticated: true,
        via: 'session',
        loginRequired: true,
      });
      // Tampered: one character of the signature changed.
      const tampered = cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A');
      expect((await fetch(`${gw.url}/api/calls`, { headers: { cookie: tampered } })).status).toBe(401);
      // A cookie-authenticated write from another origin is refused.
      const crossSite = await fetch(`${gw.url}/api/policy`, {
        method: 'PUT',
        headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
        body: JSON.stringify({ policies: [] }),
      });
      expect(crossSite.status).toBe(403);

      const logout = await fetch(`${gw.url}/api/auth/logout`, { method: 'POST', headers: { cookie } });
      expect(logout.status).toBe(204);
      expect(logout.headers.get('set-cookie')).toContain('Max-Age=0');
    });

    it('validates the login body', async () => {
      const res = await fetch(`${gw.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: ADMIN_KEY }),
      });
      expect(res.status).toBe(400);
    });
  });

  describe('live feed', () => {
    it('streams call.started … call.completed of a call made while connected, each with its id, and heartbeats', async () => {
      const feed = await FeedReader.open(`${gw.url}/api/events/stream`, admin);
      expect(feed.res.status).toBe(200);
      expect(feed.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      await feed.waitFor((f) => f.comments.includes('connected'));
      const id = await call(`live ${script({ text: 'hello live' })}`);
      const completed = await feed.waitForEvent((e) => e.callId === id && e.type === 'call.completed');
      const mine = feed.events().filter((e) => e.callId === id);
      expect(mine[0]?.type).toBe('call.started');
      expect(mine.map((e) => e.type)).toEqual(
        expect.arrayContaining([
          'call.started',
          'request.received',
          'request.forwarded',
          'response.completed',
        ]),
      );
      expect(mine.at(-1)).toEqual(completed);
      for (const frame of feed.frames.filter((f) => f.data !== undefined && f.event === undefined)) {
        expect(frame.id).toBe((JSON.parse(frame.data ?? '') as WardenEvent).id);
      }
      await feed.waitFor((f) => f.comments.includes('heartbeat'));
      feed.close();
    });

    it('resumes after Last-Event-ID from the buffer, and says when it cannot', async () => {
      // A client watches while the call is made, then goes away: the buffer keeps the events for it to resume.
      const watching = await FeedReader.open(`${gw.url}/api/events/stream`, admin);
      await watching.waitFor((f) => f.comments.includes('connected'));
      const id = await call(`resume ${script({ text: 'resume me' })}`);
      await watching.waitForEvent((e) => e.callId === id && e.type === 'call.completed');
      watching.close();
      const mine = buffer.entries().filter((e) => e.callId === id);
      expect(mine.length).toBeGreaterThanOrEqual(4);
      const first = mine[0];
      const last = mine.at(-1);
      if (first === undefined || last === undefined) throw new Error('no events');

      const resumed = await FeedReader.open(`${gw.url}/api/events/stream?call=${id}`, {
        ...admin,
        'last-event-id': first.id,
      });
      await resumed.waitFor((f) => f.id === last.id);
      expect(resumed.events().map((e) => e.id)).toEqual(mine.slice(1).map((e) => e.id));
      resumed.close();

      // The query parameter works the same (a reloaded page has no Last-Event-ID header).
      const byQuery = await FeedReader.open(
        `${gw.url}/api/events/stream?call=${id}&lastEventId=${first.id}`,
        admin,
      );
      await byQuery.waitFor((f) => f.id === last.id);
      byQuery.close();

      const lost = await FeedReader.open(`${gw.url}/api/events/stream`, {
        ...admin,
        'last-event-id': 'not-in-buffer',
      });
      const gap = await lost.waitFor((f) => f.event === 'gap');
      expect(JSON.parse(gap.data ?? '')).toMatchObject({ lastEventId: 'not-in-buffer' });
      lost.close();
    });

    it('filters by type prefixes, session and call', async () => {
      const feed = await FeedReader.open(
        `${gw.url}/api/events/stream?type=call.completed,policy.&session=s-filter`,
        admin,
      );
      await feed.waitFor((f) => f.comments.includes('connected'));
      await call(`other ${script({ text: 'x' })}`, { session: 's-other' });
      const id = await call(`mine ${script({ text: 'y', tools: [DANGEROUS] })}`, { session: 's-filter' });
      await feed.waitForEvent((e) => e.callId === id && e.type === 'call.completed');
      const types = feed.events().map((e) => e.type);
      expect(types).toEqual(['policy.tool-call-judge.blocked', 'call.completed']);
      expect(feed.events().every((e) => e.sessionId === 's-filter')).toBe(true);
      feed.close();

      const bad = await fetch(`${gw.url}/api/events/stream?bogus=1`, { headers: admin });
      expect(bad.status).toBe(400);
    });

    it('releases a client when it disconnects', async () => {
      const before = buffer.listenerCount;
      const feed = await FeedReader.open(`${gw.url}/api/events/stream`, admin);
      await feed.waitFor((f) => f.comments.includes('connected'));
      expect(buffer.listenerCount).toBe(before + 1);
      feed.close();
      await waitFor(() => (buffer.listenerCount === before ? true : undefined));
    });
  });

  describe('calls and sessions', () => {
    const session = `s-page-${Date.now()}`;
    const ids: string[] = [];
    let blockedId = '';

    beforeAll(async () => {
      ids.push(await call(`first needle-alpha ${script({ text: 'one' })}`, { session }));
      ids.push(await call(`second ${script({ text: 'two' })}`, { session, stream: true }));
      blockedId = await call(
        `clean up ${script({ text: 'I will clean up.', tools: [DANGEROUS, HARMLESS] })}`,
        {
          session,
          model: 'claude-judged',
        },
      );
      ids.push(blockedId);
      await Promise.all(ids.map(recorded));
    });

    it('pages through calls with a cursor, newest first', async () => {
      const first = await getJson<{ items: Array<{ id: string }>; nextCursor: string | null }>(
        `/api/calls?session=${session}&limit=2`,
      );
      expect(first.status).toBe(200);
      expect(first.body.items.map((c) => c.id)).toEqual([ids[2], ids[1]]);
      expect(first.body.nextCursor).not.toBeNull();
      expect(first.body.items[0]).not.toHaveProperty('originalRequest');
      const second = await getJson<{ items: Array<{ id: string }>; nextCursor: string | null }>(
        `/api/calls?session=${session}&limit=2&cursor=${encodeURIComponent(first.body.nextCursor ?? '')}`,
      );
      expect(second.body.items.map((c) => c.id)).toEqual([ids[0]]);
      expect(second.body.nextCursor).toBeNull();
    });

    it('filters calls by model, status, policy action, text and time', async () => {
      const list = async (query: string): Promise<string[]> =>
        (
          await getJson<{ items: Array<{ id: string }> }>(`/api/calls?session=${session}&${query}`)
        ).body.items.map((c) => c.id);
      expect(await list('model=claude-judged')).toEqual([blockedId]);
      expect(await list('policyAction=tool-call-judge.blocked')).toEqual([blockedId]);
      expect(await list('policyAction=blocked')).toEqual([blockedId]);
      expect(await list('status=completed')).toHaveLength(3);
      expect(await list('status=failed')).toEqual([]);
      expect(await list('q=NEEDLE-ALPHA')).toEqual([ids[0]]);
      expect(await list('from=2000-01-01&to=2999-01-01T00:00:00Z')).toHaveLength(3);
      expect(await list('to=2000-01-01')).toEqual([]);
    });

    it('refuses invalid queries with a 400', async () => {
      for (const query of [
        'limit=0',
        'limit=201',
        'limit=abc',
        'status=bogus',
        'from=yesterday',
        'from=2026-02-01&to=2026-01-01',
        'unknown=1',
        'session=',
      ]) {
        const res = await fetch(`${gw.url}/api/calls?${query}`, { headers: admin });
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
      }
      const body = (await (await fetch(`${gw.url}/api/calls?limit=500`, { headers: admin })).json()) as {
        error: { message: string };
      };
      expect(body.error.message).toContain('limit');
      expect((await fetch(`${gw.url}/api/sessions?limit=0`, { headers: admin })).status).toBe(400);
    });

    it('serves one call with its events, its turn and the diff of the blocked tool call', async () => {
      const { status, body } = await getJson<{
        call: { id: string; policyActions: string[] };
        events: WardenEvent[];
        turn: { user: unknown[]; assistant: { content: Array<{ type: string; text?: string }> } };
        diff: {
          request: { changed: boolean };
          response: {
            changed: boolean;
            changes: Array<{ path: string }>;
            blocks: Array<{
              kind: string;
              before?: { type: string; input?: unknown };
              after?: { type: string; text?: string };
              policy?: { event: string; explanation?: string };
            }>;
          };
        };
      }>(`/api/calls/${blockedId}`);
      expect(status).toBe(200);
      expect(body.call.policyActions).toEqual(
        expect.arrayContaining(['tool-call-judge.blocked', 'tool-call-judge.allowed']),
      );
      expect(body.events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['call.started', 'policy.tool-call-judge.blocked', 'call.completed']),
      );
      expect(body.diff.request.changed).toBe(false);
      expect(body.diff.response.changed).toBe(true);
      const replaced = body.diff.response.blocks.filter((b) => b.kind === 'replaced');
      expect(replaced).toHaveLength(1);
      expect(replaced[0]?.before).toMatchObject({ type: 'tool_use', input: DANGEROUS.arguments });
      expect(replaced[0]?.after?.type).toBe('text');
      expect(replaced[0]?.after?.text).toContain('rm -rf ~');
      expect(replaced[0]?.policy).toMatchObject({
        event: 'policy.tool-call-judge.blocked',
        explanation: 'mock judge: matched dangerous pattern rm -rf',
      });
      expect(body.diff.response.blocks.map((b) => b.kind)).toEqual(['kept', 'replaced', 'kept']);
      expect(body.turn.assistant.content.map((b) => b.type)).toEqual(['text', 'text', 'tool_use']);

      expect((await fetch(`${gw.url}/api/calls/does-not-exist`, { headers: admin })).status).toBe(404);
    });

    it('lists sessions and shows one as turns', async () => {
      const sessions = await getJson<{ items: Array<{ id: string; callCount: number }> }>(
        '/api/sessions?limit=200',
      );
      expect(sessions.body.items.find((s) => s.id === session)).toMatchObject({ callCount: 3 });
      const detail = await getJson<{
        session: { id: string };
        turns: Array<{ callId: string; user: Array<{ content: Array<{ text?: string }> }> }>;
      }>(`/api/sessions/${session}`);
      expect(detail.body.turns.map((t) => t.callId)).toEqual(ids);
      expect(detail.body.turns[0]?.user[0]?.content[0]?.text).toContain('needle-alpha');
      expect((await fetch(`${gw.url}/api/sessions/nope`, { headers: admin })).status).toBe(404);
    });

    it('exports a session as Markdown and JSONL attachments', async () => {
      const md = await fetch(`${gw.url}/api/sessions/${session}/export?format=markdown`, { headers: admin });
      expect(md.status).toBe(200);
      expect(md.headers.get('content-type')).toContain('text/markdown');
      expect(md.headers.get('content-disposition')).toBe(`attachment; filename="session-${session}.md"`);
      const text = await md.text();
      expect(text).toContain(`# Session ${session}`);
      expect(text).toContain('## Turn 3');

      const jsonl = await fetch(`${gw.url}/api/sessions/${session}/export?format=jsonl`, { headers: admin });
      expect(jsonl.headers.get('content-disposition')).toBe(
        `attachment; filename="session-${session}.jsonl"`,
      );
      const lines = (await jsonl.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string });
      expect(lines.map((l) => l.type)).toEqual(['session', 'turn', 'turn', 'turn']);

      expect(
        (await fetch(`${gw.url}/api/sessions/${session}/export?format=pdf`, { headers: admin })).status,
      ).toBe(400);
    });
  });

  describe('security and cache headers', () => {
    const SECURITY = {
      'content-security-policy':
        "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';frame-ancestors 'none';base-uri 'none';form-action 'self';object-src 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    };
    const headersOf = (res: Response): Record<string, string | null> =>
      Object.fromEntries(Object.keys(SECURITY).map((k) => [k, res.headers.get(k)]));

    it('serves the UI shell with CSP and no-cache, and fingerprinted assets as immutable', async () => {
      const page = await fetch(`${gw.url}/ui/calls/some-id`);
      expect(page.status).toBe(200);
      expect(headersOf(page)).toEqual(SECURITY);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const html = await page.text();
      expect(html).not.toMatch(/<script>|<style>|\sstyle=|\son[a-z]+=/i);
      const src = /src="(\/ui\/assets\/([0-9a-f]{16})\/app\.js)"/.exec(html);
      expect(src).not.toBeNull();
      const asset = await fetch(`${gw.url}${src?.[1] ?? ''}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(headersOf(asset)).toEqual(SECURITY);
      const stale = await fetch(`${gw.url}/ui/assets/0000000000000000/app.js`);
      expect(stale.status).toBe(404);
      expect(stale.headers.get('cache-control')).toBe('no-store');
      expect((await fetch(`${gw.url}/ui/assets/${src?.[2] ?? ''}/..%2Findex.html`)).status).toBe(404);
    });

    it('sends the same headers, and no-store, on the admin API (errors included)', async () => {
      const ok = await fetch(`${gw.url}/api/calls`, { headers: admin });
      expect(headersOf(ok)).toEqual(SECURITY);
      expect(ok.headers.get('cache-control')).toBe('no-store');
      const denied = await fetch(`${gw.url}/api/calls`);
      expect(denied.status).toBe(401);
      expect(headersOf(denied)).toEqual(SECURITY);
      expect(headersOf(await fetch(`${gw.url}/api/policy`, { headers: admin }))).toEqual(SECURITY);
    });
  });
});
