/**
 * Preloaded into a server child (`node --import ./test/support/pause-after-sql.mjs bin/sabatili.js serve`)
 * by the crash tests, to hold the process still at a chosen point so the parent's `kill -9` lands
 * exactly there. Nothing in src/ knows about it.
 *
 * With SABATILI_PAUSE_AFTER_SQL set to a regular expression (case-insensitive), the first statement
 * whose SQL matches it runs normally; then the process prints one line to stderr
 *
 *     PAUSE <the SQL, first 80 characters on one line>
 *
 * and blocks its only thread for SABATILI_PAUSE_MS (default 5 000) with Atomics.wait: no timer,
 * no I/O, no other statement runs meanwhile, as if the next step (the operator's answer, the
 * session's commit) were slow. The parent kills it on that line. Only the first match pauses.
 *
 * Statements are matched when prepared (better-sqlite3's Database#prepare), which covers
 * `db.prepare(...).run()` and statements used inside `db.transaction(...)`. A pause inside a
 * transaction holds it open: the kill then rolls it back, which is a crash point too.
 */
import Database from 'better-sqlite3';

const source = process.env.SABATILI_PAUSE_AFTER_SQL;
if (source) {
  const pattern = new RegExp(source, 'i');
  const ms = Number(process.env.SABATILI_PAUSE_MS ?? 5000);
  let done = false;
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function patchedPrepare(sql, ...rest) {
    const stmt = prepare.call(this, sql, ...rest);
    if (typeof sql !== 'string' || !pattern.test(sql)) return stmt;
    for (const method of ['run', 'get', 'all']) {
      const original = stmt[method];
      stmt[method] = function paused(...args) {
        const out = original.apply(this, args);
        if (!done) {
          done = true;
          // A pipe is written synchronously on Linux: the parent has the line before we block.
          process.stderr.write(`PAUSE ${sql.replace(/\s+/g, ' ').trim().slice(0, 80)}\n`);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
        }
        return out;
      };
    }
    return stmt;
  };
}
