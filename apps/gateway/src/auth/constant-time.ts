import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 digest of a secret, for constant-time comparison whatever the lengths. */
export function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** True when `candidate` equals the secret whose digest is `expected`, in time independent of the content. */
export function matchesDigest(candidate: string, expected: Buffer): boolean {
  return sameDigest(digestOf(candidate), expected);
}

/** True when two SHA-256 digests are equal, compared in constant time. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}
