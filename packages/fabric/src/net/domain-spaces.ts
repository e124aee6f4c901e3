import { AddressSpace, type PhysicalMemory, type RemoteAddressSpace } from '@tsmpi/vm';
import { BroadcastChannel } from 'node:worker_threads';
import type { DomainAnnouncement } from './rank-wire.js';

/** How long the network thread waits for a domain's announcement before it calls the domain unknown. */
const ANNOUNCE_WAIT_MS = 5000;

/** Thrown by a frame's handler before it changed anything: the frame waits for this domain's announcement. */
export class AwaitAnnouncement extends Error {
  constructor(readonly domainId: number) {
    super(`domain ${domainId} has not announced its page table yet`);
  }
}

/**
 * The network thread's view of its ranks' page tables, by domain id: what the responder needs to
 * take an ODP network page fault on a region of this node (and the initiator's half, to fault in
 * the target of an RDMA read). Rank threads announce their domains on a BroadcastChannel as they
 * open them (RankWire.opened). An announcement is an event-loop message, so a frame that needs a
 * domain not heard of yet waits for it (the wire holds its connection's later frames behind it).
 */
export class DomainSpaces {
  private readonly byDomain = new Map<number, RemoteAddressSpace>();
  private readonly channel: BroadcastChannel;
  private waiters: Array<{ domainId: number; resolve: () => void }> = [];

  constructor(name: string, private readonly memory: PhysicalMemory) {
    this.channel = new BroadcastChannel(name);
    this.channel.unref();
    this.channel.onmessage = (m: unknown) => {
      const a = (m as { data: DomainAnnouncement }).data;
      // A reused domain slot announces its new page table; the newest wins.
      this.byDomain.set(a.domainId, AddressSpace.remote(this.memory, a.space as Parameters<typeof AddressSpace.remote>[1]));
      const ready = this.waiters.filter((w) => w.domainId === a.domainId);
      this.waiters = this.waiters.filter((w) => w.domainId !== a.domainId);
      for (const w of ready) w.resolve();
    };
  }

  /** The page table of domain `id`; throws AwaitAnnouncement when no rank of this node announced it yet. */
  get(id: number): RemoteAddressSpace {
    const s = this.byDomain.get(id);
    if (s === undefined) throw new AwaitAnnouncement(id);
    return s;
  }

  /** Resolves when domain `id` is announced; rejects after ANNOUNCE_WAIT_MS. */
  announced(id: number): Promise<void> {
    if (this.byDomain.has(id)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`domain ${id} never announced its page table to the network thread within ${ANNOUNCE_WAIT_MS} ms ` +
          '(open every domain of this node with { wire: NetworkWire.attach(...) })'));
      }, ANNOUNCE_WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ domainId: id, resolve: done });
    });
  }

  close(): void {
    this.channel.close();
  }
}
