import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_TYPES, EventPublisher, TrackedEventPublisher, type WardenEvent } from '@warden/events';
import { startTestGateway, type TestGateway } from './support/harness';
import { waitFor } from './support/wait';

describe('HISTORY_ENABLED=false', () => {
  let gw: TestGateway;
  let dir: string;
  let databaseFile: string;
  const seen: WardenEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-no-history-'));
    databaseFile = join(dir, 'history.db');
    // A database URL that would be used if history were on: nothing may be created there.
    gw = await startTestGateway({
      HISTORY_ENABLED: 'false',
      DATABASE_URL: `sqlite:${databaseFile}`,
      DATABASE_REQUIRED: 'true',
    });
    gw.app.get(EventPublisher).subscribe((event) => seen.push(event));
  });
  afterAll(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves calls and publishes their events to the live bus, without opening a database', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status).toBe(200);
    const callId = res.headers.get('x-warden-call-id');
    await res.json();
    const types = await waitFor(() => {
      const mine = seen.filter((e) => e.callId === callId).map((e) => e.type);
      return mine.includes(EVENT_TYPES.callCompleted) ? mine : undefined;
    });
    expect(types).toEqual(expect.arrayContaining([EVENT_TYPES.callStarted, EVENT_TYPES.responseCompleted]));
    expect(gw.app.get(TrackedEventPublisher).stats()).toMatchObject({ queued: 0, dropped: 0 });
    expect(existsSync(databaseFile)).toBe(false);
  });

  it('answers the history API with a 404 that says why', async () => {
    for (const path of ['/api/calls', '/api/sessions', '/api/calls/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b']) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toContain('HISTORY_ENABLED=false');
    }
  });

  it('is healthy and ready: a gateway that stores nothing has no database to wait for', async () => {
    const res = await fetch(`${gw.url}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'up', kind: 'disabled', required: false } },
    });
  });
});
