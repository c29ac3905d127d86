/**
 * The automatic side of alerts: {@link AlertMonitor} runs the pure rule engine (alert-rules.ts)
 * over a store. Rule state lives in a store record updated in one transaction with the `alert.*`
 * audit events, so across processes and servers each crossing raises exactly once, and the top-up
 * hook is called for it by exactly one of them, with an idempotency key, retried with back-off on
 * failure, never more than once at a time.
 */
import { checkId, type JsonObject, type Store } from '../store/store.js';
import { toClock, type Clock } from '../time/clock.js';
import { adminEvent } from './events.js';
import { checkRules, evaluateAlerts, type AlertEvent, type AlertObservation, type AlertRule, type RuleState } from './alert-rules.js';

export { checkRules, evaluateAlerts, seatsObservation, type AlertEvent, type AlertMetric, type AlertObservation, type AlertRule, type RuleState } from './alert-rules.js';

/** What the top-up hook receives. */
export interface TopUpRequest {
  /** The license that needs more. */
  readonly licenseId: string;
  /** Id of the rule that raised. */
  readonly rule: string;
  /** The rule's `topUp` object (e.g. `{ credits: 1000 }` or `{ type: 'basic', seats: 5 }`). */
  readonly want: JsonObject;
  /** The alert that asked. */
  readonly alert: AlertEvent;
  /**
   * `licenseId:rule:crossing`: the same for every retry of one crossing. Send it to the vendor's
   * server so that a retry after a lost answer does not add twice.
   */
  readonly idempotencyKey: string;
  /** 1 for the first try. */
  readonly attempt: number;
}

/** The hook: ask for more (e.g. POST to the vendor's server). Resolve on success (optionally with what was granted), reject to retry later. */
export type TopUpHook = (request: TopUpRequest) => Promise<JsonObject | void>;

/** Options of {@link AlertMonitor}. */
export interface AlertMonitorOptions {
  /** The rules to check (ids unique; see {@link checkRules}). */
  readonly rules: readonly AlertRule[];
  /** Called for rules with `topUp` when they raise. */
  readonly topUp?: TopUpHook;
  /** The clock (`() => ms`, default `Date.now`). */
  readonly now?: Clock;
  /** First retry delay after a failed top-up (default 60 000 ms), doubled per failure up to `maxRetryMs`. */
  readonly retryMs?: number;
  /** Longest retry delay (default 3 600 000 ms). */
  readonly maxRetryMs?: number;
  /** Give up on one crossing after this many failed tries (default 8): an `topup.failed` event with `final: true`. */
  readonly maxAttempts?: number;
  /** How long a process may hold a top-up call before another may try it (default 120 000 ms). */
  readonly claimMs?: number;
  /** Actor of the audit events (default `"system"`). */
  readonly actor?: string;
  /**
   * Extra details for the audit events the monitor writes (e.g. who is to be told of them, which
   * webhooks then deliver): called with the event's kind and details, its fields are added to
   * the details (never replacing one the monitor wrote).
   */
  readonly annotate?: ((kind: MonitorEventKind, details: JsonObject) => JsonObject | undefined) | undefined;
}

/** The audit events {@link AlertMonitor} writes. */
export type MonitorEventKind = 'alert.raised' | 'alert.cleared' | 'topup.requested' | 'topup.completed' | 'topup.failed';

/** A pending top-up as stored. */
interface PendingTopUp extends JsonObject {
  key: string;
  rule: string;
  crossing: number;
  attempts: number;
  nextAt: number;
  claimedUntil: number;
  alert: JsonObject;
}

interface MonitorState extends JsonObject {
  rules: Record<string, JsonObject>;
  pending: PendingTopUp[];
}

const KIND = 'admin';
const KEY = 'alerts';

/** The result of one {@link AlertMonitor.check}. */
export interface AlertCheck {
  /** Alerts raised or cleared by this check (in this process: another process may see others). */
  readonly events: AlertEvent[];
  /** Top-up calls this check made, and how they ended. */
  readonly topUps: {
    /** The request's idempotency key (`licenseId:rule:crossing`). */
    readonly idempotencyKey: string;
    /** Which try this was (1 for the first). */
    readonly attempt: number;
    /** The hook resolved. */
    readonly ok: boolean;
    /** The hook's error message when it rejected (it is retried later unless attempts ran out). */
    readonly error?: string;
  }[];
}

/**
 * Alerts and automatic top-ups of one license over a store.
 *
 * @example
 * ```ts
 * const monitor = new AlertMonitor(store, license.id, {
 *   rules: [{ id: 'credits-low', metric: 'credits', remainingAtMost: 100, topUp: { credits: 1000 } }],
 *   topUp: async (req) => { await fetch(VENDOR_URL, { method: 'POST', headers: { 'idempotency-key': req.idempotencyKey }, body: JSON.stringify(req.want) }) },
 * })
 * monitor.on((e) => notifyAdmins(e))
 * ledger.on('threshold', async () => monitor.check({ credits: await ledger.balance() }))
 * ```
 */
export class AlertMonitor {
  private readonly rules: readonly AlertRule[];
  private readonly listeners = new Set<(e: AlertEvent) => void>();
  private readonly now: Clock;

  constructor(
    private readonly store: Store,
    /** The license whose alerts this monitor keeps. */
    readonly licenseId: string,
    private readonly options: AlertMonitorOptions,
  ) {
    checkId(licenseId, 'license id');
    checkRules(options.rules);
    this.rules = [...options.rules];
    this.now = toClock(options.now);
  }

  /** Listen to alerts raised and cleared by this monitor's checks. Returns a function that stops listening. */
  on(listener: (e: AlertEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The stored state of every rule and the top-ups still pending. */
  async state(): Promise<{
    /** Stored state per rule id (rules never checked are absent). */
    rules: Record<string, RuleState>;
    /** Number of top-up requests waiting to be made or retried. */
    pending: number;
  }> {
    const s = await this.store.read(this.licenseId, (r) => r.get(KIND, KEY));
    const st = parseState(s);
    return { rules: st.rules as unknown as Record<string, RuleState>, pending: st.pending.length };
  }

  /**
   * Check the rules against new figures: record crossings (once, across every process), tell the
   * listeners, and call the top-up hook for raised rules with `topUp` and for retries that are due.
   * Hook failures are recorded and retried on a later check; they never reject this call.
   */
  async check(observation: AlertObservation = {}): Promise<AlertCheck> {
    const now = this.now();
    const actor = this.options.actor ?? 'system';
    const { events, claimed } = await this.store.transaction(this.licenseId, async (tx) => {
      const st = parseState(await tx.get(KIND, KEY));
      const r = evaluateAlerts(this.rules, st.rules as unknown as Record<string, RuleState>, observation);
      let pending = st.pending;
      for (const e of r.events) {
        tx.append(this.event(now, actor, e.kind === 'raised' ? 'alert.raised' : 'alert.cleared', alertJson(e)));
        const rule = this.rules.find((x) => x.id === e.rule);
        if (e.kind === 'raised' && rule?.topUp !== undefined && this.options.topUp !== undefined) {
          const key = `${this.licenseId}:${e.rule}:${e.crossing}`;
          if (!pending.some((p) => p.key === key)) pending = [...pending, { key, rule: e.rule, crossing: e.crossing, attempts: 0, nextAt: now, claimedUntil: 0, alert: alertJson(e) }];
        }
        // A rule that recovered on its own (added by hand) needs no top-up any more.
        if (e.kind === 'cleared') pending = pending.filter((p) => p.rule !== e.rule);
      }
      const claimed: PendingTopUp[] = [];
      if (this.options.topUp !== undefined) {
        pending = pending.map((p) => {
          if (p.nextAt > now || p.claimedUntil > now || !this.rules.some((x) => x.id === p.rule)) return p;
          const c = { ...p, attempts: p.attempts + 1, claimedUntil: now + (this.options.claimMs ?? 120_000) };
          claimed.push(c);
          tx.append(this.event(now, actor, 'topup.requested', { key: c.key, rule: c.rule, attempt: c.attempts }));
          return c;
        });
      }
      const rules: Record<string, JsonObject> = {};
      for (const [id, s] of Object.entries(r.state)) rules[id] = { raised: s.raised, crossings: s.crossings };
      tx.put(KIND, KEY, { rules, pending } satisfies MonitorState);
      return { events: r.events, claimed };
    });
    for (const e of events) for (const l of this.listeners) l(e);
    const topUps: { idempotencyKey: string; attempt: number; ok: boolean; error?: string }[] = [];
    for (const c of claimed) topUps.push(await this.callHook(c, actor));
    return { events, topUps };
  }

  /** One audit event, with the `annotate` option's extra details. */
  private event(now: number, actor: string, kind: MonitorEventKind, details: JsonObject) {
    const extra = this.options.annotate?.(kind, details);
    return adminEvent(now, actor, kind, extra === undefined ? details : { ...extra, ...details });
  }

  /** Call the hook for one claimed top-up and record how it went. */
  private async callHook(c: PendingTopUp, actor: string): Promise<{ idempotencyKey: string; attempt: number; ok: boolean; error?: string }> {
    const rule = this.rules.find((x) => x.id === c.rule) as AlertRule;
    let granted: JsonObject | undefined;
    let error: string | undefined;
    try {
      const r = await (this.options.topUp as TopUpHook)({ licenseId: this.licenseId, rule: c.rule, want: rule.topUp ?? {}, alert: c.alert as unknown as AlertEvent, idempotencyKey: c.key, attempt: c.attempts });
      granted = r === undefined || r === null ? undefined : r;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const now = this.now();
    const maxAttempts = this.options.maxAttempts ?? 8;
    await this.store.transaction(this.licenseId, async (tx) => {
      const st = parseState(await tx.get(KIND, KEY));
      const i = st.pending.findIndex((p) => p.key === c.key);
      if (error === undefined) {
        if (i >= 0) st.pending.splice(i, 1);
        tx.append(this.event(now, actor, 'topup.completed', { key: c.key, rule: c.rule, attempt: c.attempts, ...(granted === undefined ? {} : { granted }) }));
      } else {
        const final = c.attempts >= maxAttempts;
        const delay = Math.min((this.options.retryMs ?? 60_000) * 2 ** (c.attempts - 1), this.options.maxRetryMs ?? 3_600_000);
        if (i >= 0) {
          if (final) st.pending.splice(i, 1);
          else st.pending[i] = { ...(st.pending[i] as PendingTopUp), nextAt: now + delay, claimedUntil: 0 };
        }
        tx.append(this.event(now, actor, 'topup.failed', { key: c.key, rule: c.rule, attempt: c.attempts, error: error.slice(0, 500), final, ...(final ? {} : { retryAt: new Date(now + delay).toISOString() }) }));
      }
      tx.put(KIND, KEY, st);
    });
    return { idempotencyKey: c.key, attempt: c.attempts, ok: error === undefined, ...(error === undefined ? {} : { error }) };
  }
}

function alertJson(e: AlertEvent): JsonObject {
  const o: JsonObject = { rule: e.rule, kind: e.kind, metric: e.metric, threshold: e.threshold, unit: e.unit, value: e.value, crossing: e.crossing };
  if (e.type !== undefined) o.type = e.type;
  return o;
}

/** The stored monitor state; anything malformed starts afresh (alerts may then fire again, never less). */
function parseState(v: JsonObject | undefined): MonitorState {
  const rules: Record<string, JsonObject> = {};
  const pending: PendingTopUp[] = [];
  if (v !== undefined && v.rules !== null && typeof v.rules === 'object' && !Array.isArray(v.rules)) {
    for (const [id, s] of Object.entries(v.rules)) {
      if (s !== null && typeof s === 'object' && !Array.isArray(s) && typeof s.raised === 'boolean' && Number.isSafeInteger(s.crossings)) rules[id] = { raised: s.raised, crossings: s.crossings as number };
    }
  }
  if (v !== undefined && Array.isArray(v.pending)) {
    for (const p of v.pending) {
      if (p !== null && typeof p === 'object' && !Array.isArray(p) && typeof p.key === 'string' && typeof p.rule === 'string' && typeof p.attempts === 'number' && typeof p.nextAt === 'number') pending.push(p as PendingTopUp);
    }
  }
  return { rules, pending };
}
