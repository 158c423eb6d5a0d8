// delivery/: the delivery engine: tenant queues, rate limiter, retry policy, error
// classification and the proactive sender. May import ledgers/, storage/ and the root utilities.
import type {
  BroadcastRequest,
  BroadcastSummary,
  OptOutCheck,
  PersonalConversationOutcome,
  PersonalConversations,
  PersonRecipient,
  RecipientFailure,
  UnreachableReason,
} from './broadcastTypes';
import type { Clock } from '../clock';
import { defaultPageSize, type ConversationPage, type ConversationStore, type StoredConversation } from '../storage/conversationStore';
import { classifyDeliveryError, credentialsHint, type DeliveryFailure } from './deliveryError';
import type { Logger } from '../logger';
import type { SendActivity } from './proactiveSender';
import type { RateLimiter, WireSlot } from './rateLimiter';
import { SendSlots } from './sendSlots';
import { defaultBackoff, retryDelay, type BackoffOptions } from './retryPolicy';
import type { Settings } from '../settings';
import { TenantQueues, type PendingDelivery } from './tenantQueues';

export interface BroadcastDependencies {
  readonly store: ConversationStore;
  readonly send: SendActivity;
  /** Shared by every broadcast of the process, so together they stay within Teams' limits. */
  readonly rateLimiter: RateLimiter;
  /** Sends in flight at once, shared by every broadcast of the process; without it each run has `settings.concurrency` of its own. */
  readonly sendSlots?: SendSlots;
  readonly clock: Clock;
  /** `microsoftAppType` picks what a refusal of the bot's credentials tells to check (a password by default). */
  readonly settings: Pick<Settings, 'concurrency' | 'maxAttempts' | 'deadlineSeconds'> & Partial<Pick<Settings, 'microsoftAppType'>>;
  readonly logger: Logger;
  readonly tuning?: BroadcastTuning;
  /** Finds or opens the personal chats of `BroadcastRequest.people`; without it, people fail with `NoPersonalConversations`. */
  readonly personalConversations?: PersonalConversations;
}

export interface BroadcastTuning {
  /** References read from the store per page. */
  readonly pageSize?: number;
  /** Most recipients held in memory at once (queued, waiting to retry or being sent). */
  readonly maxBuffered?: number;
  /** Most entries kept in `BroadcastSummary.failures`. */
  readonly maxReportedFailures?: number;
  readonly backoff?: BackoffOptions;
  /** After the deadline, how long to keep paging through the store to count who was not attempted. */
  readonly countingBudgetMs?: number;
}

/** Sends one notification to every stored conversation that matches, within Teams' rate limits. */
export class BroadcastEngine {
  constructor(private readonly dependencies: BroadcastDependencies) {}

  broadcast(request: BroadcastRequest): Promise<BroadcastSummary> {
    return new BroadcastRun(this.dependencies, request).run();
  }
}

interface Counts {
  matched: number;
  sent: number;
  failed: number;
  pruned: number;
  retried: number;
  alreadySent: number;
  notAttempted: number;
  optedOut: number;
}

interface Halt {
  readonly reason: 'deadline' | 'stopped';
  readonly message: string;
}

/** Why the dispatcher's timer is cancelled (a plain value: cheaper than the default DOMException). */
const stopWaiting = 'changed';

/** References in the first page read (later pages are `pageSize`). */
const firstPageSize = 50;

/** Thrown from the wire gate when the request's turn comes after the run ended (deadline or stop): it is not sent. */
class RunEndedBeforeSendError extends Error {
  constructor() {
    super('The run ended before the request could be sent');
    this.name = 'RunEndedBeforeSendError';
  }
}

/** Wakes whoever waits on it; used to react to "something changed" without polling. */
class Signal {
  private waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * One broadcast: a reader pulls references page by page into per-tenant
 * queues (never more than `maxBuffered` at once), and a dispatcher starts a
 * send whenever a slot is free and some tenant's rate allows one.
 */
class BroadcastRun {
  private readonly counts: Counts = { matched: 0, sent: 0, failed: 0, pruned: 0, retried: 0, alreadySent: 0, notAttempted: 0, optedOut: 0 };
  private readonly failures: RecipientFailure[] = [];
  private readonly unreachable: Record<UnreachableReason, number> = { blocked: 0, notInstalled: 0, notFound: 0 };
  private chatsOpened = 0;
  private peopleTaken = 0;
  private readonly queues = new TenantQueues();
  private readonly changed = new Signal();
  private readonly spaceFreed = new Signal();
  private readonly startedAt: number;
  private readonly deadlineSeconds: number;
  private readonly deadlineAt: number;
  private readonly pageSize: number;
  private readonly maxBuffered: number;
  private readonly maxReportedFailures: number;
  private readonly backoff: BackoffOptions;
  private readonly countingBudgetMs: number;
  /** Recipients read and not yet finished: queued, being checked against the ledger, or in flight. */
  private buffered = 0;
  private inFlight = 0;
  private ledgerChecksInFlight = 0;
  private readerDone = false;
  private countsAreLowerBounds = false;
  private halt: Halt | undefined;
  private haltedAt = Number.POSITIVE_INFINITY;
  private readFailure: string | undefined;
  /** Cancels the deadline timer once the run halts or ends. */
  private readonly deadlineTimer = new AbortController();
  private readonly slots: SendSlots;
  private readonly wakeForSlot = (): void => this.changed.notify();

  constructor(
    private readonly deps: BroadcastDependencies,
    private readonly request: BroadcastRequest,
  ) {
    const tuning = deps.tuning ?? {};
    this.startedAt = deps.clock.now();
    this.deadlineSeconds = request.deadlineSeconds ?? deps.settings.deadlineSeconds;
    this.deadlineAt = this.startedAt + this.deadlineSeconds * 1_000;
    this.pageSize = tuning.pageSize ?? defaultPageSize;
    this.maxBuffered = tuning.maxBuffered ?? Math.max(2_000, 2 * this.pageSize);
    this.maxReportedFailures = tuning.maxReportedFailures ?? 100;
    this.backoff = tuning.backoff ?? defaultBackoff;
    this.countingBudgetMs = tuning.countingBudgetMs ?? 10_000;
    this.slots = deps.sendSlots ?? new SendSlots(deps.settings.concurrency);
  }

  async run(): Promise<BroadcastSummary> {
    const { signal } = this.request;
    const onAbort = (): void => this.stop(signal?.reason instanceof Error ? signal.reason.message : String(signal?.reason ?? 'aborted'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.startDeadlineTimer();
      const reading = this.readReferences();
      while (!this.isFinished()) {
        this.dispatchReady();
        if (this.isFinished()) break;
        await this.waitForChange();
      }
      await reading;
      return this.summarize();
    } finally {
      this.deadlineTimer.abort(stopWaiting);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private isFinished(): boolean {
    return this.readerDone && this.buffered === 0 && this.inFlight === 0;
  }

  // ---- reading --------------------------------------------------------------------------------

  /**
   * Reads a page ahead: when a page's references fit in the buffer without waiting, the next page is
   * requested as soon as it arrives, before they are queued, so the store's round trip overlaps the
   * queueing. What is held stays within `maxBuffered` plus one page, as without reading ahead.
   */
  private async readReferences(): Promise<void> {
    try {
      // A short first page: sending starts as soon as a few references are in, not after a whole page.
      let next: Promise<ConversationPage> | undefined = this.readPage(undefined, Math.min(this.pageSize, firstPageSize));
      while (next !== undefined) {
        const page: ConversationPage = await next;
        const more = page.continuationToken;
        const readAhead = more !== undefined && this.buffered + page.items.length <= this.maxBuffered;
        next = readAhead ? this.nextPage(more) : undefined;
        for (const conversation of page.items) await this.take(conversation);
        if (!readAhead && more !== undefined) next = this.nextPage(more);
      }
      await this.readPeople();
    } catch (error) {
      // What was read still gets sent; what was not cannot even be counted.
      this.readFailure = `could not read the conversation store, recipients after the first ${this.counts.matched} were not reached: ${errorMessage(error)}`;
      this.countsAreLowerBounds = true;
      this.deps.logger.error(`Broadcast ${this.request.id}: ${this.readFailure}`);
    } finally {
      this.readerDone = true;
      this.changed.notify();
    }
  }

  /** The request's people, after the stored conversations; each stands for their personal chat until it is found or opened. */
  private async readPeople(): Promise<void> {
    const { people } = this.request;
    if (people === undefined) return;
    for await (const person of people) {
      if (this.countingBudgetSpent()) return this.giveUpCounting();
      this.peopleTaken += 1;
      await this.take(personPlaceholder(person), person);
    }
  }

  /**
   * The page after `continuationToken`, or undefined when reading stops: once the run has ended,
   * reading on only counts who was not attempted, within a budget checked before every page
   * (pages the filter empties or slow pages also take time).
   */
  private nextPage(continuationToken: string): Promise<ConversationPage> | undefined {
    if (!this.countingBudgetSpent()) return this.readPage(continuationToken, this.pageSize);
    this.giveUpCounting();
    return undefined;
  }

  /** A page of the listing; a failure is seen when the page is awaited (not as an unhandled rejection meanwhile). */
  private readPage(continuationToken: string | undefined, pageSize: number): Promise<ConversationPage> {
    const page = this.deps.store.list({ filter: this.request.filter, continuationToken, pageSize });
    page.catch(() => undefined);
    return page;
  }

  private countingBudgetSpent(): boolean {
    return this.halt !== undefined && this.deps.clock.now() > this.haltedAt + this.countingBudgetMs;
  }

  /**
   * One matching reference from the store: skipped when its person opted out, else queued (or checked
   * against the ledger), or counted as not attempted once the run ended.
   */
  private async take(conversation: StoredConversation, person?: PersonRecipient): Promise<void> {
    this.counts.matched += 1;
    const { optOuts } = this.request;
    if (optOuts !== undefined && (await this.isOptedOut(optOuts, conversation))) {
      this.counts.optedOut += 1;
      return;
    }
    while (this.buffered >= this.maxBuffered && this.halt === undefined) await this.spaceFreed.wait();
    if (this.halt !== undefined) {
      this.counts.notAttempted += 1;
      return;
    }
    this.buffered += 1;
    if (this.request.ledger === undefined) this.enqueue(conversation, person);
    else await this.checkLedgerThenEnqueue(conversation, person);
  }

  /** Checked before the ledger: an opted-out person costs no ledger read and no buffer space. */
  private async isOptedOut(optOuts: OptOutCheck, conversation: StoredConversation): Promise<boolean> {
    if (this.halt !== undefined) return false;
    try {
      return await optOuts.isOptedOut(conversation);
    } catch (error) {
      // Sending without knowing could reach someone who asked not to be notified.
      this.stop(`the opt-out list could not be read, so nothing more was sent: ${errorMessage(error)}`);
      return false;
    }
  }

  private giveUpCounting(): void {
    this.countsAreLowerBounds = true;
    this.deps.logger.warn(
      `Broadcast ${this.request.id}: stopped counting the recipients left when the run ended; matched and notAttempted are lower bounds`,
    );
  }

  /** Checks run concurrently (bounded), so a retried request over many recipients is not one lookup at a time. */
  private async checkLedgerThenEnqueue(conversation: StoredConversation, person: PersonRecipient | undefined): Promise<void> {
    while (this.ledgerChecksInFlight >= this.deps.settings.concurrency) await this.spaceFreed.wait();
    this.ledgerChecksInFlight += 1;
    void this.checkLedger(conversation, person).finally(() => {
      this.ledgerChecksInFlight -= 1;
      this.spaceFreed.notify();
    });
  }

  private async checkLedger(conversation: StoredConversation, person: PersonRecipient | undefined): Promise<void> {
    let delivered = false;
    try {
      delivered = (await this.request.ledger?.wasDelivered(conversation)) ?? false;
    } catch (error) {
      // Sending without knowing could send twice, which the ledger exists to prevent.
      this.stop(`the delivery ledger could not be read, so nothing more was sent (a retry with the same id will not send twice): ${errorMessage(error)}`);
    }
    if (delivered) {
      this.counts.alreadySent += 1;
      this.release();
    } else if (this.halt !== undefined) {
      this.counts.notAttempted += 1;
      this.release();
    } else {
      this.enqueue(conversation, person);
    }
  }

  private enqueue(conversation: StoredConversation, person: PersonRecipient | undefined): void {
    this.queues.add({
      conversation,
      conversationKey: conversationKeyOf(conversation),
      attempts: 0,
      notBefore: Number.NEGATIVE_INFINITY,
      ...(person === undefined ? {} : { person, ledgerKey: conversation }),
    });
    this.changed.notify();
  }

  /** A recipient is finished: room for one more in the buffer. */
  private release(): void {
    this.buffered -= 1;
    this.spaceFreed.notify();
    this.changed.notify();
  }

  // ---- dispatching ----------------------------------------------------------------------------

  private dispatchReady(): void {
    if (this.halt === undefined && this.deps.clock.now() >= this.deadlineAt) this.haltAt({
      reason: 'deadline',
      message: `the deadline of ${this.deadlineSeconds} s was reached; recipients not attempted by then, or whose retry would come after it, are counted in notAttempted`,
    });
    if (this.halt === undefined) this.startReadySends();
    // A slot this run leaves free goes to the next run waiting for one.
    this.slots.wakeNext();
  }

  private startReadySends(): void {
    for (;;) {
      if (!this.slots.available()) return this.slots.waitForFree(this.wakeForSlot);
      const delivery = this.queues.takeReady(this.deps.clock.now(), this.deps.rateLimiter);
      if (delivery === undefined) return;
      this.startAttempt(delivery);
    }
  }

  private async waitForChange(): Promise<void> {
    // With no slot free only a finished send (a change, or a slot handed over) can start another: no need to look at every tenant.
    const canStartMore = this.halt === undefined && this.slots.available();
    const readyAt = canStartMore ? this.queues.nextReadyAt(this.deps.rateLimiter) : undefined;
    const changed = this.changed.wait();
    if (this.halt !== undefined) return changed;
    // Most wake-ups (a send finished, at the concurrency limit) need no timer of their own: the run's
    // one deadline timer signals a change when the deadline comes.
    if (readyAt === undefined || readyAt >= this.deadlineAt) return changed;
    const timer = new AbortController();
    await Promise.race([changed, this.deps.clock.sleep(readyAt - this.deps.clock.now(), timer.signal)]);
    timer.abort(stopWaiting); // with a reason: abort() alone builds a DOMException
  }

  /**
   * Wakes the dispatcher at the deadline; cancelled when the run halts or ends. (A change, not a promise every
   * wake-up races against: each race would leave a reaction on it until the deadline.)
   */
  private startDeadlineTimer(): void {
    if (!Number.isFinite(this.deadlineAt)) return;
    void this.deps.clock.sleep(this.deadlineAt - this.deps.clock.now(), this.deadlineTimer.signal).then(() => this.changed.notify());
  }

  private startAttempt(delivery: PendingDelivery): void {
    delivery.attempts += 1;
    if (delivery.attempts > 1) this.counts.retried += 1;
    this.inFlight += 1;
    this.slots.take();
    void this.attempt(delivery).finally(() => {
      this.inFlight -= 1;
      this.changed.notify();
      this.slots.release();
    });
  }

  private async attempt(delivery: PendingDelivery): Promise<void> {
    if (delivery.person !== undefined && !(await this.openPersonalChat(delivery, delivery.person))) return;
    let slot: WireSlot | undefined;
    const beforeWire = async (signal: AbortSignal): Promise<void> => {
      // A further request of the same attempt (an action of several, such as an edit's reminders): the one before was answered.
      if (slot !== undefined) this.deps.rateLimiter.answered(slot, false);
      slot = undefined;
      slot = await this.waitForWire(delivery, signal);
    };
    let activityId: string | undefined;
    try {
      const sent = await this.deps.send(delivery.conversation, this.request.activity, { beforeWire });
      activityId = typeof sent === 'string' ? sent : undefined;
    } catch (error) {
      if (error instanceof RunEndedBeforeSendError) return this.withdraw(delivery);
      const failure = classifyDeliveryError(error);
      // Only an answer from the channel tells the tenant's pace something (not a timeout or a network error).
      if (slot !== undefined && failure.status !== undefined) this.deps.rateLimiter.answered(slot, failure.status === 429);
      return this.handleFailure(delivery, failure);
    }
    if (slot !== undefined) this.deps.rateLimiter.answered(slot, false);
    await this.recordDelivered(delivery, activityId);
  }

  /**
   * Finds or opens the person's personal chat (a request to the connector goes through the wire
   * gate like a send); true when it is ready to be sent to. A refusal ends the recipient (counted by
   * its reason); a failure is handled like a send's, and the retry tries to open the chat again.
   */
  private async openPersonalChat(delivery: PendingDelivery, person: PersonRecipient): Promise<boolean> {
    const hook = this.deps.personalConversations;
    if (hook === undefined) {
      this.fail(delivery, { kind: 'permanent', code: 'NoPersonalConversations', message: 'this engine cannot open personal chats' });
      return false;
    }
    let slot: WireSlot | undefined;
    const beforeWire = async (signal: AbortSignal): Promise<void> => {
      slot = await this.waitForWire(delivery, signal);
    };
    let outcome: PersonalConversationOutcome;
    try {
      outcome = await hook.findOrCreate(person, { beforeWire });
    } catch (error) {
      if (error instanceof RunEndedBeforeSendError) {
        this.withdraw(delivery);
        return false;
      }
      const failure = classifyDeliveryError(error);
      if (slot !== undefined && failure.status !== undefined) this.deps.rateLimiter.answered(slot, failure.status === 429);
      // Nothing is stored for a chat that was never opened: nothing to prune.
      await this.handleFailure(delivery, failure.kind === 'gone' ? { ...failure, kind: 'permanent' } : failure);
      return false;
    }
    if (slot !== undefined) this.deps.rateLimiter.answered(slot, false);
    if (!outcome.ok) {
      this.unreachable[outcome.reason] += 1;
      const { reason, code, message } = outcome;
      this.fail(delivery, { kind: 'permanent', code, message, ...(outcome.status === undefined ? {} : { status: outcome.status }) }, false, reason);
      return false;
    }
    if (outcome.opened) this.chatsOpened += 1;
    delivery.conversation = outcome.conversation;
    delivery.conversationKey = conversationKeyOf(outcome.conversation);
    delete delivery.person;
    return true;
  }

  /**
   * The rate limiter's wire slot; a slot after the deadline or a stop means the request is not sent at all,
   * and neither is one whose attempt was given up meanwhile (`signal`): those leave the gate without taking a slot.
   */
  private async waitForWire(delivery: PendingDelivery, signal: AbortSignal | undefined): Promise<WireSlot | undefined> {
    const runEnded = (): boolean => this.halt !== undefined || this.deps.clock.now() >= this.deadlineAt;
    const slot = await this.deps.rateLimiter.waitForWireSlot(
      delivery.conversation.tenantId,
      delivery.conversationKey,
      () => runEnded() || signal?.aborted === true,
    );
    if (runEnded()) throw new RunEndedBeforeSendError();
    return slot;
  }

  /** Undoes the count of an attempt that never left: the recipient is not attempted, or failed on its last real attempt. */
  private withdraw(delivery: PendingDelivery): void {
    if (delivery.attempts > 1) this.counts.retried -= 1;
    delivery.attempts -= 1;
    if (delivery.attempts === 0 || delivery.lastFailure === undefined) {
      this.counts.notAttempted += 1;
      this.release();
    } else if (this.halt?.reason === 'stopped') {
      this.fail(delivery, delivery.lastFailure);
    } else {
      this.cutOffByDeadline(delivery, delivery.lastFailure);
    }
  }

  // ---- outcomes -------------------------------------------------------------------------------

  private async recordDelivered(delivery: PendingDelivery, activityId: string | undefined): Promise<void> {
    this.counts.sent += 1;
    try {
      // A person is recorded under their own key, with the chat that reached them (what a later edit, recall or reminder addresses).
      const chat = delivery.ledgerKey === undefined ? undefined : { conversationId: delivery.conversation.conversationId, serviceUrl: delivery.conversation.serviceUrl };
      await this.request.ledger?.recordDelivered(delivery.ledgerKey ?? delivery.conversation, activityId, chat);
    } catch (error) {
      // The message did arrive; only a retried request with the same id could now send it twice.
      this.deps.logger.warn(`Broadcast ${this.request.id}: delivered to ${describe(delivery.conversation)} but could not record it in the ledger: ${errorMessage(error)}`);
    }
    this.release();
  }

  private async handleFailure(delivery: PendingDelivery, failure: DeliveryFailure): Promise<void> {
    switch (failure.kind) {
      case 'retryable':
        return this.retryOrGiveUp(delivery, failure);
      case 'gone':
        return this.fail(delivery, failure, await this.prune(delivery.conversation));
      case 'credentials':
        this.stop(`${credentialsHint(this.deps.settings.microsoftAppType ?? 'MultiTenant')}. ${failure.status === undefined ? '' : `The channel answered ${failure.status} `}${failure.code}: ${failure.message}`);
        return this.fail(delivery, failure);
      case 'fatal':
        this.stop(failure.message);
        return this.fail(delivery, failure);
      case 'permanent':
        return this.fail(delivery, failure);
    }
  }

  private retryOrGiveUp(delivery: PendingDelivery, failure: DeliveryFailure & { readonly kind: 'retryable' }): void {
    if (delivery.attempts >= this.deps.settings.maxAttempts || this.halt?.reason === 'stopped') return this.fail(delivery, failure);
    if (this.halt?.reason === 'deadline') return this.cutOffByDeadline(delivery, failure);
    const notBefore = this.deps.clock.now() + retryDelay(delivery.attempts, failure.retryAfterMs, this.backoff);
    if (notBefore >= this.deadlineAt) return this.cutOffByDeadline(delivery, failure);
    delivery.notBefore = notBefore;
    delivery.lastFailure = failure;
    this.queues.addRetry(delivery);
    this.changed.notify();
  }

  /**
   * Deletes the reference of a conversation that is gone for good; returns whether it was deleted.
   * Not if the bot saved it again since it was read (reinstalled meanwhile).
   */
  private async prune(conversation: StoredConversation): Promise<boolean> {
    try {
      const deleted = await this.deps.store.delete(conversation, { notUpdatedAfter: conversation.updatedAt });
      if (!deleted) this.deps.logger.log(`Broadcast ${this.request.id}: kept the reference of ${describe(conversation)}: it was saved again meanwhile`);
      return deleted;
    } catch (error) {
      this.deps.logger.warn(`Broadcast ${this.request.id}: could not delete the reference of ${describe(conversation)}: ${errorMessage(error)}`);
      return false;
    }
  }

  private fail(delivery: PendingDelivery, failure: DeliveryFailure, pruned = false, reason?: UnreachableReason): void {
    this.counts.failed += 1;
    if (pruned) this.counts.pruned += 1;
    const { channelId, conversationId } = delivery.conversation;
    const personKey = delivery.ledgerKey === undefined ? undefined : delivery.conversation.aadObjectId || delivery.ledgerKey.aadObjectId;
    const recipientFailure: RecipientFailure = {
      channelId,
      conversationId,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      code: failure.code,
      message: failure.message,
      attempts: delivery.attempts,
      pruned,
      ...(personKey === undefined || personKey === '' ? {} : { aadObjectId: personKey }),
      ...(reason === undefined ? {} : { reason }),
    };
    if (this.failures.length < this.maxReportedFailures) this.failures.push(recipientFailure);
    this.deps.logger.warn(
      `Broadcast ${this.request.id}: not delivered to ${describe(delivery.conversation)} after ${delivery.attempts} attempt(s): ` +
        `${failure.status ?? '-'} ${failure.code}: ${failure.message}${pruned ? ' (reference deleted)' : ''}`,
    );
    this.release();
  }

  /**
   * A recipient whose retry the deadline cut off was not reached, and a retry of the request
   * with the same id would reach them: counted in notAttempted (not failed), like the ones never tried.
   */
  private cutOffByDeadline(delivery: PendingDelivery, lastFailure: DeliveryFailure): void {
    this.counts.notAttempted += 1;
    this.deps.logger.warn(
      `Broadcast ${this.request.id}: not reached before the deadline: ${describe(delivery.conversation)}, its retry would come after it ` +
        `(${delivery.attempts} attempt(s), last error ${lastFailure.status ?? '-'} ${lastFailure.code}: ${lastFailure.message}); counted in notAttempted`,
    );
    this.release();
  }

  /** Stops the whole run: nothing new is sent, the rest is counted as not attempted. */
  private stop(message: string): void {
    if (this.halt === undefined) this.haltAt({ reason: 'stopped', message });
  }

  private haltAt(halt: Halt): void {
    this.halt = halt;
    this.haltedAt = this.deps.clock.now();
    this.deadlineTimer.abort(stopWaiting);
    const { fresh, retries } = this.queues.drain();
    this.counts.notAttempted += fresh.length;
    for (let i = 0; i < fresh.length; i++) this.release();
    for (const delivery of retries) {
      const last: DeliveryFailure = delivery.lastFailure ?? { kind: 'retryable', code: 'Unknown', message: 'no error recorded' };
      if (halt.reason === 'deadline') this.cutOffByDeadline(delivery, last);
      else this.fail(delivery, last);
    }
    this.deps.logger.error(`Broadcast ${this.request.id}: ${halt.reason === 'stopped' ? 'stopped early: ' : ''}${halt.message}`);
    this.changed.notify();
    this.spaceFreed.notify();
  }

  private summarize(): BroadcastSummary {
    const summary: BroadcastSummary = {
      id: this.request.id,
      ...this.counts,
      durationMs: Math.round(this.deps.clock.now() - this.startedAt),
      // The deadline is told by notAttempted > 0; stoppedEarly means the run was cut short for a reason to fix.
      ...(this.halt?.reason === 'stopped' ? { stoppedEarly: this.halt.message } : {}),
      ...(this.halt?.reason !== 'stopped' && this.readFailure !== undefined ? { stoppedEarly: this.readFailure } : {}),
      failures: this.failures,
      ...(this.peopleTaken > 0 ? { unreachable: { ...this.unreachable }, chatsOpened: this.chatsOpened } : {}),
    };
    const { matched, sent, failed, pruned, retried, alreadySent, notAttempted, optedOut, durationMs } = summary;
    this.deps.logger.log(
      `Broadcast ${summary.id}: matched ${matched}${this.countsAreLowerBounds ? '+' : ''}, sent ${sent}, failed ${failed} (pruned ${pruned}), ` +
        `retried ${retried}, alreadySent ${alreadySent}, notAttempted ${notAttempted}, optedOut ${optedOut}, ${durationMs} ms` +
        (summary.stoppedEarly !== undefined ? `, stopped early: ${summary.stoppedEarly}` : ''),
    );
    return summary;
  }
}

function conversationKeyOf(conversation: StoredConversation): string {
  return `${conversation.channelId}\u0000${conversation.conversationId}`;
}

/**
 * What stands for a person until their personal chat is found or opened: keyed by the person (the
 * ledger's key, so a person is recorded once whatever chat reached them), personal for the opt-outs.
 */
export function personPlaceholder(person: PersonRecipient): StoredConversation {
  return {
    channelId: person.channelId,
    conversationId: `person:${person.aadObjectId || person.memberId}`,
    tenantId: person.tenantId,
    serviceUrl: person.serviceUrl,
    userId: person.memberId,
    aadObjectId: person.aadObjectId,
    conversationType: 'personal',
    reference: {},
    updatedAt: new Date(0),
  };
}

function describe(conversation: StoredConversation): string {
  return `${conversation.channelId}/${conversation.conversationId} (tenant ${conversation.tenantId || '-'})`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
