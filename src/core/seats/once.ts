/**
 * Idempotency keys for seat and activation operations: a retry after an error (or a lost answer)
 * with the same key gets the first attempt's result instead of acting twice. The key and the result
 * are stored in the same transaction as the operation, so either both are committed or neither is;
 * after a failed commit, a retry with the key tells for certain whether the first attempt counted.
 */
import { isPrintableText } from '../codec/text.js';
import { LicenseError } from '../errors.js';
import type { JsonObject, JsonValue, StoreTx } from '../store/store.js';

/** Record kind holding one entry per idempotency key: the operation, its arguments and its result. */
export const IDEMPOTENCY_KIND = 'idempotency';

/** How a result is kept in the store and read back. */
export interface ResultCodec<T> {
  encode(value: T): JsonValue;
  decode(json: JsonValue): T;
}

/**
 * Run `run` once per `key` within `tx`: without a key it simply runs; with a key seen before for
 * the same operation and arguments, the stored result is returned and nothing runs; the same key
 * with another operation or other arguments is `ERR_IDEMPOTENCY_CONFLICT` (it names a different change).
 */
export async function once<T>(tx: StoreTx, key: string | undefined, op: string, args: JsonObject, codec: ResultCodec<T>, run: () => Promise<T>): Promise<T> {
  if (key === undefined) return run();
  if (!isPrintableText(key, 128)) throw new LicenseError('ERR_USAGE', 'an idempotency key is 1 to 128 printable characters');
  const prior = await tx.get(IDEMPOTENCY_KIND, key);
  if (prior !== undefined) {
    if (prior.op !== op || JSON.stringify(prior.args) !== JSON.stringify(args)) {
      throw new LicenseError('ERR_IDEMPOTENCY_CONFLICT', `the idempotency key "${key}" was already used for ${String(prior.op)} ${JSON.stringify(prior.args)}; use a new key for a different change`, { idempotencyKey: key, op: String(prior.op) });
    }
    return codec.decode(prior.result ?? null);
  }
  const value = await run();
  tx.put(IDEMPOTENCY_KIND, key, { op, args, result: codec.encode(value) });
  return value;
}
