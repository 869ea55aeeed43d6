/**
 * ProducerIdManager: answers InitProducerId for idempotent producers. Like Kafka's
 * ProducerIdManager it hands out ids from blocks of PRODUCER_ID_BLOCK_SIZE and records a block as
 * taken, durably, before the first id of it goes out, so that no id is handed out twice, even
 * after a crash (the rest of a block in use at a crash is skipped). Lives in the broker worker.
 *
 * The file `producer-ids` in the log directory (written atomically: temporary file, fsync,
 * rename, directory fsync):
 *   line 1: version (0); line 2: the end of the last block taken; line 3: entry count; then one
 *   line per producer whose epoch InitProducerId has bumped: `producerId epoch previousEpoch`.
 *
 * Answers, by request:
 *   - transactionalId null, no producerId/epoch: a new producer id with epoch 0.
 *   - transactionalId null with producerId and producerEpoch (v3+), an id handed out here: the
 *     next epoch when producerEpoch is the current one; the current one again when producerEpoch
 *     is the one before it (a retry whose answer was lost, as Kafka's coordinator accepts); a new
 *     producer id when the epoch is exhausted (Kafka's isEpochExhausted, epoch >= 32766); anything
 *     else is fenced: PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before (KIP-588, as Kafka
 *     maps it for older clients). An id never handed out here gets a new id, as Kafka gives a
 *     producer without a transactional id. (Kafka itself ignores producerId/producerEpoch without
 *     a transactional id and always hands out a new id; ringlog bumps the epoch, which keeps the
 *     id and fences the producer's older epoch on every partition it writes again.)
 *   - producerId without producerEpoch or the reverse: INVALID_REQUEST, as Kafka answers.
 *   - transactionalId '': INVALID_REQUEST, as Kafka answers.
 *   - any other transactionalId: ringlog has no transactions. TRANSACTIONAL_ID_AUTHORIZATION_FAILED
 *     is the answer every client understands as "no transactions for you here": it is
 *     non-retriable and fatal in the Java client (TransactionalIdAuthorizationException, where an
 *     unknown code only yields "Unexpected error in InitProducerIdResponse"), in librdkafka and in
 *     KafkaJS, and it names the transactional id as the thing refused. The alternatives were
 *     worse: COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR are retriable, so a transactional
 *     producer would spin until its timeout; UNSUPPORTED_VERSION (what Kafka answered below
 *     inter.broker.protocol 0.11) invites clients to renegotiate versions; INVALID_REQUEST reads
 *     as a client bug.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptRecordError } from '../shared/errors.js';
import { writeFileAtomically } from '../shared/log/checkpoint.js';
import { ErrorCodes } from '../shared/protocol/index.js';

/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1_000;
export const PRODUCER_IDS_FILE = 'producer-ids';
const FILE_VERSION = 0;
/** Kafka's TransactionMetadata.isEpochExhausted: from this epoch on, a bump hands out a new id. */
const EXHAUSTED_EPOCH = 0x7fff - 1;
const NO_PRODUCER_ID = -1;
const NO_PRODUCER_EPOCH = -1;

/** The InitProducerId request fields this answers (the codec's body: int64 as bigint; v0-2 lack the last two). */
export type InitProducerIdRequest = {
  transactionalId?: string | null;
  producerId?: bigint;
  producerEpoch?: number;
};

/** The InitProducerId response body, as the codec encodes it. */
export type InitProducerIdResponse = {
  throttleTimeMs: number;
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
};

interface EpochState {
  epoch: number;
  previousEpoch: number;
}

export class ProducerIdManager {
  readonly #dir: string;
  #loaded = false;
  #nextId = 0;
  /** Ids below this may have been handed out: the durable high-water mark. */
  #blockEnd = 0;
  readonly #epochs = new Map<number, EpochState>();

  /** `dir` is the broker's log directory; the file is read at the first request. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** InitProducerId at `version`: see the module comment for the answers. */
  initProducerId(version: number, request: InitProducerIdRequest): InitProducerIdResponse {
    const transactionalId = request.transactionalId ?? null;
    if (transactionalId !== null) return answer(transactionalId === '' ? ErrorCodes.INVALID_REQUEST : ErrorCodes.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const producerId = Number(request.producerId ?? BigInt(NO_PRODUCER_ID));
    const epoch = request.producerEpoch ?? NO_PRODUCER_EPOCH;
    if (producerId === NO_PRODUCER_ID && epoch === NO_PRODUCER_EPOCH) return answer(ErrorCodes.NONE, this.newProducerId(), 0);
    if (producerId < 0 || epoch < 0) return answer(ErrorCodes.INVALID_REQUEST);
    this.#load();
    if (producerId >= this.#nextId) return answer(ErrorCodes.NONE, this.newProducerId(), 0);
    const current = this.#epochs.get(producerId) ?? { epoch: 0, previousEpoch: NO_PRODUCER_EPOCH };
    if (epoch === current.epoch) {
      if (current.epoch >= EXHAUSTED_EPOCH) return answer(ErrorCodes.NONE, this.newProducerId(), 0);
      this.#epochs.set(producerId, { epoch: current.epoch + 1, previousEpoch: current.epoch });
      this.#save();
      return answer(ErrorCodes.NONE, producerId, current.epoch + 1);
    }
    if (epoch === current.previousEpoch) return answer(ErrorCodes.NONE, producerId, current.epoch);
    return answer(version >= 4 ? ErrorCodes.PRODUCER_FENCED : ErrorCodes.INVALID_PRODUCER_EPOCH);
  }

  /** A producer id never handed out before; takes (durably) a new block when this one is used up. */
  newProducerId(): number {
    this.#load();
    if (this.#nextId >= this.#blockEnd) {
      this.#blockEnd = this.#nextId + PRODUCER_ID_BLOCK_SIZE;
      this.#save();
    }
    return this.#nextId++;
  }

  #load(): void {
    if (this.#loaded) return;
    const path = join(this.#dir, PRODUCER_IDS_FILE);
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      const fail = (why: string): never => { throw new CorruptRecordError(`${path}: ${why}`); };
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (lines[0] !== String(FILE_VERSION)) fail(`unknown version '${lines[0] ?? ''}'`);
      const blockEnd = Number(lines[1]);
      const count = Number(lines[2]);
      if (!Number.isSafeInteger(blockEnd) || blockEnd < 0) fail(`bad block end '${lines[1] ?? ''}'`);
      if (!Number.isSafeInteger(count) || count !== lines.length - 3) fail(`says ${lines[2] ?? ''} entries, has ${lines.length - 3}`);
      for (const line of lines.slice(3)) {
        const [producerId, epoch, previousEpoch] = line.trim().split(/\s+/).map(Number);
        if (!Number.isSafeInteger(producerId) || !Number.isSafeInteger(epoch) || !Number.isSafeInteger(previousEpoch)) fail(`bad line '${line}'`);
        this.#epochs.set(producerId!, { epoch: epoch!, previousEpoch: previousEpoch! });
      }
      // Whatever was left of the block in use when the broker stopped is skipped: it may have gone out.
      this.#blockEnd = blockEnd;
      this.#nextId = blockEnd;
    }
    this.#loaded = true;
  }

  #save(): void {
    const lines = [String(FILE_VERSION), String(this.#blockEnd), String(this.#epochs.size)];
    for (const [producerId, { epoch, previousEpoch }] of this.#epochs) lines.push(`${producerId} ${epoch} ${previousEpoch}`);
    writeFileAtomically(this.#dir, PRODUCER_IDS_FILE, `${lines.join('\n')}\n`);
  }
}

function answer(errorCode: number, producerId = NO_PRODUCER_ID, producerEpoch = NO_PRODUCER_EPOCH): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: BigInt(producerId), producerEpoch };
}
