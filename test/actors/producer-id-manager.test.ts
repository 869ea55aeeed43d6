import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRODUCER_ID_BLOCK_SIZE, PRODUCER_IDS_FILE, ProducerIdManager } from '../../src/actors/producer-id-manager.js';
import { CorruptRecordError } from '../../src/shared/errors.js';
import { ErrorCodes } from '../../src/shared/protocol/index.js';
import { useTempDirs } from '../shared/log/tmpdir.js';

const tempDir = useTempDirs();
const fresh = { transactionalId: null, producerId: -1n, producerEpoch: -1 };
const reinit = (producerId: bigint, producerEpoch: number) => ({ transactionalId: null, producerId, producerEpoch });

describe('producer id manager', () => {
  it('hands out distinct ids with epoch 0, recording each block before its first id goes out', () => {
    const dir = tempDir();
    const manager = new ProducerIdManager(dir);
    const ids = Array.from({ length: PRODUCER_ID_BLOCK_SIZE + 2 }, () => manager.initProducerId(5, fresh));
    expect(ids[0]).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: 0n, producerEpoch: 0 });
    expect(new Set(ids.map((a) => a.producerId)).size).toBe(ids.length);
    expect(readFileSync(join(dir, PRODUCER_IDS_FILE), 'utf8')).toBe(`0\n${2 * PRODUCER_ID_BLOCK_SIZE}\n0\n`);
    expect(readdirSync(dir)).toEqual([PRODUCER_IDS_FILE]); // the temporary file was renamed over it
  });

  it('never hands out an id again after a restart: the rest of the block in use is skipped', () => {
    const dir = tempDir();
    const first = new ProducerIdManager(dir);
    const before = [first.newProducerId(), first.newProducerId()];
    const second = new ProducerIdManager(dir);
    expect(before).toEqual([0, 1]);
    expect(second.newProducerId()).toBe(PRODUCER_ID_BLOCK_SIZE);
    expect(new ProducerIdManager(dir).newProducerId()).toBe(2 * PRODUCER_ID_BLOCK_SIZE);
  });

  it('bumps the epoch of a known producer, answers a retried bump with the same epoch, and fences any other', () => {
    const dir = tempDir();
    const manager = new ProducerIdManager(dir);
    const { producerId } = manager.initProducerId(5, fresh);
    expect(manager.initProducerId(3, reinit(producerId, 0))).toMatchObject({ errorCode: 0, producerId, producerEpoch: 1 });
    expect(manager.initProducerId(5, reinit(producerId, 1))).toMatchObject({ errorCode: 0, producerId, producerEpoch: 2 });
    // Epoch 1 is the one before the current: a retry whose answer was lost gets the current again.
    expect(manager.initProducerId(5, reinit(producerId, 1))).toMatchObject({ errorCode: 0, producerId, producerEpoch: 2 });
    expect(manager.initProducerId(5, reinit(producerId, 0))).toMatchObject({ errorCode: ErrorCodes.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1 });
    expect(manager.initProducerId(3, reinit(producerId, 0))).toMatchObject({ errorCode: ErrorCodes.INVALID_PRODUCER_EPOCH });
    // The epochs survive a restart.
    expect(new ProducerIdManager(dir).initProducerId(5, reinit(producerId, 2))).toMatchObject({ errorCode: 0, producerId, producerEpoch: 3 });
  });

  it('gives a new id for an id it never handed out, and for an exhausted epoch', () => {
    const dir = tempDir();
    const manager = new ProducerIdManager(dir);
    expect(manager.initProducerId(5, reinit(12_345n, 3))).toMatchObject({ errorCode: 0, producerId: 0n, producerEpoch: 0 });
    writeFileSync(join(dir, PRODUCER_IDS_FILE), '0\n1000\n1\n7 32766 32765\n');
    const restarted = new ProducerIdManager(dir);
    expect(restarted.initProducerId(5, reinit(7n, 32_766))).toMatchObject({ errorCode: 0, producerId: 1_000n, producerEpoch: 0 });
  });

  it('refuses transactional ids, and half a producer id/epoch pair', () => {
    const manager = new ProducerIdManager(tempDir());
    expect(manager.initProducerId(5, { transactionalId: 'txn-1' })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 });
    expect(manager.initProducerId(5, { transactionalId: '' })).toMatchObject({ errorCode: ErrorCodes.INVALID_REQUEST });
    expect(manager.initProducerId(5, { transactionalId: null, producerId: 4n, producerEpoch: -1 })).toMatchObject({ errorCode: ErrorCodes.INVALID_REQUEST });
    expect(manager.initProducerId(5, { transactionalId: null, producerId: -1n, producerEpoch: 0 })).toMatchObject({ errorCode: ErrorCodes.INVALID_REQUEST });
    expect(manager.initProducerId(0, { transactionalId: null })).toMatchObject({ errorCode: 0, producerId: 0n }); // v0-2 carry no id
  });

  it('refuses to guess from a damaged file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, PRODUCER_IDS_FILE), '0\nlots\n0\n');
    expect(() => new ProducerIdManager(dir).newProducerId()).toThrow(CorruptRecordError);
  });
});
