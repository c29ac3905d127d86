/** The part of better-sqlite3's API the benchmarks use (it ships no types of its own). */
declare module 'better-sqlite3' {
  interface Statement {
    run(...params: unknown[]): { changes: number };
  }
  class Database {
    constructor(path: string);
    pragma(source: string): unknown;
    exec(source: string): this;
    prepare(source: string): Statement;
    transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
    close(): void;
  }
  export default Database;
}
