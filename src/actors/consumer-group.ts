/**
 * ConsumerGroup: the main thread's half of a consumer's group membership (Kafka's
 * ConsumerCoordinator as poll() drives it). The heartbeat worker does the talking; this side
 * decides when to join and runs the rebalance listener at the right moments, inside poll():
 *
 * - eager protocol (range, roundrobin): before joining, commit (with auto-commit) and revoke every
 *   partition, so no partition is ever consumed by two members at once;
 * - cooperative protocol (cooperative-sticky): join keeping the partitions; after the assignment,
 *   revoke only those that moved away and join again so the group can hand them over;
 * - a lost membership (session expired, fenced, max.poll.interval.ms passed): onPartitionsLost,
 *   no commit (it would be refused), then join again.
 *
 * A join runs in the background across polls; poll() never waits on it longer than its timeout.
 * Main thread only.
 */
import { tpKey, type RebalanceProtocol, type TopicPartition } from '../shared/assignors.js';
import { IllegalStateError, KafkaApiError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { GroupEvent, JoinOutcome, SubscriptionSpec } from './consumer-protocol.js';
import type { HeartbeatLink } from './heartbeat-link.js';

/** What the consumer does for the group: its partitions, and giving them up or taking them on. */
export interface GroupHost {
  owned(): TopicPartition[];
  /** Commit with auto-commit, onPartitionsRevoked, then stop reading them. */
  revoke(partitions: TopicPartition[]): Promise<void>;
  /** onPartitionsLost, then stop reading them (no commit: the group would refuse it). */
  lose(partitions: TopicPartition[]): Promise<void>;
  /** Start reading them, then onPartitionsAssigned. */
  assign(partitions: TopicPartition[]): Promise<void>;
  /** Something happened: a waiting poll() should look. */
  wake(): void;
}

export class ConsumerGroup {
  readonly #link: HeartbeatLink;
  readonly #protocol: RebalanceProtocol;
  readonly #host: GroupHost;
  readonly #logger: Logger;
  generationId = -1;
  memberId = '';
  /** The topics of the subscription, a pattern resolved at the last join. */
  topics: string[] = [];
  /** Joins completed so far. */
  joins = 0;
  #events: GroupEvent[] = [];
  #needsJoin = false;
  #joining: Promise<void> | null = null;
  #outcome: JoinOutcome | null = null;
  #joinError: Error | null = null;
  #leaving = false;

  constructor(link: HeartbeatLink, protocol: RebalanceProtocol, host: GroupHost, logger: Logger) {
    this.#link = link;
    this.#protocol = protocol;
    this.#host = host;
    this.#logger = logger;
  }

  get protocol(): RebalanceProtocol {
    return this.#protocol;
  }

  /** Nothing for step() to do: no event, no finished join, no join wanted. */
  get idle(): boolean {
    return this.#events.length === 0 && this.#outcome === null && this.#joinError === null && (!this.#needsJoin || this.#joining !== null);
  }

  /** In the group with an assignment, no join under way or wanted. */
  get stable(): boolean {
    return this.generationId >= 0 && this.#joining === null && !this.#needsJoin && this.#events.length === 0;
  }

  onEvent(event: GroupEvent): void {
    this.#events.push(event);
    this.#host.wake();
  }

  /** The subscription changed, or poll() starts: join (again) at the next step. */
  requestJoin(): void {
    this.#needsJoin = true;
    this.#leaving = false;
  }

  /** One step: handle events and a finished join, then start a join if one is wanted. */
  async step(subscription: SubscriptionSpec): Promise<void> {
    for (const event of this.#events.splice(0)) {
      this.#logger.info({ event }, 'group event');
      if (event.type === 'lost') await this.#lost();
      this.#needsJoin = true;
    }
    if (this.#outcome !== null) {
      const outcome = this.#outcome;
      this.#outcome = null;
      if (!this.#leaving) await this.#apply(outcome);
    }
    if (this.#joinError !== null) {
      const error = this.#joinError;
      this.#joinError = null;
      if (error instanceof KafkaApiError && !error.retriable) throw error;
      if (!(error instanceof IllegalStateError) || !this.#leaving) this.#logger.warn({ err: error }, 'join failed; joining again');
      this.#needsJoin = !this.#leaving;
    }
    if (this.#needsJoin && this.#joining === null && !this.#leaving) {
      this.#needsJoin = false;
      if (this.#protocol === 'eager') {
        const owned = this.#host.owned();
        if (owned.length > 0) await this.#host.revoke(owned);
      }
      const owned = this.#protocol === 'cooperative' ? this.#host.owned() : [];
      this.#joining = this.#link.join(subscription, owned).then(
        (outcome) => { this.#outcome = outcome; },
        (error: Error) => { this.#joinError = error; },
      ).finally(() => {
        this.#joining = null;
        this.#host.wake();
      });
    }
  }

  /** Leaves the group now (LeaveGroup), so its partitions move without waiting for a session timeout. */
  async leave(reason: string, timeoutMs: number): Promise<void> {
    this.#leaving = true;
    this.#needsJoin = false;
    this.generationId = -1;
    this.memberId = '';
    await this.#link.leave(reason, timeoutMs);
  }

  async #apply(outcome: JoinOutcome): Promise<void> {
    this.generationId = outcome.generationId;
    this.memberId = outcome.memberId;
    this.topics = outcome.topics;
    this.joins++;
    const assigned = new Set(outcome.assigned.map((tp) => tpKey(tp.topic, tp.partition)));
    const owned = this.#host.owned();
    const ownedKeys = new Set(owned.map((tp) => tpKey(tp.topic, tp.partition)));
    const revoked = owned.filter((tp) => !assigned.has(tpKey(tp.topic, tp.partition)));
    const added = outcome.assigned.filter((tp) => !ownedKeys.has(tpKey(tp.topic, tp.partition)));
    if (revoked.length > 0) {
      await this.#host.revoke(revoked);
      // Cooperative: the partitions given up go to their new owner in a follow-up rebalance.
      if (this.#protocol === 'cooperative') this.#needsJoin = true;
    }
    await this.#host.assign(added);
  }

  async #lost(): Promise<void> {
    this.generationId = -1;
    this.memberId = '';
    const owned = this.#host.owned();
    if (owned.length > 0) await this.#host.lose(owned);
  }
}
