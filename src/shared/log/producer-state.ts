/**
 * Producer state of one partition, as Kafka's ProducerStateManager keeps it for idempotent
 * producers: for every producer id its current epoch and the metadata of its last 5 batches
 * (ProducerStateEntry.NUM_BATCHES_TO_RETAIN). The broker checks each produced batch against it
 * (check), then records the batch once offsets are assigned (update); the log writer records the
 * batches it writes, to snapshot them, and recovery replays batch headers into it.
 *
 * The sequence rules are Kafka's (ProducerAppendInfo.checkProducerEpoch / checkSequence, client
 * origin, no transactions):
 *   - an epoch below the known one is fenced: INVALID_PRODUCER_EPOCH, which is what Kafka's broker
 *     answers on Produce since 2.7 (PRODUCER_FENCED is for the transaction coordinator's APIs);
 *   - the same epoch, first and last sequence as a cached batch is a duplicate;
 *   - the same epoch continues at last sequence + 1 (Int32 max wraps to 0);
 *   - a higher epoch starts at sequence 0;
 *   - a producer id this partition does not know is accepted at any sequence. Kafka answered
 *     UNKNOWN_PRODUCER_ID here from 0.11 to 2.4; since KIP-360 (2.5) it accepts, because state is
 *     legitimately lost (producer.id.expiration.ms, DeleteRecords, a recreated topic) and the
 *     producer cannot tell that from a real gap. Only Kafka's transactions v2 path refuses a
 *     non-zero first sequence there, with OUT_OF_ORDER_SEQUENCE_NUMBER.
 *   - anything else is OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
import { ErrorCodes } from '../protocol/error-codes.js';
import {
  asBuffer, peekBaseOffset, peekBaseSequence, peekIsControl, peekLastOffsetDelta, peekMaxTimestamp, peekProducerEpoch, peekProducerId,
} from '../record-batch/header.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: why max.in.flight.requests.per.connection <= 5. */
export const BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fff_ffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** One producer's state; plain data, so that it crosses threads as JSON. */
export interface ProducerEntry {
  producerId: number;
  epoch: number;
  /** Oldest first, at most BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
}

/** What a batch of an idempotent producer does to the log. */
export type SequenceVerdict =
  | { kind: 'append' }
  | { kind: 'duplicate'; original: BatchMetadata }
  | { kind: 'refuse'; errorCode: number; errorMessage: string };

const APPEND: SequenceVerdict = Object.freeze({ kind: 'append' });

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Int32 max to 0, never negative. */
export function incrementSequence(sequence: number, increment: number): number {
  return sequence > INT32_MAX - increment ? increment - (INT32_MAX - sequence) - 1 : sequence + increment;
}

/** Kafka's DefaultRecordBatch.decrementSequence, the inverse of incrementSequence. */
export function decrementSequence(sequence: number, decrement: number): number {
  return sequence < decrement ? INT32_MAX - (decrement - sequence) + 1 : sequence - decrement;
}

/** A batch's metadata from its header fields; the last sequence is the base sequence + lastOffsetDelta, wrapping. */
export function batchMetadata(baseOffset: number, lastOffsetDelta: number, baseSequence: number, maxTimestamp: number): BatchMetadata {
  return {
    firstSeq: baseSequence,
    lastSeq: incrementSequence(baseSequence, lastOffsetDelta),
    firstOffset: baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    maxTimestamp,
  };
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class ProducerStateManager {
  readonly #producers = new Map<number, ProducerEntry>();

  constructor(entries: readonly ProducerEntry[] = []) {
    for (const entry of entries) this.#producers.set(entry.producerId, { producerId: entry.producerId, epoch: entry.epoch, batches: [...entry.batches] });
  }

  get size(): number {
    return this.#producers.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.#producers.get(producerId);
  }

  /** Every producer's state, for a snapshot or to hand to another thread. */
  entries(): ProducerEntry[] {
    return [...this.#producers.values()];
  }

  /** What to do with a batch of `producerId` at `epoch` carrying sequences firstSeq..lastSeq. Changes nothing. */
  check(producerId: number, epoch: number, firstSeq: number, lastSeq: number): SequenceVerdict {
    const entry = this.#producers.get(producerId);
    if (entry === undefined) return APPEND;
    if (epoch < entry.epoch) {
      return refuse(ErrorCodes.INVALID_PRODUCER_EPOCH, `producer ${producerId} has epoch ${epoch}, older than the current ${entry.epoch}: fenced`);
    }
    if (epoch > entry.epoch) {
      return firstSeq === 0 ? APPEND : refuse(ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `producer ${producerId} starts its new epoch ${epoch} at sequence ${firstSeq}, not 0`);
    }
    for (const batch of entry.batches) {
      if (batch.firstSeq === firstSeq && batch.lastSeq === lastSeq) return { kind: 'duplicate', original: batch };
    }
    const lastSeqSoFar = entry.batches.at(-1)?.lastSeq ?? -1;
    return inSequence(lastSeqSoFar, firstSeq) ? APPEND : refuse(ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER,
      `producer ${producerId} epoch ${epoch} sent sequence ${firstSeq}, expected ${incrementSequence(lastSeqSoFar, 1)}`);
  }

  /**
   * Records an appended batch: a new epoch starts the producer's batches afresh, and only the last
   * BATCHES_TO_RETAIN are kept. Validation is check()'s job; batches replayed from the log are taken as written.
   */
  update(producerId: number, epoch: number, batch: BatchMetadata): void {
    let entry = this.#producers.get(producerId);
    if (entry === undefined) {
      entry = { producerId, epoch, batches: [] };
      this.#producers.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.batches.push(batch);
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
  }
}

/**
 * Records a batch that is in the log, from its header (`bytes` holds at least the fixed header),
 * taken as written, as Kafka replays its log. Batches without a producer id and control batches
 * (transaction markers, which ringlog does not write) leave the state alone.
 */
export function replayBatch(state: ProducerStateManager, bytes: Uint8Array): void {
  const producerId = peekProducerId(bytes);
  if (producerId < 0) return;
  const header = asBuffer(bytes);
  if (peekIsControl(header)) return;
  const metadata = batchMetadata(peekBaseOffset(header), peekLastOffsetDelta(header), peekBaseSequence(header), peekMaxTimestamp(header));
  state.update(producerId, peekProducerEpoch(header), metadata);
}

function refuse(errorCode: number, errorMessage: string): SequenceVerdict {
  return { kind: 'refuse', errorCode, errorMessage };
}
