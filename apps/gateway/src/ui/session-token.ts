import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Lifetime of a UI session. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const VERSION = 'v1';
/** Context string of the key derivation: a session key is useless as anything else, and vice versa. */
const KEY_CONTEXT = 'warden/ui-session/v1';
const NONCE_BYTES = 16;
const TOKEN_SHAPE = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/**
 * Signs and checks the UI session token: `v1.<expiry, base 36 ms>.<nonce>.<HMAC-SHA256>`, keyed by
 * HMAC-SHA256(ADMIN_API_KEY, context). Stateless: rotating ADMIN_API_KEY ends every session; a token stays valid
 * until it expires (logout clears the cookie). The MAC is compared in constant time.
 */
export class SessionTokenSigner {
  private readonly key: Buffer;

  constructor(
    adminKey: string,
    private readonly ttlMs = SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createHmac('sha256', adminKey).update(KEY_CONTEXT).digest();
  }

  /** A new token and its expiry (ms since the epoch). */
  issue(): { token: string; expiresAt: number } {
    const expiresAt = this.now() + this.ttlMs;
    const payload = `${VERSION}.${expiresAt.toString(36)}.${randomBytes(NONCE_BYTES).toString('base64url')}`;
    return { token: `${payload}.${this.mac(payload).toString('base64url')}`, expiresAt };
  }

  /** True for a token this key signed that has not expired. */
  verify(token: string): boolean {
    const match = TOKEN_SHAPE.exec(token);
    if (match === null) return false;
    const [, expiry = '', , mac = ''] = match;
    const payload = token.slice(0, token.length - mac.length - 1);
    // Compared as text: base64url has several spellings of the same bytes (unused low bits of the last
    // character); only the canonical one, the one issued, is accepted.
    const presented = Buffer.from(mac);
    const expected = Buffer.from(this.mac(payload).toString('base64url'));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return false;
    const expiresAt = parseInt(expiry, 36);
    const now = this.now();
    // A signed expiry beyond one lifetime from now was not issued by this code: refuse it too.
    return Number.isSafeInteger(expiresAt) && expiresAt > now && expiresAt <= now + this.ttlMs;
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }
}
