import { describe, expect, it } from 'vitest';
import {
  BATCHES_TO_RETAIN, batchMetadata, decrementSequence, incrementSequence, ProducerStateManager, replayBatch,
} from '../../../src/shared/log/producer-state.js';
import { ErrorCodes } from '../../../src/shared/protocol/index.js';
import { RecordBatchBuilder } from '../../../src/shared/record-batch/builder.js';
import { setBaseOffset } from '../../../src/shared/record-batch/header.js';

const INT32_MAX = 0x7fff_ffff;
const T0 = 1_700_000_000_000;

/** Records a batch of `count` records at `firstSeq` as appended at `firstOffset`. */
function appended(state: ProducerStateManager, producerId: number, epoch: number, firstSeq: number, count: number, firstOffset: number): void {
  state.update(producerId, epoch, batchMetadata(firstOffset, count - 1, firstSeq, T0 + firstOffset));
}

describe('producer state', () => {
  it('wraps sequences from Int32 max to 0, as Kafka does', () => {
    expect(incrementSequence(5, 3)).toBe(8);
    expect(incrementSequence(INT32_MAX, 1)).toBe(0);
    expect(incrementSequence(INT32_MAX - 1, 4)).toBe(2);
    expect(decrementSequence(2, 4)).toBe(INT32_MAX - 1);
    expect(decrementSequence(8, 3)).toBe(5);
  });

  it('accepts a new producer at any sequence, then only the next sequence', () => {
    const state = new ProducerStateManager();
    expect(state.check(7, 0, 0, 4)).toEqual({ kind: 'append' });
    expect(state.check(8, 0, 42, 42)).toEqual({ kind: 'append' }); // Kafka >= 2.5: no UNKNOWN_PRODUCER_ID
    appended(state, 7, 0, 0, 5, 100);
    expect(state.check(7, 0, 5, 9)).toEqual({ kind: 'append' });
    expect(state.check(7, 0, 6, 9)).toMatchObject({ kind: 'refuse', errorCode: ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(state.check(7, 0, 4, 9)).toMatchObject({ kind: 'refuse', errorCode: ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('continues from Int32 max at sequence 0', () => {
    const state = new ProducerStateManager();
    appended(state, 1, 0, INT32_MAX - 2, 3, 0);
    expect(state.entry(1)!.batches[0]!.lastSeq).toBe(INT32_MAX);
    expect(state.check(1, 0, 0, 9)).toEqual({ kind: 'append' });
    expect(state.check(1, 0, -0x8000_0000, 9)).toMatchObject({ kind: 'refuse' }); // int32 wraps to 0, never to negative
  });

  it('finds duplicates among the last five batches of the current epoch only', () => {
    const state = new ProducerStateManager();
    for (let i = 0; i <= BATCHES_TO_RETAIN; i++) appended(state, 3, 2, i * 10, 10, 1_000 + i * 10);
    expect(state.entry(3)!.batches).toHaveLength(BATCHES_TO_RETAIN);
    // The oldest of six fell out of the cache: its retry is out of order, as in Kafka.
    expect(state.check(3, 2, 0, 9)).toMatchObject({ kind: 'refuse', errorCode: ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(state.check(3, 2, 10, 19)).toEqual({ kind: 'duplicate', original: { firstSeq: 10, lastSeq: 19, firstOffset: 1_010, lastOffset: 1_019, maxTimestamp: T0 + 1_010 } });
    expect(state.check(3, 2, 50, 59)).toMatchObject({ kind: 'duplicate', original: { firstOffset: 1_050 } });
    // Same first sequence, different last: not the same batch.
    expect(state.check(3, 2, 50, 55)).toMatchObject({ kind: 'refuse', errorCode: ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('fences an older epoch and starts a newer one at sequence 0 with a fresh cache', () => {
    const state = new ProducerStateManager();
    appended(state, 9, 4, 0, 3, 0);
    expect(state.check(9, 3, 3, 3)).toMatchObject({ kind: 'refuse', errorCode: ErrorCodes.INVALID_PRODUCER_EPOCH });
    expect(state.check(9, 5, 3, 3)).toMatchObject({ kind: 'refuse', errorCode: ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(state.check(9, 5, 0, 0)).toEqual({ kind: 'append' });
    appended(state, 9, 5, 0, 1, 3);
    expect(state.entry(9)).toEqual({ producerId: 9, epoch: 5, batches: [{ firstSeq: 0, lastSeq: 0, firstOffset: 3, lastOffset: 3, maxTimestamp: T0 + 3 }] });
    // The old epoch's batch is no duplicate any more: its epoch is fenced.
    expect(state.check(9, 4, 0, 2)).toMatchObject({ kind: 'refuse', errorCode: ErrorCodes.INVALID_PRODUCER_EPOCH });
  });

  it('replays a batch from its header, leaving batches without a producer id alone', () => {
    const state = new ProducerStateManager();
    const build = (options: { producerId?: number; producerEpoch?: number; baseSequence?: number }, count: number, baseOffset: number): Buffer => {
      const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(1_024), ...options });
      for (let i = 0; i < count; i++) builder.tryAppend({ timestamp: T0 + i, key: null, value: Buffer.from([i]) });
      const bytes = Buffer.from(builder.build());
      setBaseOffset(bytes, 0, baseOffset);
      return bytes;
    };
    replayBatch(state, build({}, 3, 0));
    expect(state.size).toBe(0);
    replayBatch(state, build({ producerId: 2 ** 40, producerEpoch: 1, baseSequence: 7 }, 4, 3));
    expect(state.entries()).toEqual([{ producerId: 2 ** 40, epoch: 1, batches: [{ firstSeq: 7, lastSeq: 10, firstOffset: 3, lastOffset: 6, maxTimestamp: T0 + 3 }] }]);
  });
});
