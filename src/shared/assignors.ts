/**
 * Kafka's partition assignors, run by the group leader (client-side, as in Kafka's classic
 * protocol): range and roundrobin (eager: every member gives up everything before a rebalance)
 * and cooperative-sticky (partitions stay with their owner where balance allows; one that must
 * move is left out for a generation so its owner can revoke it first — KIP-429).
 *
 * Pure functions over member subscriptions and partition counts; deterministic for the same
 * input (members sorted by id), so a test can predict them.
 */
import type { AssignorName } from './consumer-config.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface MemberSubscription {
  memberId: string;
  topics: readonly string[];
  /** What the member holds now (cooperative-sticky reads it; the eager assignors ignore it). */
  ownedPartitions: readonly TopicPartition[];
  /** The generation the member owned them in (-1 unknown): the newer claim wins a conflict. */
  generationId: number;
}

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface Assignor {
  readonly name: AssignorName;
  readonly rebalanceProtocol: RebalanceProtocol;
  /** memberId → its partitions, for every member (possibly empty). */
  assign(partitionsPerTopic: ReadonlyMap<string, number>, members: readonly MemberSubscription[]): Map<string, TopicPartition[]>;
}

export const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

const byMemberId = (a: MemberSubscription, b: MemberSubscription): number => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);
const byTopicPartition = (a: TopicPartition, b: TopicPartition): number => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);

function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}

/** Kafka's RangeAssignor: per topic, consecutive ranges; the first P mod C members get one more. */
export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(partitionsPerTopic, members) {
    const result = emptyAssignment(members);
    for (const [topic, count] of [...partitionsPerTopic].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const consumers = members.filter((m) => m.topics.includes(topic)).sort(byMemberId);
      if (consumers.length === 0) continue;
      const perConsumer = Math.floor(count / consumers.length);
      const extra = count % consumers.length;
      consumers.forEach((member, i) => {
        const start = perConsumer * i + Math.min(i, extra);
        const length = perConsumer + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) result.get(member.memberId)!.push({ topic, partition: p });
      });
    }
    return result;
  },
};

/** Kafka's RoundRobinAssignor: every partition in order, dealt to the members in turn (skipping the unsubscribed). */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(partitionsPerTopic, members) {
    const result = emptyAssignment(members);
    const sorted = [...members].sort(byMemberId);
    if (sorted.length === 0) return result;
    let next = 0;
    for (const tp of allPartitions(partitionsPerTopic, members)) {
      for (let tried = 0; tried < sorted.length; tried++) {
        const member = sorted[next]!;
        next = (next + 1) % sorted.length;
        if (member.topics.includes(tp.topic)) {
          result.get(member.memberId)!.push(tp);
          break;
        }
      }
    }
    return result;
  },
};

/**
 * Kafka's CooperativeStickyAssignor, simplified: keep each member's valid owned partitions, deal
 * the rest to the least loaded eligible members, move partitions from the most to the least
 * loaded until counts differ by at most one where subscriptions allow, then hold back every
 * partition that changes owner (its owner revokes it; the follow-up rebalance hands it over).
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  assign(partitionsPerTopic, members) {
    const sorted = [...members].sort(byMemberId);
    const result = emptyAssignment(sorted);
    const owners = previousOwners(partitionsPerTopic, sorted);
    const owned = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));
    const unassigned: TopicPartition[] = [];
    for (const tp of allPartitions(partitionsPerTopic, sorted)) {
      const owner = owners.get(tpKey(tp.topic, tp.partition));
      if (owner !== undefined) owned.get(owner)!.push(tp);
      else unassigned.push(tp);
    }
    const eligible = (member: MemberSubscription, tp: TopicPartition): boolean => member.topics.includes(tp.topic);
    const load = (m: MemberSubscription): number => owned.get(m.memberId)!.length;
    for (const tp of unassigned) {
      let best: MemberSubscription | undefined;
      for (const m of sorted) if (eligible(m, tp) && (best === undefined || load(m) < load(best))) best = m;
      if (best !== undefined) owned.get(best.memberId)!.push(tp);
    }
    // Balance: move from the most loaded to a less loaded eligible member while that narrows the gap.
    for (let moves = 0; moves < 10_000; moves++) {
      let moved = false;
      const byLoad = [...sorted].sort((a, b) => load(b) - load(a) || byMemberId(a, b));
      outer: for (const from of byLoad) {
        for (const to of [...byLoad].reverse()) {
          if (load(from) - load(to) <= 1) break;
          const list = owned.get(from.memberId)!;
          for (let i = list.length - 1; i >= 0; i--) {
            if (!eligible(to, list[i]!)) continue;
            owned.get(to.memberId)!.push(list.splice(i, 1)[0]!);
            moved = true;
            break outer;
          }
        }
      }
      if (!moved) break;
    }
    for (const [memberId, list] of owned) {
      const kept = list.filter((tp) => {
        const previous = owners.get(tpKey(tp.topic, tp.partition));
        return previous === undefined || previous === memberId;
      });
      result.set(memberId, kept.sort(byTopicPartition));
    }
    return result;
  },
};

const ASSIGNORS: Readonly<Record<AssignorName, Assignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};

export function assignorFor(name: string): Assignor | undefined {
  return (ASSIGNORS as Record<string, Assignor | undefined>)[name];
}

/**
 * Kafka's rule: a consumer rebalances cooperatively only when every assignor it lists supports it;
 * a list mixing eager and cooperative ones (the default, range + cooperative-sticky) is eager.
 */
export function rebalanceProtocolOf(names: readonly AssignorName[]): RebalanceProtocol {
  return names.every((name) => ASSIGNORS[name].rebalanceProtocol === 'cooperative') ? 'cooperative' : 'eager';
}

function allPartitions(partitionsPerTopic: ReadonlyMap<string, number>, members: readonly MemberSubscription[]): TopicPartition[] {
  const subscribed = new Set(members.flatMap((m) => m.topics));
  const result: TopicPartition[] = [];
  for (const [topic, count] of partitionsPerTopic) {
    if (!subscribed.has(topic)) continue;
    for (let partition = 0; partition < count; partition++) result.push({ topic, partition });
  }
  return result.sort(byTopicPartition);
}

/** Who owns each partition now: claims on existing, subscribed partitions; the newest generation wins. */
function previousOwners(partitionsPerTopic: ReadonlyMap<string, number>, members: readonly MemberSubscription[]): Map<string, string> {
  const owners = new Map<string, { memberId: string; generationId: number }>();
  for (const member of members) {
    for (const tp of member.ownedPartitions) {
      if (!member.topics.includes(tp.topic) || tp.partition < 0 || tp.partition >= (partitionsPerTopic.get(tp.topic) ?? 0)) continue;
      const key = tpKey(tp.topic, tp.partition);
      const earlier = owners.get(key);
      if (earlier === undefined || member.generationId > earlier.generationId) owners.set(key, { memberId: member.memberId, generationId: member.generationId });
    }
  }
  return new Map([...owners].map(([key, owner]) => [key, owner.memberId]));
}
