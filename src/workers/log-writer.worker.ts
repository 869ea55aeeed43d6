/**
 * Log writer: the worker thread that writes one broker's log directory.
 *
 * Start-up data: { logDir, appends: ChannelHandle, acks: ChannelHandle, log: MessagePort, logLevel }.
 * In  (appends channel): APPEND frames (a partition id and one offset-assigned RecordBatch) and
 *     CONTROL frames (a request id and a JSON LogWriterCommand: open, flush, retention, close).
 * Out (acks channel): PROGRESS frames (per partition: offsets below writtenEndOffset are in the
 *     OS, below durableEndOffset fsynced), REPLY frames answering CONTROL frames, and DATA frames
 *     answering `read` commands with the batches read (this thread owns the logs, so reads are
 *     served here too).
 *     Log lines go to the log port.
 * The loop: take the frames that have arrived (up to LOG_WRITER_STEP_BYTES, read in place in
 *     the ring), write each partition's batches with one writev, fsync where the flush policy
 *     says (group commit), give the ring space back, report progress once per step, and sleep in
 *     Atomics.wait when there is nothing to do, at most until the next flush.ms deadline. Its file
 *     I/O is synchronous on purpose: this thread does nothing else.
 * Shutdown: the `close` command writes what is queued, fsyncs, checkpoints, leaves the
 *     clean-shutdown marker, answers, and ends the loop. A failure ends the worker (its owner
 *     restarts it, and recovery at open repairs the log).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { LOG_WRITER_STEP_BYTES, LogWriter, type LogWriterCommand, type Progress } from '../actors/log-writer.js';
import { ChannelReader, ChannelWriter, type ChannelHandle } from '../shared/channel.js';
import { errorToWire } from '../shared/errors.js';
import { LogWriterFrame, LogWriterOp } from '../shared/layout.js';
import { createWorkerLogger } from '../shared/logger.js';

interface LogWriterWorkerData {
  logDir: string;
  appends: ChannelHandle;
  acks: ChannelHandle;
  log: MessagePort;
  logLevel: string;
}

/** Longest sleep with nothing to do; a bound, not a poll: frames wake the loop at once. */
const IDLE_SLICE_MS = 1_000;
const ACK_WRITE_TIMEOUT_MS = 30_000;

const data = workerData as LogWriterWorkerData;
const logger = createWorkerLogger(data.log, data.logLevel, { actor: 'log-writer', logDir: data.logDir });
const inbox = new ChannelReader(data.appends);
const acks = new ChannelWriter(data.acks);
const writer = new LogWriter(data.logDir, logger);
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();
const head = new Uint8Array(LogWriterFrame.PROGRESS_BYTES);
const headView = new DataView(head.buffer);
let closing = false;

function sendProgress(progress: Progress[]): void {
  if (progress.length === 0) return;
  acks.cork();
  for (const p of progress) {
    head[LogWriterFrame.OP_OFFSET] = LogWriterOp.PROGRESS;
    headView.setUint32(LogWriterFrame.ID_OFFSET, p.partitionId, true);
    headView.setFloat64(LogWriterFrame.PROGRESS_WRITTEN_OFFSET, p.writtenEndOffset, true);
    headView.setFloat64(LogWriterFrame.PROGRESS_DURABLE_OFFSET, p.durableEndOffset, true);
    acks.writeSync(head, ACK_WRITE_TIMEOUT_MS);
  }
  acks.uncork();
}

function reply(op: typeof LogWriterOp.REPLY | typeof LogWriterOp.DATA, requestId: number, body: Uint8Array): void {
  const replyHead = new Uint8Array(LogWriterFrame.CONTROL_HEADER_BYTES);
  replyHead[LogWriterFrame.OP_OFFSET] = op;
  new DataView(replyHead.buffer).setUint32(LogWriterFrame.ID_OFFSET, requestId, true);
  acks.writeSync2(replyHead, body, ACK_WRITE_TIMEOUT_MS);
}

function replyJson(requestId: number, body: unknown): void {
  reply(LogWriterOp.REPLY, requestId, textEncoder.encode(JSON.stringify(body)));
}

/** The little-endian uint32 at `at` (no DataView per frame: this runs once per batch). */
function uint32At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function onFrame(bytes: Uint8Array, offset: number, length: number): void {
  const op = bytes[offset + LogWriterFrame.OP_OFFSET];
  const id = uint32At(bytes, offset + LogWriterFrame.ID_OFFSET);
  if (op === LogWriterOp.APPEND) {
    // A view into the channel's ring: it stays valid until release(), after the write.
    const start = offset + LogWriterFrame.APPEND_HEADER_BYTES;
    writer.append(id, Buffer.from(bytes.buffer, bytes.byteOffset + start, length - LogWriterFrame.APPEND_HEADER_BYTES));
    return;
  }
  if (op !== LogWriterOp.CONTROL) throw new Error(`log writer: unknown frame op ${op}`);
  // Commands apply in order with the appends around them: write what came before first.
  sendProgress(writer.commit());
  const command = JSON.parse(textDecoder.decode(bytes.subarray(offset + LogWriterFrame.CONTROL_HEADER_BYTES, offset + length))) as LogWriterCommand;
  try {
    const result = writer.command(command);
    if (result instanceof Uint8Array) reply(LogWriterOp.DATA, id, result);
    else replyJson(id, { ok: true, result });
    if (command.type === 'close') closing = true;
  } catch (error) {
    logger.error({ err: error, command: command.type }, 'log writer command failed');
    replyJson(id, { ok: false, error: errorToWire(error) });
  }
}

logger.info({ cleanShutdown: writer.cleanShutdown }, 'log writer started');
while (!closing) {
  const frames = inbox.pollInPlace(onFrame, LOG_WRITER_STEP_BYTES);
  if (closing) break;
  const nowMs = Date.now();
  writer.write(nowMs);
  inbox.release(); // the bytes are in the OS now
  // Progress after every step (up to LOG_WRITER_STEP_BYTES), not per batch: acks=1 answers wait
  // for it, so holding it back while busy (tried: up to 5 ms) cut a pipelining producer's rate.
  sendProgress(writer.progress());
  if (frames === 0 && inbox.waitSync(writer.msUntilNextFlush(nowMs, IDLE_SLICE_MS)) === 'closed') {
    // The broker went away without a close command: keep what was written, but no clean marker.
    sendProgress(writer.commit());
    break;
  }
}
acks.close();
logger.info('log writer stopped');
