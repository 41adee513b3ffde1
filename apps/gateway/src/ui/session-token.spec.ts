import { LoginThrottle } from './login-throttle';
import { SESSION_TTL_MS, SessionTokenSigner } from './session-token';
import { readCookie } from './ui-session.service';

describe('SessionTokenSigner', () => {
  let now = 1_700_000_000_000;
  const clock = (): number => now;
  const signer = new SessionTokenSigner('admin-key', SESSION_TTL_MS, clock);

  beforeEach(() => {
    now = 1_700_000_000_000;
  });

  it('verifies the tokens it issues, for 12 hours', () => {
    const { token, expiresAt } = signer.issue();
    expect(expiresAt).toBe(now + 12 * 60 * 60 * 1000);
    expect(signer.verify(token)).toBe(true);
    now = expiresAt - 1;
    expect(signer.verify(token)).toBe(true);
    now = expiresAt;
    expect(signer.verify(token)).toBe(false);
  });

  it('issues a different token each time', () => {
    expect(signer.issue().token).not.toBe(signer.issue().token);
  });

  it('refuses a token signed with another admin key', () => {
    const other = new SessionTokenSigner('other-key', SESSION_TTL_MS, clock);
    expect(signer.verify(other.issue().token)).toBe(false);
  });

  it('refuses tampered tokens', () => {
    const { token } = signer.issue();
    const [version, expiry, nonce, mac] = token.split('.') as [string, string, string, string];
    const later = (parseInt(expiry, 36) + 1000).toString(36);
    expect(signer.verify(`${version}.${later}.${nonce}.${mac}`)).toBe(false);
    const flipped = nonce.startsWith('A') ? `B${nonce.slice(1)}` : `A${nonce.slice(1)}`;
    expect(signer.verify(`${version}.${expiry}.${flipped}.${mac}`)).toBe(false);
    const badMac = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    expect(signer.verify(`${version}.${expiry}.${nonce}.${badMac}`)).toBe(false);
    expect(signer.verify(`v2.${expiry}.${nonce}.${mac}`)).toBe(false);
    // Same bytes, another spelling: the last character's unused low bits changed.
    const last = mac.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? 'A';
    expect(signer.verify(`${version}.${expiry}.${nonce}.${mac.slice(0, -1)}${sibling}`)).toBe(false);
    for (const junk of ['', 'v1', 'v1...', `${token}.x`, `${token}=`, 'admin-key'])
      expect(signer.verify(junk)).toBe(false);
  });

  it('refuses a validly signed expiry further away than one lifetime (not issued by this code)', () => {
    const longLived = new SessionTokenSigner('admin-key', SESSION_TTL_MS * 10, clock);
    expect(signer.verify(longLived.issue().token)).toBe(false);
  });
});

describe('readCookie', () => {
  it('finds a cookie among others', () => {
    expect(readCookie('a=1; warden_session=v1.x.y.z; b=2', 'warden_session')).toBe('v1.x.y.z');
    expect(readCookie('warden_sessionx=1', 'warden_session')).toBeUndefined();
    expect(readCookie(undefined, 'warden_session')).toBeUndefined();
  });
});

describe('LoginThrottle', () => {
  it('refuses an address after too many failures until the window ends; success resets', () => {
    let now = 0;
    const throttle = new LoginThrottle(3, 1000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs('1.2.3.4')).toBe(0);
      throttle.failed('1.2.3.4');
    }
    expect(throttle.retryAfterMs('1.2.3.4')).toBe(1000);
    expect(throttle.retryAfterMs('5.6.7.8')).toBe(0);
    now = 1000;
    expect(throttle.retryAfterMs('1.2.3.4')).toBe(0);
    throttle.failed('5.6.7.8');
    throttle.succeeded('5.6.7.8');
    expect(throttle.retryAfterMs('5.6.7.8')).toBe(0);
  });
});
