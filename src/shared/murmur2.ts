/**
 * Kafka's murmur2 (Utils.murmur2) and toPositive, so that keys land on the same partition as with
 * the Java client, KafkaJS's default partitioner and librdkafka's murmur2_random:
 * partition = toPositive(murmur2(keyBytes)) % numPartitions.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** murmur2 of the key bytes as Java computes it: a signed int32. */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = SEED ^ length;
  const blocksEnd = length & ~3;
  for (let i = 0; i < blocksEnd; i += 4) {
    // Little-endian block; Uint8Array bytes are already unsigned (Java needs `& 0xff`).
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // The tail cases fall through in Java: 3 takes all three bytes, 2 the first two, 1 the first.
  const rem = length & 3;
  if (rem === 3) h ^= bytes[blocksEnd + 2] << 16;
  if (rem >= 2) h ^= bytes[blocksEnd + 1] << 8;
  if (rem >= 1) {
    h ^= bytes[blocksEnd];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Clears the sign bit (Kafka's Utils.toPositive; not Math.abs, so -2^31 becomes 0). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}
