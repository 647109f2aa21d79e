/**
 * The "what is this?" texts. Short on purpose: one idea each, in words a first-time user of a
 * replicated log can follow, with the reason the mechanism exists.
 */
export type Term =
  | 'hwm'
  | 'leo'
  | 'lease'
  | 'epoch'
  | 'isr'
  | 'partition'
  | 'offset'
  | 'key'
  | 'failover'
  | 'gap'
  | 'leader';

export interface Explanation {
  title: string;
  body: string;
}

export const GLOSSARY: Record<Term, Explanation> = {
  hwm: {
    title: 'High-water mark (HWM)',
    body:
      'The offset up to which a partition is committed: every in-sync replica has those records. ' +
      'Consumers only ever see records below it, so nothing they read can be lost in a failover.',
  },
  leo: {
    title: 'Log end offset (LEO)',
    body:
      'The next offset a replica will write. A follower whose LEO trails the leader’s is still copying; ' +
      'the difference is its lag. The HWM is the smallest LEO among the in-sync replicas.',
  },
  lease: {
    title: 'Leader lease',
    body:
      'The leader holds a key in Redis that expires unless renewed every few seconds. If the leader dies or ' +
      'freezes, the lease runs out and only then may another broker take over — so there are never two leaders.',
  },
  epoch: {
    title: 'Leader epoch',
    body:
      'A number that goes up by one with every new leader. Followers refuse anything from an older epoch, so a ' +
      'frozen old leader that wakes up cannot write over the new leader’s records.',
  },
  isr: {
    title: 'In-sync replicas (ISR)',
    body:
      'The brokers that have every committed record. A write is acknowledged once all of them have it, and only ' +
      'one of them may become the next leader. A broker that falls behind leaves the set and rejoins after catching up.',
  },
  partition: {
    title: 'Partition',
    body:
      'A topic is split into partitions, each its own ordered log. Records with the same key always go to the same ' +
      'partition, so they stay in order relative to each other.',
  },
  offset: {
    title: 'Offset',
    body: 'The position of a record in its partition: 0, 1, 2, … with no gaps. It never changes once committed.',
  },
  key: {
    title: 'Key',
    body:
      'Optional. The key picks the partition (the same hash Kafka uses), so all records of one user or order land ' +
      'in one partition, in order. Without a key, records are spread over partitions.',
  },
  failover: {
    title: 'Failover',
    body:
      'When the leader is lost, its lease expires, an in-sync follower is elected with a higher epoch, and writes ' +
      'resume on it. Acknowledged records survive because every in-sync replica already had them.',
  },
  gap: {
    title: 'The gap',
    body:
      'The time without any committed record: from losing the leader to the new leader’s first commit. Most of it ' +
      'is waiting for the lease to expire — a shorter lease means a shorter gap but more Redis traffic.',
  },
  leader: {
    title: 'Leader and followers',
    body:
      'One broker, the leader, takes every write and sends it to the followers. Any broker can serve reads of ' +
      'committed records.',
  },
};
