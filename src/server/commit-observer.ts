/**
 * Being told, after a transaction commits, which audit event kinds it appended to which license.
 * The server's after-commit work hangs on this rather than on the code that made the change:
 * webhooks deliver the new events, alerts check the license's thresholds. Every exchange, admin
 * route, portal form and top-up writes through the same store, so none of them is missed and none
 * has to remember to call anything. The callback runs after the commit, synchronously: it must
 * only schedule work, never await it, so the answer to the request is not held up.
 */
import type { Store } from '../core/store/store.js';

/**
 * `store`, calling `onCommit(licenseId, kinds)` after every transaction that appended events,
 * with the kinds it appended. Everything else is `store`'s own (the result inherits from it), so
 * a store wrapped with `withAuditChain` stays one, and the audit log still verifies.
 */
export function observeCommits(store: Store, onCommit: (licenseId: string, kinds: ReadonlySet<string>) => void): Store {
  const wrapped = Object.create(store) as Store;
  wrapped.transaction = async (licenseId, fn, options) => {
    const kinds = new Set<string>();
    const value = await store.transaction(licenseId, (tx) =>
      fn(
        new Proxy(tx, {
          get(target, prop, receiver) {
            if (prop === 'append') {
              return (e: Parameters<typeof tx.append>[0]) => {
                kinds.add(e.kind);
                return target.append(e);
              };
            }
            const v = Reflect.get(target, prop, receiver) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }),
      ),
      options,
    );
    // A transaction retried by the store (an optimistic conflict) runs fn again: the kinds are
    // those of every run, a superset of what committed, which at worst schedules one check too many.
    if (kinds.size > 0) onCommit(licenseId, kinds);
    return value;
  };
  return wrapped;
}
