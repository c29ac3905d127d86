/**
 * Alert rules on seats and credits, and the pure engine that checks them (no store, no clock).
 *
 * A rule watches one figure: the share of seats of a type in use, or the credits left. It
 * *raises* once when the figure crosses its threshold and stays raised until the figure has moved
 * back past the threshold by the rule's hysteresis, when it *clears* and re-arms. So a count
 * wobbling around 80 % gives one alert, not one per seat. `AlertMonitor` (alerts.ts) runs the
 * engine over a store.
 */
import { LicenseError } from '../errors.js';
import { checkId, type JsonObject } from '../store/store.js';

/** What a rule watches. */
export type AlertMetric = 'seats' | 'credits';

/**
 * One alert rule. Give exactly one of `usedPercentAtLeast` and `remainingAtMost`.
 *
 * @example
 * ```ts
 * const rules: AlertRule[] = [
 *   { id: 'basic-80', metric: 'seats', type: 'basic', usedPercentAtLeast: 80 },
 *   { id: 'credits-low', metric: 'credits', remainingAtMost: 100, topUp: { credits: 1000 } },
 * ]
 * ```
 */
export interface AlertRule {
  /** Stable name (part of the idempotency key of top-up requests). */
  readonly id: string;
  /** Watch seats in use (`seats`) or credits left (`credits`). */
  readonly metric: AlertMetric;
  /** Seat type for `seats` rules (default: every type together). */
  readonly type?: string;
  /** Raise when `used / total * 100 >= this`. */
  readonly usedPercentAtLeast?: number;
  /** Raise when `remaining <= this` (credits left, or seats available). */
  readonly remainingAtMost?: number;
  /**
   * How far back the figure must go before the rule clears: percentage points for
   * `usedPercentAtLeast` (default 5), a count for `remainingAtMost` (default 10 % of the
   * threshold, at least 1).
   */
  readonly hysteresis?: number;
  /** Ask for more through the top-up hook when this rule raises; the object is passed to the hook. */
  readonly topUp?: JsonObject;
}

/** Figures to check rules against: seats per type, and credits. Omitted metrics leave their rules unchanged. */
export interface AlertObservation {
  /** Per seat type: seats in use and seats licensed (see {@link seatsObservation}). */
  readonly seats?: Readonly<
    Record<
      string,
      {
        /** Seats of the type in use now. */
        readonly inUse: number;
        /** Seats of the type licensed. */
        readonly licensed: number;
      }
    >
  >;
  /** The credits balance (e.g. `CreditLedger.balance()`). */
  readonly credits?: {
    /** Credits left. */
    readonly remaining: number;
    /** Credits granted in all (used = `allowance - remaining`; the 100 % of `usedPercentAtLeast`). */
    readonly allowance: number;
  };
}

/** What one rule remembers. */
export interface RuleState {
  /** True from the crossing until the figure recovers past the hysteresis. */
  readonly raised: boolean;
  /** How many times it has raised (1 for the first crossing). */
  readonly crossings: number;
}

/** A rule raised or cleared. */
export interface AlertEvent {
  /** The rule crossed its threshold (`raised`) or recovered (`cleared`). */
  readonly kind: 'raised' | 'cleared';
  /** The rule's id. */
  readonly rule: string;
  /** The rule's metric. */
  readonly metric: AlertMetric;
  /** The rule's seat type (absent: every type together, or a credits rule). */
  readonly type?: string;
  /** The threshold crossed and its unit. */
  readonly threshold: number;
  /** `percent-used` for `usedPercentAtLeast` rules, `remaining` for `remainingAtMost` rules. */
  readonly unit: 'percent-used' | 'remaining';
  /** The figure that crossed it (percent used, or remaining). */
  readonly value: number;
  /** The rule's crossing number (the same for its `raised` and matching `cleared`). */
  readonly crossing: number;
}

/** Check a list of rules: ids unique and non-empty, exactly one threshold each, sane numbers. Throws `ERR_USAGE`. */
export function checkRules(rules: readonly AlertRule[]): void {
  const seen = new Set<string>();
  for (const r of rules) {
    checkId(r.id, 'alert rule id');
    if (seen.has(r.id)) throw new LicenseError('ERR_USAGE', `two alert rules are named "${r.id}"; give each its own id`);
    seen.add(r.id);
    if (r.metric !== 'seats' && r.metric !== 'credits') throw new LicenseError('ERR_USAGE', `alert rule "${r.id}": metric must be "seats" or "credits"`);
    const p = r.usedPercentAtLeast;
    const n = r.remainingAtMost;
    if ((p === undefined) === (n === undefined)) throw new LicenseError('ERR_USAGE', `alert rule "${r.id}": give exactly one of usedPercentAtLeast and remainingAtMost`);
    if (p !== undefined && !(Number.isFinite(p) && p > 0 && p <= 100)) throw new LicenseError('ERR_USAGE', `alert rule "${r.id}": usedPercentAtLeast must be in (0, 100]`);
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) throw new LicenseError('ERR_USAGE', `alert rule "${r.id}": remainingAtMost must be a whole number >= 0`);
    if (r.hysteresis !== undefined && !(Number.isFinite(r.hysteresis) && r.hysteresis >= 0)) throw new LicenseError('ERR_USAGE', `alert rule "${r.id}": hysteresis must be >= 0`);
    if (r.type !== undefined) checkId(r.type, 'seat type');
  }
}

/** The rule's figures from an observation, or undefined when the observation lacks them. */
function figures(rule: AlertRule, o: AlertObservation): { used: number; total: number; remaining: number } | undefined {
  if (rule.metric === 'credits') {
    if (o.credits === undefined) return undefined;
    const { remaining, allowance } = o.credits;
    return { used: Math.max(0, allowance - remaining), total: allowance, remaining };
  }
  if (o.seats === undefined) return undefined;
  let inUse = 0;
  let licensed = 0;
  if (rule.type !== undefined) {
    if (!Object.hasOwn(o.seats, rule.type)) return undefined;
    const s = o.seats[rule.type] as { inUse: number; licensed: number };
    inUse = s.inUse;
    licensed = s.licensed;
  } else {
    for (const s of Object.values(o.seats)) {
      inUse += s.inUse;
      licensed += s.licensed;
    }
  }
  return { used: inUse, total: licensed, remaining: Math.max(0, licensed - inUse) };
}

/**
 * The pure rule engine: the new state of every rule and the events to emit.
 *
 * @example
 * ```ts
 * let state = {}
 * const r = evaluateAlerts(rules, state, { seats: { basic: { inUse: 8, licensed: 10 } } })
 * state = r.state // r.events: [{ kind: 'raised', rule: 'basic-80', value: 80, ... }]
 * ```
 */
export function evaluateAlerts(
  rules: readonly AlertRule[],
  state: Readonly<Record<string, RuleState>>,
  observation: AlertObservation,
): {
  /** The new state of every rule, by id (rules without figures keep their old state). */
  state: Record<string, RuleState>;
  /** Rules raised or cleared by this observation, in rule order. */
  events: AlertEvent[];
} {
  const next: Record<string, RuleState> = {};
  const events: AlertEvent[] = [];
  for (const rule of rules) {
    const prev = Object.hasOwn(state, rule.id) ? (state[rule.id] as RuleState) : { raised: false, crossings: 0 };
    next[rule.id] = prev;
    const f = figures(rule, observation);
    if (f === undefined) continue;
    let crossed: boolean;
    let recovered: boolean;
    let value: number;
    let threshold: number;
    let unit: AlertEvent['unit'];
    if (rule.usedPercentAtLeast !== undefined) {
      threshold = rule.usedPercentAtLeast;
      unit = 'percent-used';
      // Nothing licensed while something is used counts as 100 %; nothing at all as 0 %.
      value = f.total > 0 ? (f.used / f.total) * 100 : f.used > 0 ? 100 : 0;
      crossed = value >= threshold;
      recovered = value < threshold - (rule.hysteresis ?? 5);
    } else {
      threshold = rule.remainingAtMost as number;
      unit = 'remaining';
      value = f.remaining;
      crossed = value <= threshold;
      recovered = value > threshold + (rule.hysteresis ?? Math.max(1, Math.ceil(threshold * 0.1)));
    }
    const base = { rule: rule.id, metric: rule.metric, ...(rule.type === undefined ? {} : { type: rule.type }), threshold, unit, value };
    if (!prev.raised && crossed) {
      next[rule.id] = { raised: true, crossings: prev.crossings + 1 };
      events.push({ kind: 'raised', ...base, crossing: prev.crossings + 1 });
    } else if (prev.raised && recovered) {
      next[rule.id] = { raised: false, crossings: prev.crossings };
      events.push({ kind: 'cleared', ...base, crossing: prev.crossings });
    }
  }
  return { state: next, events };
}

/**
 * The seats part of an {@link AlertObservation} from `SeatManager.usage()`.
 *
 * @example
 * ```ts
 * await monitor.check({ seats: seatsObservation(await seats.usage()) })
 * ```
 */
export function seatsObservation(usage: readonly { readonly type: string; readonly inUse: number; readonly licensed: number }[]): Record<
  string,
  {
    /** Seats of the type in use. */
    inUse: number;
    /** Seats of the type licensed. */
    licensed: number;
  }
> {
  const out: Record<string, { inUse: number; licensed: number }> = {};
  // defineProperty: a seat type may be named "__proto__".
  for (const u of usage) Object.defineProperty(out, u.type, { value: { inUse: u.inUse, licensed: u.licensed }, enumerable: true, writable: true, configurable: true });
  return out;
}
