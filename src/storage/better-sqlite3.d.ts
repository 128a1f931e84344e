/** The small part of better-sqlite3's API the storage module uses (the package ships no types). */
declare module 'better-sqlite3' {
  export interface Statement {
    run(...parameters: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
    all(...parameters: unknown[]): unknown[];
    get(...parameters: unknown[]): unknown;
    iterate(...parameters: unknown[]): IterableIterator<unknown>;
    readonly reader: boolean;
  }
  export interface Database {
    prepare(sql: string): Statement;
    /** Wraps `fn` so that each call runs inside BEGIN ... COMMIT (ROLLBACK if it throws). */
    transaction<Arguments extends unknown[]>(fn: (...parameters: Arguments) => void): (...parameters: Arguments) => void;
    pragma(source: string, options?: { simple?: boolean }): unknown;
    exec(sql: string): Database;
    /** Loads a SQLite extension (sqlite-vec for the semantic cache). */
    loadExtension(path: string, entryPoint?: string): Database;
    close(): Database;
  }
  interface DatabaseConstructor {
    new (filename: string, options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number }): Database;
  }
  const Database: DatabaseConstructor;
  export default Database;
}
