import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { type ConfigType } from '@nestjs/config';
import { InvalidConfigException } from '@warden/config';
import { gatewayConfig } from '../config/gateway.config';

/**
 * Builds the set of trusted proxies from `TRUST_PROXY` entries (IPv4/IPv6 addresses or CIDR ranges). Throws an
 * {@link InvalidConfigException} naming the variable for an entry that is neither.
 */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= max))) {
      throw new InvalidConfigException('gateway', [
        `TRUST_PROXY (${entry}): not an IP address or CIDR range`,
      ]);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

/** The peer address without the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` is `10.0.0.1`). */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** An X-Forwarded-For hop without the port some load balancers add (`1.2.3.4:5678`, `[2001:db8::1]:443`). */
export function hopAddress(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed !== null) return plainAddress(bracketed[1] ?? '');
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return plainAddress(v4WithPort === null ? hop : (v4WithPort[1] ?? ''));
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address for per-IP decisions (rate limits, login throttling, logs): the TCP peer, or, when the peer
 * is a trusted proxy (`TRUST_PROXY`), the right-most address in `X-Forwarded-For` that is not itself a trusted
 * proxy. Only trusted hops are believed, so a client cannot choose its address by sending the header itself.
 * Loopback-only access decisions never use this: they look at the TCP peer alone.
 */
@Injectable()
export class ClientAddress {
  private readonly trusted: BlockList;
  private readonly any: boolean;

  constructor(@Inject(gatewayConfig.KEY) cfg: ConfigType<typeof gatewayConfig>) {
    this.trusted = trustedProxies(cfg.trustProxy);
    this.any = cfg.trustProxy.length > 0;
  }

  /** Whether `address` is a trusted proxy (Express's `trust proxy` callback). */
  trusts(address: string): boolean {
    return this.any && isTrusted(this.trusted, plainAddress(address));
  }

  of(req: IncomingMessage): string {
    let address = plainAddress(req.socket.remoteAddress ?? 'unknown');
    if (!this.any || !isTrusted(this.trusted, address)) return address;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((hop) => hopAddress(hop.trim()))
      .filter((hop) => hop.length > 0);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (isIP(hop) === 0) return address;
      address = hop;
      if (!isTrusted(this.trusted, hop)) return hop;
    }
    return address;
  }
}
