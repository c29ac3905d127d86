/**
 * FIFO turns with a timeout: the transactions of one log in this process run one at a time, in
 * the order they asked (see `DurableLog`).
 */
import { LicenseError } from '../../core/errors.js';

/** FIFO turns with a timeout. */
export class Turns {
  #busy = false;
  readonly #waiting: Array<() => void> = [];

  get idle(): boolean {
    return !this.#busy && this.#waiting.length === 0;
  }

  /**
   * Wait for this caller's turn; resolves with the function that ends it (calling it again does
   * nothing). Rejects with `ERR_STORE_UNAVAILABLE` after `timeoutMs` in the queue; `what` names the
   * log in that error.
   */
  enter(timeoutMs: number, what: string): Promise<() => void> {
    const leave = () => {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#busy = false;
    };
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(once(leave));
    }
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(once(leave));
      };
      const timer = setTimeout(() => {
        const i = this.#waiting.indexOf(wake);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(new LicenseError('ERR_STORE_UNAVAILABLE', `${what} is busy: earlier transactions of this process did not finish within ${timeoutMs} ms (a transaction that waits for another one of the same license never finishes)`, { timeoutMs }));
      }, timeoutMs);
      this.#waiting.push(wake);
    });
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}
