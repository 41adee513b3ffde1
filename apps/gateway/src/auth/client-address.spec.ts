import type { IncomingMessage } from 'node:http';
import type { ConfigType } from '@nestjs/config';
import { InvalidConfigException } from '@warden/config';
import fc from 'fast-check';
import type { gatewayConfig } from '../config/gateway.config';
import { ClientAddress, plainAddress, trustedProxies } from './client-address';

function resolver(trustProxy: string[]): ClientAddress {
  return new ClientAddress({ trustProxy } as unknown as ConfigType<typeof gatewayConfig>);
}

function request(peer: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('ClientAddress', () => {
  it('uses the TCP peer and ignores X-Forwarded-For when no proxy is trusted', () => {
    expect(resolver([]).of(request('203.0.113.9', '1.2.3.4'))).toBe('203.0.113.9');
    expect(resolver([]).of(request('::ffff:203.0.113.9'))).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(resolver(['10.0.0.0/8']).of(request('203.0.113.9', '1.2.3.4'))).toBe('203.0.113.9');
  });

  it('takes the right-most untrusted hop behind trusted proxies', () => {
    const r = resolver(['10.0.0.0/8', '192.168.1.1']);
    expect(r.of(request('10.1.2.3', '198.51.100.7'))).toBe('198.51.100.7');
    // The client wrote a fake first hop: only the hop the trusted proxy added counts.
    expect(r.of(request('10.1.2.3', '6.6.6.6, 198.51.100.7, 192.168.1.1'))).toBe('198.51.100.7');
    expect(r.of(request('::ffff:10.0.0.1', '10.0.0.2, 10.0.0.3'))).toBe('10.0.0.2');
    expect(r.of(request('10.1.2.3'))).toBe('10.1.2.3');
    expect(r.of(request('10.1.2.3', 'garbage, 198.51.100.7'))).toBe('198.51.100.7');
    expect(r.of(request('10.1.2.3', 'garbage'))).toBe('10.1.2.3');
  });

  it('strips the ports some load balancers add to hops', () => {
    const r = resolver(['10.0.0.0/8']);
    expect(r.of(request('10.1.2.3', '198.51.100.7:51234'))).toBe('198.51.100.7');
    expect(r.of(request('10.1.2.3', '[2001:db8::5]:443'))).toBe('2001:db8::5');
    expect(r.of(request('10.1.2.3', '198.51.100.7:51234, 10.0.0.9:80'))).toBe('198.51.100.7');
  });

  it('accepts IPv6 ranges and refuses entries that are not addresses', () => {
    expect(resolver(['fd00::/8']).of(request('fd00::1', '2001:db8::5'))).toBe('2001:db8::5');
    expect(() => trustedProxies(['10.0.0.0/33'])).toThrow(InvalidConfigException);
    expect(() => trustedProxies(['example.com'])).toThrow(/TRUST_PROXY \(example.com\)/);
  });

  it('never returns a forged address when the peer is untrusted (property)', () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    fc.assert(
      fc.property(ipv4, fc.array(ipv4, { maxLength: 5 }), (peer, hops) => {
        fc.pre(!peer.startsWith('10.'));
        expect(resolver(['10.0.0.0/8']).of(request(peer, hops.join(', ')))).toBe(plainAddress(peer));
      }),
    );
  });
});
