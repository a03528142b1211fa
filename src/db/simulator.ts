import type { Db } from './connection.ts';

/**
 * The simulator's own tables, never read by the app: the simulated Orange Money operator's wallets
 * and transactions (`sim_wallets`, `sim_transactions`), UTM's float and the disbursements paid from
 * it (`sim_float`, `sim_disbursements`), and the simulated handsets' SMS inboxes (`sim_sms`). In the database so that the server and a CLI command on the same file see one state.
 */

export type SimWalletState = 'active' | 'blocked';

export interface SimWalletRow {
  msisdn: string;
  balance: number;
  pin: string;
  pin_failures: number;
  state: SimWalletState;
}

export interface SimTxnRow {
  txn_id: string;
  msisdn: string;
  merchant_reference: string;
  amount: number;
  fee: number;
  debit: number;
  status: 'pending' | 'succeeded' | 'failed' | 'expired';
  reason: string | null;
  callback_url: string;
  callback_attempts: number;
  callback_done: number;
  created_ms: number;
  expires_ms: number;
  decided_ms: number | null;
}

export interface NewSimTxn {
  txnId: string;
  msisdn: string;
  reference: string;
  amount: number;
  fee: number;
  debit: number;
  callbackUrl: string;
  createdMs: number;
  expiresMs: number;
}

/** The simulated operator's wallets and transactions. */
export function createSimulatedOperatorStore(db: Db) {
  const walletGet = db.prepare('SELECT msisdn, balance, pin, pin_failures, state FROM sim_wallets WHERE msisdn = ?');
  const walletInsert = db.prepare(
    `INSERT INTO sim_wallets (msisdn, balance, pin, pin_failures, state) VALUES (?, ?, ?, 0, 'active')
     ON CONFLICT (msisdn) DO NOTHING`,
  );
  const walletFailures = db.prepare('UPDATE sim_wallets SET pin_failures = ?, state = ? WHERE msisdn = ?');
  const walletDebit = db.prepare('UPDATE sim_wallets SET balance = balance - ? WHERE msisdn = ? AND balance >= ?');
  const txnPending = db.prepare("SELECT * FROM sim_transactions WHERE msisdn = ? AND status = 'pending'");
  const txnByReference = db.prepare('SELECT * FROM sim_transactions WHERE merchant_reference = ?');
  const txnById = db.prepare('SELECT 1 FROM sim_transactions WHERE txn_id = ?').pluck();
  const txnDue = db.prepare("SELECT * FROM sim_transactions WHERE status = 'pending' AND expires_ms <= ? ORDER BY expires_ms");
  const txnInsert = db.prepare(
    `INSERT INTO sim_transactions (txn_id, msisdn, merchant_reference, amount, fee, debit, status, callback_url, created_ms, expires_ms)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  );
  const txnDecide = db.prepare(
    "UPDATE sim_transactions SET status = ?, reason = ?, decided_ms = ? WHERE txn_id = ? AND status = 'pending'",
  );
  const txnUndelivered = db.prepare(
    "SELECT * FROM sim_transactions WHERE status <> 'pending' AND callback_done = 0 AND callback_attempts < ? ORDER BY decided_ms",
  );
  const txnAttempt = db.prepare(
    'UPDATE sim_transactions SET callback_attempts = callback_attempts + 1, callback_done = MAX(callback_done, ?) WHERE txn_id = ?',
  );

  return {
    wallet(msisdn: string): SimWalletRow | undefined {
      return walletGet.get(msisdn) as SimWalletRow | undefined;
    },
    /** Creates a wallet unless it exists (an existing one keeps its balance, PIN and state). True when created. */
    addWallet(msisdn: string, balance: number, pin: string): boolean {
      return walletInsert.run(msisdn, balance, pin).changes === 1;
    },
    setPinFailures(msisdn: string, failures: number, state: SimWalletState): void {
      walletFailures.run(failures, state, msisdn);
    },
    /** Takes `amount` from the wallet if its balance covers it; false otherwise. */
    debit(msisdn: string, amount: number): boolean {
      return walletDebit.run(amount, msisdn, amount).changes === 1;
    },
    /** The wallet's transaction waiting for its PIN (at most one). */
    pendingOf(msisdn: string): SimTxnRow | undefined {
      return txnPending.get(msisdn) as SimTxnRow | undefined;
    },
    byReference(reference: string): SimTxnRow | undefined {
      return txnByReference.get(reference) as SimTxnRow | undefined;
    },
    txnExists(txnId: string): boolean {
      return txnById.get(txnId) === 1;
    },
    /** Pending transactions whose prompt timed out by `nowMs`, oldest expiry first. */
    due(nowMs: number): SimTxnRow[] {
      return txnDue.all(nowMs) as SimTxnRow[];
    },
    addTxn(t: NewSimTxn): void {
      txnInsert.run(t.txnId, t.msisdn, t.reference, t.amount, t.fee, t.debit, t.callbackUrl, t.createdMs, t.expiresMs);
    },
    /** Ends a transaction still pending; false when it no longer was. */
    decide(txnId: string, status: 'succeeded' | 'failed' | 'expired', reason: string | null, nowMs: number): boolean {
      return txnDecide.run(status, reason, nowMs, txnId).changes === 1;
    },
    /** Ended transactions whose callback was never acknowledged, with attempts left. */
    undelivered(maxAttempts: number): SimTxnRow[] {
      return txnUndelivered.all(maxAttempts) as SimTxnRow[];
    },
    /** Counts a callback attempt (a shutdown may have closed the database first: then nothing). */
    recordAttempt(txnId: string, delivered: boolean): void {
      if (db.open) txnAttempt.run(delivered ? 1 : 0, txnId);
    },
  };
}

export type SimulatedOperatorStore = ReturnType<typeof createSimulatedOperatorStore>;

export interface SimDisbursementRow {
  txn_id: string;
  reference: string;
  msisdn: string;
  amount: number;
  status: 'succeeded' | 'failed';
  reason: string | null;
  float_after: number;
  callback_url: string;
  callback_attempts: number;
  callback_done: number;
  created_ms: number;
}

export type NewSimDisbursement = Omit<SimDisbursementRow, 'callback_attempts' | 'callback_done'>;

/**
 * The simulated operator's side of disbursements: UTM's float (one balance, absent means 0) and the
 * transactions paid from it to wallets, one per merchant reference.
 */
export function createSimulatedFloatStore(db: Db) {
  const floatGet = db.prepare('SELECT balance FROM sim_float WHERE id = 1').pluck();
  const floatSet = db.prepare(
    'INSERT INTO sim_float (id, balance) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET balance = excluded.balance',
  );
  const floatAdd = db.prepare(
    'INSERT INTO sim_float (id, balance) VALUES (1, @amount) ON CONFLICT (id) DO UPDATE SET balance = balance + @amount',
  );
  const floatSeed = db.prepare('INSERT INTO sim_float (id, balance) VALUES (1, ?) ON CONFLICT (id) DO NOTHING');
  const floatDebit = db.prepare('UPDATE sim_float SET balance = balance - ? WHERE id = 1 AND balance >= ?');
  const walletCredit = db.prepare('UPDATE sim_wallets SET balance = balance + ? WHERE msisdn = ?');
  const byReference = db.prepare('SELECT * FROM sim_disbursements WHERE reference = ?');
  const txnExists = db.prepare('SELECT 1 FROM sim_disbursements WHERE txn_id = ?').pluck();
  const insert = db.prepare(
    `INSERT INTO sim_disbursements (txn_id, reference, msisdn, amount, status, reason, float_after, callback_url, created_ms)
     VALUES (@txn_id, @reference, @msisdn, @amount, @status, @reason, @float_after, @callback_url, @created_ms)`,
  );
  const undelivered = db.prepare('SELECT * FROM sim_disbursements WHERE callback_done = 0 AND callback_attempts < ? ORDER BY created_ms');
  const attempt = db.prepare(
    'UPDATE sim_disbursements SET callback_attempts = callback_attempts + 1, callback_done = MAX(callback_done, ?) WHERE txn_id = ?',
  );
  const toWallet = db.prepare(
    `SELECT COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount FROM sim_disbursements WHERE msisdn = ? AND status = 'succeeded'`,
  );

  return {
    balance(): number {
      return (floatGet.get() as number | undefined) ?? 0;
    },
    setBalance(balance: number): void {
      floatSet.run(balance);
    },
    topUp(amount: number): void {
      floatAdd.run({ amount });
    },
    /** The demo's opening float, unless the float exists already. */
    seed(balance: number): void {
      floatSeed.run(balance);
    },
    /** Takes `amount` from the float if it covers it; false otherwise. */
    debit(amount: number): boolean {
      return floatDebit.run(amount, amount).changes === 1;
    },
    /** Adds to a wallet; false when there is no such wallet. */
    credit(msisdn: string, amount: number): boolean {
      return walletCredit.run(amount, msisdn).changes === 1;
    },
    byReference(reference: string): SimDisbursementRow | undefined {
      return byReference.get(reference) as SimDisbursementRow | undefined;
    },
    txnExists(txnId: string): boolean {
      return txnExists.get(txnId) === 1;
    },
    add(t: NewSimDisbursement): void {
      insert.run(t);
    },
    /** Disbursements whose callback was never acknowledged, with attempts left. */
    undelivered(maxAttempts: number): SimDisbursementRow[] {
      return undelivered.all(maxAttempts) as SimDisbursementRow[];
    },
    recordAttempt(txnId: string, delivered: boolean): void {
      if (db.open) attempt.run(delivered ? 1 : 0, txnId);
    },
    /** What reached a wallet by disbursement: how many and how much. */
    paidTo(msisdn: string): { count: number; amount: number } {
      return toWallet.get(msisdn) as { count: number; amount: number };
    },
  };
}

export type SimulatedFloatStore = ReturnType<typeof createSimulatedFloatStore>;

export interface SimSmsRow {
  id: string;
  to: string;
  from: string | null;
  text: string;
  segments: number;
  status: string;
  createdMs: number;
}

/** The simulated handsets' inboxes. */
export function createSimulatedInboxStore(db: Db) {
  const insert = db.prepare(
    `INSERT INTO sim_sms (provider_id, outbox_id, to_phone, from_id, text, segments, status, created_ms)
     VALUES (?, ?, ?, ?, ?, ?, 'Sent', ?) ON CONFLICT (outbox_id) DO NOTHING`,
  );
  const byOutbox = db.prepare('SELECT provider_id FROM sim_sms WHERE outbox_id = ?').pluck();
  const setStatus = db.prepare('UPDATE sim_sms SET status = ? WHERE provider_id = ?');
  const inbox = db.prepare(
    `SELECT provider_id AS id, to_phone AS "to", from_id AS "from", text, segments, status, created_ms AS createdMs
     FROM sim_sms WHERE to_phone = ? ORDER BY sim_sms.id`,
  );
  const storeSent = db.transaction(
    (
      messages: ReadonlyArray<{ providerId: string; outboxId: number; to: string }>,
      from: string | null,
      text: string,
      segments: number,
      nowMs: number,
    ) =>
      // A message sent again after a crash keeps its first id: a handset never sees it twice.
      messages.map((m) =>
        insert.run(m.providerId, m.outboxId, m.to, from, text, segments, nowMs).changes === 1
          ? m.providerId
          : (byOutbox.get(m.outboxId) as string),
      ),
  );

  return {
    /** One text from the app's outbox to each recipient, in one transaction; returns each message's provider id (its first one if stored before). */
    storeSent,
    /** A message from elsewhere (the fake Africa's Talking gateway), not tied to an outbox row. */
    receive(m: { providerId: string; to: string; from: string | null; text: string; segments: number }, nowMs: number): void {
      insert.run(m.providerId, null, m.to, m.from, m.text, m.segments, nowMs);
    },
    /** The provider id of an outbox message the simulator took, if it did. */
    providerIdOf(outboxId: number): string | undefined {
      return byOutbox.get(outboxId) as string | undefined;
    },
    setStatus(providerId: string, status: string): void {
      setStatus.run(status, providerId);
    },
    /** Messages a phone received, oldest first. */
    inbox(phone: string): SimSmsRow[] {
      return inbox.all(phone) as SimSmsRow[];
    },
  };
}

export type SimulatedInboxStore = ReturnType<typeof createSimulatedInboxStore>;
