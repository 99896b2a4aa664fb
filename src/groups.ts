import type { ResourceState } from './types.js';

/**
 * The state of a group, from its members' states:
 *
 * - `failed`: a member is failed with no restart coming (its restart policy gave up, or is
 *   `'none'`): someone has to act (the unit to fail over).
 * - `pending`: otherwise, a member is on its way (online-pending, offline-pending, waiting for
 *   its dependencies to come online or its dependents to go offline, or failed with a restart
 *   coming).
 * - `online`: every member is online.
 * - `offline`: every member is offline.
 * - `partial`: some members online, the others offline.
 */
export type GroupState = 'online' | 'partial' | 'offline' | 'pending' | 'failed';

/** A JSON-safe picture of one group, returned by `groupStatus()`. */
export interface GroupStatus {
  /** The group's name, as given to `addResource({ group })`. */
  name: string;
  /** Its state, from its members' (see {@link GroupState}). */
  state: GroupState;
  /** Its members, in the order they were added. */
  resources: string[];
}

/** What the group state needs of a member. */
export interface GroupMember {
  readonly state: ResourceState;
  /** Failed, and a restart (or the failure's terminate that decides on one) is coming. */
  readonly awaitingRestart: boolean;
  /** The monitor is bringing it online or taking it offline (its dependencies' or dependents' phase included). */
  readonly busy: boolean;
}

/** How one member counts towards its group's state. */
export type MemberCategory = 'online' | 'offline' | 'pending' | 'failed';

/** The category of one member (see {@link GroupState}). */
export function categoryOf(m: GroupMember): MemberCategory {
  if (m.state === 'failed') return m.awaitingRestart ? 'pending' : 'failed';
  if (m.busy) return 'pending';
  if (m.state === 'online') return 'online';
  if (m.state === 'offline') return 'offline';
  return 'pending';
}

/** The state of a group whose members are `members` (see {@link GroupState}). */
export function groupStateOf(members: Iterable<GroupMember>): GroupState {
  const counts = { online: 0, offline: 0, pending: 0, failed: 0 };
  for (const m of members) counts[categoryOf(m)]++;
  return fromCounts(counts);
}

function fromCounts(c: Record<MemberCategory, number>): GroupState {
  if (c.failed > 0) return 'failed';
  if (c.pending > 0) return 'pending';
  if (c.offline === 0) return 'online';
  if (c.online === 0) return 'offline';
  return 'partial';
}

interface Book {
  counts: Record<MemberCategory, number>;
  state: GroupState;
}

/**
 * Every group's state, kept up to date member by member: a change costs O(1) whatever the
 * group's size, and says when the group's state changed (for `groupStateChange`).
 */
export class GroupStates {
  private readonly groups = new Map<string, Book>();
  private readonly members = new Map<string, MemberCategory>();

  /** Records the member's category; returns the group's previous state when that changed, else null. */
  update(group: string, member: string, category: MemberCategory): GroupState | null {
    let book = this.groups.get(group);
    if (!book) this.groups.set(group, (book = { counts: { online: 0, offline: 0, pending: 0, failed: 0 }, state: 'offline' }));
    const before = this.members.get(member);
    if (before === category) return null;
    if (before !== undefined) book.counts[before]--;
    book.counts[category]++;
    this.members.set(member, category);
    const fresh = before === undefined && book.counts.online + book.counts.offline + book.counts.pending + book.counts.failed === 1;
    const from = book.state;
    book.state = fromCounts(book.counts);
    return fresh || from === book.state ? null : from;
  }

  /** The member left its group; returns the previous state when the group's state changed. */
  remove(group: string, member: string): GroupState | null {
    const book = this.groups.get(group);
    const before = this.members.get(member);
    this.members.delete(member);
    if (!book || before === undefined) return null;
    book.counts[before]--;
    if (book.counts.online + book.counts.offline + book.counts.pending + book.counts.failed === 0) {
      this.groups.delete(group);
      return null;
    }
    const from = book.state;
    book.state = fromCounts(book.counts);
    return from === book.state ? null : from;
  }

  /** The group's state (offline for a group never seen). */
  stateOf(group: string): GroupState {
    return this.groups.get(group)?.state ?? 'offline';
  }
}
