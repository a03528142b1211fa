/**
 * "Money exactly once, whatever the crash" (issue 13): the invariants, read from the SQLite file
 * (opened read-only) once the server has been restarted cleanly and left to settle. Shared by
 * test/crash/confirm-sweep.test.ts and scripts/crash-run.ts.
 *
 * Each check returns human-readable violations naming the rows involved; none is relaxed to suit
 * the code: a violation is a defect (or a test bug to fix in the test, never by loosening).
 */
import Database from 'better-sqlite3';

export interface InvariantOptions {
  /** Every wallet the run may have touched, with its balance before any payment. */
  opening: Map<string, number>;
  /** PAYMENT_EXPIRY_SECONDS. */
  expirySeconds: number;
  /**
   * How long past expiry a payment may still be `initiated`/`pending` (the sweep's period, the
   * delay before the operator's status is asked, and slack for callbacks): then it is a violation.
   */
  marginSeconds: number;
  /** The instant the checks refer to (default: now). */
  now?: Date;
  /** Ids of payments (and their sim transactions) made before the run started, ignored by the per-run checks. */
  sinceMs?: number;
}

export interface PaymentRow {
  id: number;
  reference: string;
  payer: string;
  amount: number;
  fee: number;
  total: number;
  status: string;
  reason: string | null;
  txn: string | null;
  requestKey: string | null;
  createdAt: string;
}

export interface SimTxnRow {
  txnId: string;
  msisdn: string;
  reference: string;
  amount: number;
  debit: number;
  status: string;
  reason: string | null;
  createdMs: number;
  expiresMs: number;
}

export interface InvariantReport {
  violations: string[];
  /** Counts for the summary. */
  stats: {
    payments: Record<string, number>;
    debits: number;
    debitedFcfa: number;
    credits: number;
    receipts: number;
    failureNotices: number;
  };
}

const cap = (xs: string[], n = 20) => (xs.length > n ? [...xs.slice(0, n), `… and ${xs.length - n} more`] : xs);

export function checkMoneyInvariants(dbPath: string, o: InvariantOptions): InvariantReport {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    return check(db, o);
  } finally {
    db.close();
  }
}

function check(db: Database.Database, o: InvariantOptions): InvariantReport {
  const violations: string[] = [];
  const add = (title: string, rows: string[]) => {
    if (rows.length) violations.push(`${title} (${rows.length}):\n    ${cap(rows).join('\n    ')}`);
  };
  const nowMs = (o.now ?? new Date()).getTime();

  // The database file itself.
  const integrity = db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
  const integrityText = integrity.map((r) => r.integrity_check).join('; ');
  if (integrityText !== 'ok') violations.push(`PRAGMA integrity_check is not ok: ${integrityText}`);
  const fk = db.pragma('foreign_key_check') as unknown[];
  if (fk.length) violations.push(`PRAGMA foreign_key_check: ${fk.length} rows: ${JSON.stringify(fk.slice(0, 5))}`);

  const payments = db
    .prepare(
      `SELECT id, reference, payer_msisdn AS payer, amount, fee, total, status, failure_reason AS reason, operator_txn_id AS txn,
              request_key AS requestKey, created_at AS createdAt FROM payments ORDER BY id`,
    )
    .all() as PaymentRow[];
  const txns = db
    .prepare(
      `SELECT txn_id AS txnId, msisdn, merchant_reference AS reference, amount, debit, status, reason, created_ms AS createdMs, expires_ms AS expiresMs
       FROM sim_transactions ORDER BY created_ms`,
    )
    .all() as SimTxnRow[];
  const since = o.sinceMs ?? 0;
  const runPayments = payments.filter((p) => Date.parse(p.createdAt) >= since);
  const runTxns = txns.filter((t) => t.createdMs >= since);
  const paymentByRef = new Map(payments.map((p) => [p.reference, p]));
  const ledger = db
    .prepare(
      `SELECT id, household_id AS householdId, amount, fee, operator_txn_id AS txn, recorded_at AS recordedAt FROM contributions WHERE channel = 'orange_money'`,
    )
    .all() as Array<{ id: number; householdId: number; amount: number; fee: number; txn: string | null; recordedAt: string }>;
  const ledgerByTxn = new Map<string, typeof ledger>();
  for (const l of ledger) if (l.txn) ledgerByTxn.set(l.txn, [...(ledgerByTxn.get(l.txn) ?? []), l]);
  const outbox = db
    .prepare(`SELECT id, recipient, source_key AS key FROM sms_outbox WHERE source_key LIKE 'receipt:%' OR source_key LIKE 'failure:%'`)
    .all() as Array<{ id: number; recipient: string; key: string }>;
  const outboxByKey = new Map<string, typeof outbox>();
  for (const m of outbox) outboxByKey.set(m.key, [...(outboxByKey.get(m.key) ?? []), m]);

  // References: one payment each (the UNIQUE column), and one operator transaction each.
  const refDup = db.prepare('SELECT reference, count(*) AS n FROM payments GROUP BY reference HAVING n > 1').all() as Array<{
    reference: string;
    n: number;
  }>;
  add(
    'payment references used twice',
    refDup.map((r) => `${r.reference} ×${r.n}`),
  );
  const simRefDup = db
    .prepare('SELECT merchant_reference AS r, count(*) AS n FROM sim_transactions GROUP BY r HAVING n > 1')
    .all() as Array<{ r: string; n: number }>;
  add(
    'operator transactions sharing a merchant reference',
    simRefDup.map((r) => `${r.r} ×${r.n}`),
  );
  add(
    'operator transactions for a reference sabatili has no payment for',
    runTxns.filter((t) => !paymentByRef.has(t.reference)).map((t) => `${t.txnId} ref ${t.reference} ${t.msisdn} ${t.status}`),
  );

  // Each debit: exactly one credit of the same amount, and exactly one receipt.
  const debits = runTxns.filter((t) => t.status === 'succeeded');
  const noCredit: string[] = [];
  const badCredit: string[] = [];
  const receipts: string[] = [];
  for (const t of debits) {
    const credits = ledgerByTxn.get(t.txnId) ?? [];
    if (credits.length === 0)
      noCredit.push(`${t.txnId} ${t.msisdn} debited ${t.debit} (amount ${t.amount}) ref ${t.reference}: no ledger row`);
    else if (credits.length > 1 || credits[0]?.amount !== t.amount)
      badCredit.push(`${t.txnId} amount ${t.amount}: ledger ${credits.map((c) => `#${c.id} ${c.amount}`).join(', ')}`);
    const r = outboxByKey.get(`receipt:${t.txnId}`) ?? [];
    if (r.length !== 1) receipts.push(`${t.txnId} ${t.msisdn} ref ${t.reference}: ${r.length} receipts`);
  }
  add('debits without a credit in the ledger', noCredit);
  add('debits whose credit differs (count or amount)', badCredit);
  add('debits without exactly one receipt SMS', receipts);
  // …and no credit without a debit.
  const debitIds = new Set(txns.filter((t) => t.status === 'succeeded').map((t) => t.txnId));
  add(
    'ledger credits with no successful operator transaction',
    ledger
      .filter((l) => l.txn && Date.parse(l.recordedAt) >= since && !debitIds.has(l.txn))
      .map((l) => `contribution #${l.id} ${l.txn} ${l.amount}`),
  );

  // No wallet debited twice for one quote: never two debits for payments of the same request key,
  // never two debits for one payment reference.
  const debitsByKey = new Map<string, SimTxnRow[]>();
  for (const t of debits) {
    const p = paymentByRef.get(t.reference);
    const key = p?.requestKey ?? `ref:${t.reference}`;
    debitsByKey.set(key, [...(debitsByKey.get(key) ?? []), t]);
  }
  add(
    'two debits for one request',
    [...debitsByKey].filter(([, ts]) => ts.length > 1).map(([k, ts]) => `${k}: ${ts.map((t) => `${t.txnId} ${t.debit}`).join(', ')}`),
  );

  // Balances: opening minus the succeeded debits, for every wallet we know the opening of.
  const balance = db.prepare('SELECT balance FROM sim_wallets WHERE msisdn = ?').pluck();
  const debitSum = db
    .prepare("SELECT coalesce(sum(debit), 0) FROM sim_transactions WHERE msisdn = ? AND status = 'succeeded' AND created_ms >= ?")
    .pluck();
  const badBalance: string[] = [];
  for (const [phone, opening] of o.opening) {
    const b = balance.get(phone) as number | undefined;
    const d = debitSum.get(phone, since) as number;
    if (b !== opening - d) badBalance.push(`${phone}: balance ${b}, opening ${opening} − debits ${d} = ${opening - d}`);
  }
  add('wallet balances that are not opening minus debits', badBalance);

  // Nothing stays in flight past expiry plus the sweep.
  const limitMs = (o.expirySeconds + o.marginSeconds) * 1000;
  add(
    'payments still initiated/pending past expiry + sweep',
    runPayments
      .filter((p) => (p.status === 'initiated' || p.status === 'pending') && nowMs - Date.parse(p.createdAt) > limitMs)
      .map(
        (p) =>
          `#${p.id} ${p.reference} ${p.payer} ${p.amount} ${p.status} since ${p.createdAt} (${Math.round((nowMs - Date.parse(p.createdAt)) / 1000)} s)`,
      ),
  );
  add(
    'operator prompts still pending past expiry + sweep',
    runTxns.filter((t) => t.status === 'pending' && nowMs - t.createdMs > limitMs).map((t) => `${t.txnId} ${t.msisdn} ref ${t.reference}`),
  );
  // A payment the operator settled is settled here too (the callback, or the recovery, arrived).
  add(
    'payments whose operator transaction ended but the payment did not follow',
    runTxns
      .filter((t) => t.status !== 'pending')
      .flatMap((t) => {
        const p = paymentByRef.get(t.reference);
        if (!p) return [];
        const want = t.status === 'succeeded' ? ['succeeded'] : ['failed', 'expired', 'cancelled'];
        return want.includes(p.status) || p.status === 'review'
          ? []
          : [`#${p.id} ${p.reference} is ${p.status}, operator ${t.txnId} ${t.status}`];
      }),
  );

  // Each failed or expired payment: exactly one failure notice (a member's own cancel gets none).
  const notices: string[] = [];
  for (const p of runPayments.filter((x) => x.status === 'failed' || x.status === 'expired')) {
    const keys = [...new Set([p.txn && `failure:${p.txn}`, `failure:${p.reference}`].filter((k): k is string => !!k))];
    const n = keys.reduce((s, k) => s + (outboxByKey.get(k)?.length ?? 0), 0);
    if (n !== 1)
      notices.push(`#${p.id} ${p.reference} ${p.payer} ${p.status} (${p.reason ?? ''}, operator ${p.txn ?? 'none'}): ${n} failure notices`);
  }
  add('failed/expired payments without exactly one failure notice', notices);
  // A failure notice belongs to a payment that did fail (never to one that was credited).
  add(
    'failure notices for a payment that succeeded',
    runPayments
      .filter((p) => p.status === 'succeeded' && p.txn && outboxByKey.has(`failure:${p.txn}`))
      .map((p) => `#${p.id} ${p.reference} ${p.txn}`),
  );

  const byStatus: Record<string, number> = {};
  for (const p of runPayments) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
  return {
    violations,
    stats: {
      payments: byStatus,
      debits: debits.length,
      debitedFcfa: debits.reduce((s, t) => s + t.debit, 0),
      credits: debits.filter((t) => (ledgerByTxn.get(t.txnId) ?? []).length > 0).length,
      receipts: outbox.filter((m) => m.key.startsWith('receipt:')).length,
      failureNotices: outbox.filter((m) => m.key.startsWith('failure:')).length,
    },
  };
}

/** Succeeded debits of one wallet since an instant (for "at most one debit per confirmed quote"). */
export function debitsOf(dbPath: string, phone: string, sinceMs: number): SimTxnRow[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    return db
      .prepare(
        `SELECT txn_id AS txnId, msisdn, merchant_reference AS reference, amount, debit, status, reason, created_ms AS createdMs, expires_ms AS expiresMs
         FROM sim_transactions WHERE msisdn = ? AND status = 'succeeded' AND created_ms >= ? ORDER BY created_ms`,
      )
      .all(phone, sinceMs) as SimTxnRow[];
  } finally {
    db.close();
  }
}

/** The payments of one wallet since an instant. */
export function paymentsOf(dbPath: string, phone: string, sinceMs = 0): PaymentRow[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    return (
      db
        .prepare(
          `SELECT id, reference, payer_msisdn AS payer, amount, fee, total, status, failure_reason AS reason, operator_txn_id AS txn,
                  request_key AS requestKey, created_at AS createdAt FROM payments WHERE payer_msisdn = ? ORDER BY id`,
        )
        .all(phone) as PaymentRow[]
    ).filter((p) => Date.parse(p.createdAt) >= sinceMs);
  } finally {
    db.close();
  }
}

/** When the last payment was created (ms), or 0. */
export function latestPaymentMs(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    const at = db.prepare('SELECT max(created_at) FROM payments').pluck().get() as string | null;
    return at ? Date.parse(at) : 0;
  } finally {
    db.close();
  }
}
