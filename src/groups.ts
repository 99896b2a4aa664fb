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

/** The state of a group whose members are `members` (see {@link GroupState}). */
export function groupStateOf(members: Iterable<GroupMember>): GroupState {
  let online = 0;
  let offline = 0;
  let pending = false;
  let failed = false;
  for (const m of members) {
    if (m.busy && m.state !== 'failed') {
      pending = true;
      continue;
    }
    switch (m.state) {
      case 'online':
        online++;
        break;
      case 'offline':
        offline++;
        break;
      case 'failed':
        if (m.awaitingRestart) pending = true;
        else failed = true;
        break;
      default:
        pending = true;
    }
  }
  if (failed) return 'failed';
  if (pending) return 'pending';
  if (offline === 0) return 'online';
  if (online === 0) return 'offline';
  return 'partial';
}

/**
 * The last state of each group, so the monitor emits `groupStateChange` only when it changes.
 */
export class GroupStates {
  private readonly last = new Map<string, GroupState>();

  /** Records `state` for `group`; returns the previous state when it changed, else null. */
  update(group: string, state: GroupState): GroupState | null {
    const from = this.last.get(group);
    this.last.set(group, state);
    if (from === undefined || from === state) return null;
    return from;
  }

  /** The group has no members left. */
  forget(group: string): void {
    this.last.delete(group);
  }
}
