import type Database from 'better-sqlite3';
import { createHouseholdStore } from './households.ts';

/**
 * Versioned schema. A migration is never edited once it has shipped: add the next one.
 * Times are ISO-8601 UTC text unless the column name says `_ms` (epoch milliseconds, used on the
 * USSD hot path); calendar days are 'YYYY-MM-DD' in Africa/Bamako.
 * ussd_sessions keeps a rowid: its rows (a ~600-byte snapshot) are large for a WITHOUT ROWID table,
 * and new sessions appended in rowid order share pages, so a group commit writes few WAL pages.
 */
/** A migration's SQL, then, when data must be computed by the app's own rules, its `run` step (same transaction). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  run?: (db: Database.Database) => void;
}

export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: 'members, coverage, ledger, ussd sessions, preferences, call-backs',
    sql: `
CREATE TABLE products (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE product_parameters (
  product_id TEXT NOT NULL REFERENCES products(id),
  effective_from TEXT NOT NULL,
  annual_contribution INTEGER NOT NULL CHECK (annual_contribution >= 0),
  subsidy_percent INTEGER NOT NULL CHECK (subsidy_percent BETWEEN 0 AND 100),
  joining_fee INTEGER NOT NULL CHECK (joining_fee >= 0),
  waiting_days INTEGER NOT NULL CHECK (waiting_days >= 0),
  grace_days INTEGER NOT NULL CHECK (grace_days >= 0),
  PRIMARY KEY (product_id, effective_from)
) WITHOUT ROWID;
CREATE TABLE mutuelles (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  district TEXT NOT NULL,
  target_population INTEGER NOT NULL CHECK (target_population >= 0),
  product_id TEXT NOT NULL REFERENCES products(id)
);
CREATE INDEX mutuelles_district ON mutuelles(district);
CREATE TABLE households (
  id INTEGER PRIMARY KEY,
  card_number TEXT NOT NULL UNIQUE,
  adherent_name TEXT NOT NULL,
  phone TEXT NOT NULL UNIQUE,
  language TEXT NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'bm')),
  mutuelle_id TEXT NOT NULL REFERENCES mutuelles(id),
  joined_on TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX households_mutuelle ON households(mutuelle_id);
CREATE TABLE beneficiaries (
  id INTEGER PRIMARY KEY,
  household_id INTEGER NOT NULL REFERENCES households(id),
  name TEXT NOT NULL,
  relation TEXT NOT NULL CHECK (relation IN ('adherent', 'spouse', 'child', 'parent', 'other')),
  birth_year INTEGER,
  subsidised INTEGER NOT NULL DEFAULT 0 CHECK (subsidised IN (0, 1)),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE INDEX beneficiaries_household ON beneficiaries(household_id);
CREATE TABLE wallets (
  id INTEGER PRIMARY KEY,
  household_id INTEGER NOT NULL REFERENCES households(id),
  operator TEXT NOT NULL CHECK (operator IN ('orange_money')),
  msisdn TEXT NOT NULL,
  linked_at TEXT NOT NULL,
  unlinked_at TEXT
);
CREATE UNIQUE INDEX wallets_linked ON wallets(operator, msisdn) WHERE unlinked_at IS NULL;
CREATE INDEX wallets_household ON wallets(household_id);
CREATE TABLE contributions (
  id INTEGER PRIMARY KEY,
  household_id INTEGER NOT NULL REFERENCES households(id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  fee INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0),
  channel TEXT NOT NULL CHECK (channel IN ('orange_money', 'cash', 'agent')),
  operator_txn_id TEXT UNIQUE,
  paid_on TEXT NOT NULL,
  paid_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX contributions_household ON contributions(household_id, paid_at);
CREATE TRIGGER contributions_append_only_update BEFORE UPDATE ON contributions
BEGIN SELECT RAISE(ABORT, 'the contributions ledger is append-only'); END;
CREATE TRIGGER contributions_append_only_delete BEFORE DELETE ON contributions
BEGIN SELECT RAISE(ABORT, 'the contributions ledger is append-only'); END;
CREATE TABLE ussd_sessions (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  service_code TEXT NOT NULL,
  machine TEXT NOT NULL,
  version INTEGER NOT NULL,
  snapshot TEXT NOT NULL,
  home TEXT NOT NULL,
  page INTEGER NOT NULL DEFAULT 0,
  invalid INTEGER NOT NULL DEFAULT 0,
  hops INTEGER NOT NULL,
  last_text TEXT NOT NULL,
  last_reply TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'ended', 'resumed')),
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX ussd_sessions_phone ON ussd_sessions(phone, updated_ms);
CREATE TABLE ussd_session_events (
  session_id TEXT PRIMARY KEY,
  phone TEXT NOT NULL,
  service_code TEXT,
  network_code TEXT,
  status TEXT NOT NULL CHECK (status IN ('Success', 'Incomplete', 'Failed')),
  date TEXT,
  cost TEXT,
  duration_ms INTEGER,
  hops_count INTEGER,
  hops_metadata TEXT,
  input TEXT,
  last_app_response TEXT,
  error_message TEXT,
  received_at TEXT NOT NULL
);
CREATE TABLE caller_preferences (
  phone TEXT PRIMARY KEY,
  language TEXT NOT NULL CHECK (language IN ('fr', 'bm')),
  updated_at TEXT NOT NULL
);
CREATE TABLE reminder_preferences (
  household_id INTEGER PRIMARY KEY REFERENCES households(id),
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  updated_at TEXT NOT NULL,
  updated_via TEXT NOT NULL
);
CREATE TABLE callback_requests (
  id INTEGER PRIMARY KEY,
  request_key TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  household_id INTEGER REFERENCES households(id),
  reason TEXT NOT NULL CHECK (reason IN ('payment', 'coverage', 'registration', 'other')),
  channel TEXT NOT NULL CHECK (channel IN ('ussd', 'sms', 'office')),
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'done')),
  promised_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  claimed_by TEXT,
  claimed_at TEXT,
  done_at TEXT,
  outcome TEXT
);
CREATE INDEX callback_requests_open ON callback_requests(status, created_at);
CREATE INDEX callback_requests_phone ON callback_requests(phone, status);
`,
  },
  {
    version: 2,
    name: 'sms outbox with status history, inbound messages, opt-outs, simulator inboxes',
    sql: `
CREATE TABLE sms_outbox (
  id INTEGER PRIMARY KEY,
  recipient TEXT NOT NULL,
  text TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language IN ('fr', 'bm')),
  encoding TEXT NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
  segments INTEGER NOT NULL CHECK (segments BETWEEN 1 AND 6),
  kind TEXT NOT NULL CHECK (kind IN ('transactional', 'reminder', 'campaign')),
  campaign_id INTEGER,
  priority INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'expired')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  transport TEXT,
  provider_message_id TEXT,
  cost TEXT,
  last_error TEXT,
  source_key TEXT UNIQUE,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox(priority, next_attempt_ms, id) WHERE status = 'queued';
CREATE INDEX sms_outbox_sending ON sms_outbox(id) WHERE status = 'sending';
CREATE INDEX sms_outbox_provider ON sms_outbox(provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX sms_outbox_recipient ON sms_outbox(recipient, id);
CREATE TABLE sms_status_history (
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES sms_outbox(id),
  status TEXT NOT NULL,
  detail TEXT,
  at_ms INTEGER NOT NULL
);
CREATE INDEX sms_status_history_message ON sms_status_history(message_id);
CREATE TABLE sms_sent_per_day (
  day TEXT PRIMARY KEY,
  sent INTEGER NOT NULL
);
CREATE TABLE sms_inbound (
  id INTEGER PRIMARY KEY,
  gateway_id TEXT NOT NULL UNIQUE,
  sender TEXT NOT NULL,
  recipient TEXT,
  text TEXT NOT NULL,
  link_id TEXT,
  network_code TEXT,
  cost TEXT,
  date TEXT,
  keyword TEXT,
  household_id INTEGER REFERENCES households(id),
  received_at TEXT NOT NULL
);
CREATE INDEX sms_inbound_unmatched ON sms_inbound(received_at) WHERE keyword IS NULL;
CREATE TABLE sms_optouts (
  phone TEXT PRIMARY KEY,
  opted_out INTEGER NOT NULL CHECK (opted_out IN (0, 1)),
  via TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE sim_sms (
  id INTEGER PRIMARY KEY,
  provider_id TEXT NOT NULL UNIQUE,
  outbox_id INTEGER UNIQUE,
  to_phone TEXT NOT NULL,
  from_id TEXT,
  text TEXT NOT NULL,
  segments INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX sim_sms_phone ON sim_sms(to_phone, id);
`,
  },
  {
    version: 3,
    name: "mobile-money payments, and the simulated operator's wallets and transactions",
    sql: `
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  household_id INTEGER NOT NULL REFERENCES households(id),
  payer_msisdn TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  fee INTEGER NOT NULL CHECK (fee >= 0),
  fee_bearer TEXT NOT NULL CHECK (fee_bearer IN ('member', 'utm')),
  total INTEGER NOT NULL CHECK (total > 0),
  fee_grid TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('initiated', 'pending', 'succeeded', 'failed', 'expired', 'cancelled')),
  failure_reason TEXT,
  operator TEXT NOT NULL DEFAULT 'orange_money',
  operator_txn_id TEXT UNIQUE,
  request_key TEXT UNIQUE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX payments_one_pending_per_wallet ON payments(payer_msisdn) WHERE status IN ('initiated', 'pending');
CREATE INDEX payments_household ON payments(household_id, id);
CREATE TABLE sim_wallets (
  msisdn TEXT PRIMARY KEY,
  balance INTEGER NOT NULL CHECK (balance >= 0),
  pin TEXT NOT NULL,
  pin_failures INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'blocked'))
);
CREATE TABLE sim_transactions (
  txn_id TEXT PRIMARY KEY,
  msisdn TEXT NOT NULL,
  merchant_reference TEXT NOT NULL UNIQUE,
  amount INTEGER NOT NULL,
  fee INTEGER NOT NULL,
  debit INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'expired')),
  reason TEXT,
  callback_url TEXT NOT NULL,
  callback_attempts INTEGER NOT NULL DEFAULT 0,
  callback_done INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  decided_ms INTEGER
);
CREATE UNIQUE INDEX sim_transactions_one_pending ON sim_transactions(msisdn) WHERE status = 'pending';
`,
  },
  {
    version: 4,
    name: 'reminders: rules per mutuelle (a default set for all) and one send per household, rule and period',
    // reminder_rules: a mutuelle with rows of its own uses only those; the others use the default
    // set (mutuelle_id NULL), so a mutuelle added later is reminded without any setup. A rule fires
    // `offset_days` after its anchor: 'end' is the paid-through day, 'lapse' the first day after grace.
    // reminder_sends: at most one row per household, rule and period (the paid-through day it is
    // about), whatever runs the job and how often; 'held' waits for the sending hours (hold_until_ms),
    // 'queued' is in the outbox (outbox_id), 'cancelled' by a contribution before it left (its
    // outbox row, if any, 'expired'), 'skipped' not sent (STOP, reminders turned off, an unusable number).
    sql: `
CREATE TABLE reminder_rules (
  id INTEGER PRIMARY KEY,
  mutuelle_id TEXT REFERENCES mutuelles(id),
  code TEXT NOT NULL CHECK (code GLOB '[a-z]*' AND code NOT GLOB '*[^a-z_0-9]*' AND length(code) <= 32),
  anchor TEXT NOT NULL CHECK (anchor IN ('end', 'lapse')),
  offset_days INTEGER NOT NULL CHECK (offset_days BETWEEN -366 AND 366),
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))
);
CREATE UNIQUE INDEX reminder_rules_code ON reminder_rules(ifnull(mutuelle_id, ''), code);
INSERT INTO reminder_rules (mutuelle_id, code, anchor, offset_days) VALUES
  (NULL, 'before_end', 'end', -7),
  (NULL, 'last_day', 'end', 0),
  (NULL, 'grace', 'lapse', -7),
  (NULL, 'lapsed', 'lapse', 30);
CREATE TABLE reminder_sends (
  id INTEGER PRIMARY KEY,
  household_id INTEGER NOT NULL REFERENCES households(id),
  rule TEXT NOT NULL,
  period TEXT NOT NULL,
  message TEXT CHECK (message IN ('before_end', 'last_day', 'grace', 'lapsed')),
  outbox_id INTEGER REFERENCES sms_outbox(id),
  status TEXT NOT NULL CHECK (status IN ('held', 'queued', 'cancelled', 'skipped')),
  hold_until_ms INTEGER,
  detail TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (household_id, rule, period)
);
CREATE INDEX reminder_sends_held ON reminder_sends(hold_until_ms) WHERE status = 'held';
CREATE INDEX reminder_sends_pending ON reminder_sends(household_id) WHERE status IN ('held', 'queued');
CREATE INDEX reminder_sends_outbox ON reminder_sends(outbox_id) WHERE outbox_id IS NOT NULL;
`,
  },
  {
    version: 5,
    name: 'campaigns',
    // A campaign's audience is a JSON filter evaluated when it is sent; campaign_recipients is what
    // the send decided for each member (queued, control, opted out, rejected), kept for results and
    // conversions. Its primary key, and the enqueue cursor advanced in the same transaction as each
    // chunk, make sending resumable and never twice.
    sql: `
CREATE TABLE campaigns (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  audience TEXT NOT NULL,
  messages TEXT NOT NULL,
  fallback_language TEXT CHECK (fallback_language IN ('fr', 'bm')),
  send_at TEXT,
  rate_per_minute INTEGER CHECK (rate_per_minute > 0),
  control_share REAL NOT NULL DEFAULT 0 CHECK (control_share >= 0 AND control_share < 1),
  state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'scheduled', 'sending', 'paused', 'cancelled', 'done')),
  enqueue_cursor INTEGER NOT NULL DEFAULT 0,
  enqueue_done INTEGER NOT NULL DEFAULT 0 CHECK (enqueue_done IN (0, 1)),
  schedule_origin_ms INTEGER,
  schedule_index INTEGER NOT NULL DEFAULT 0,
  scanned INTEGER NOT NULL DEFAULT 0,
  queued INTEGER NOT NULL DEFAULT 0,
  control INTEGER NOT NULL DEFAULT 0,
  opted_out INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  started_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE campaign_phones (
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
  phone TEXT NOT NULL,
  PRIMARY KEY (campaign_id, phone)
) WITHOUT ROWID;
CREATE TABLE campaign_recipients (
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
  household_id INTEGER NOT NULL REFERENCES households(id),
  phone TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language IN ('fr', 'bm')),
  control INTEGER NOT NULL CHECK (control IN (0, 1)),
  outcome TEXT NOT NULL CHECK (outcome IN ('queued', 'control', 'opted-out', 'rejected')),
  detail TEXT,
  outbox_id INTEGER REFERENCES sms_outbox(id),
  PRIMARY KEY (campaign_id, household_id)
) WITHOUT ROWID;
CREATE INDEX sms_outbox_campaign ON sms_outbox(campaign_id, status) WHERE campaign_id IS NOT NULL;
`,
  },
  {
    version: 6,
    name: 'office: staff accounts and sessions, audit log, notes on households',
    sql: `
CREATE TABLE staff (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('officer', 'manager')),
  password_hash TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER,
  created_at TEXT NOT NULL
);
CREATE TABLE staff_sessions (
  token_hash TEXT PRIMARY KEY,
  staff_id INTEGER NOT NULL REFERENCES staff(id),
  csrf_token TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  staff_id INTEGER REFERENCES staff(id),
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT,
  before_json TEXT,
  after_json TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE household_notes (
  id INTEGER PRIMARY KEY,
  household_id INTEGER NOT NULL REFERENCES households(id),
  staff_id INTEGER NOT NULL REFERENCES staff(id),
  at TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX household_notes_household ON household_notes(household_id, at);
`,
  },
  {
    version: 7,
    name: 'ussd hops: the screen each hop showed, for the office support view',
    // Written from the session row in the same group-commit transaction, so a hop costs one more
    // insert and no read; UNIQUE makes a retried hop's second write a no-op.
    sql: `
CREATE TABLE ussd_hops (
  session_id TEXT NOT NULL,
  hop INTEGER NOT NULL,
  text TEXT NOT NULL,
  reply TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (session_id, hop)
);
`,
  },
  {
    version: 8,
    name: 'app secrets: development secrets generated once per database (src/db/secrets.ts)',
    sql: `
CREATE TABLE app_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);
`,
  },
  {
    version: 9,
    name: 'inbound sms: the answer queued, or why none was (per-sender limit, country, number)',
    // The per-sender limit counts a sender's answered texts of the last hour. The index holds answered
    // texts only, so the count reads at most the limit's few entries however many texts a forger sends.
    sql: `
ALTER TABLE sms_inbound ADD COLUMN reply_id INTEGER REFERENCES sms_outbox(id);
ALTER TABLE sms_inbound ADD COLUMN unanswered_reason TEXT CHECK (unanswered_reason IN ('rate_limited', 'country', 'recipient'));
CREATE INDEX sms_inbound_answered ON sms_inbound(sender, received_at) WHERE reply_id IS NOT NULL;
`,
  },
  {
    version: 10,
    name: 'office: failed logins per (email, client address) instead of a lock per account',
    // A lock per account let a stranger keep its owner out; failures now slow only the pair that made them.
    sql: `
CREATE TABLE staff_login_failures (
  email TEXT NOT NULL,
  address TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX staff_login_failures_pair ON staff_login_failures(email, address, at_ms);
ALTER TABLE staff DROP COLUMN failed_logins;
ALTER TABLE staff DROP COLUMN locked_until_ms;
`,
  },
  {
    version: 11,
    name: 'payments: review of a success the operator reported with another amount or phone; what the operator said',
    // SQLite cannot widen a CHECK in place: the table is rebuilt with the same rows. 'review' holds a
    // success whose amount or phone differs from the payment (nothing credited until a manager
    // decides); operator_* keep the operator's side for the support view and reconciliation.
    sql: `
CREATE TABLE payments_new (
  id INTEGER PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  household_id INTEGER NOT NULL REFERENCES households(id),
  payer_msisdn TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  fee INTEGER NOT NULL CHECK (fee >= 0),
  fee_bearer TEXT NOT NULL CHECK (fee_bearer IN ('member', 'utm')),
  total INTEGER NOT NULL CHECK (total > 0),
  fee_grid TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('initiated', 'pending', 'succeeded', 'failed', 'expired', 'cancelled', 'review')),
  failure_reason TEXT,
  operator TEXT NOT NULL DEFAULT 'orange_money',
  operator_txn_id TEXT UNIQUE,
  request_key TEXT UNIQUE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  operator_amount INTEGER,
  operator_fee INTEGER,
  operator_msisdn TEXT,
  reviewed_by TEXT,
  reviewed_at TEXT
);
INSERT INTO payments_new (id, reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status,
  failure_reason, operator, operator_txn_id, request_key, created_at, updated_at)
SELECT id, reference, household_id, payer_msisdn, amount, fee, fee_bearer, total, fee_grid, status,
  failure_reason, operator, operator_txn_id, request_key, created_at, updated_at FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE UNIQUE INDEX payments_one_pending_per_wallet ON payments(payer_msisdn) WHERE status IN ('initiated', 'pending');
CREATE INDEX payments_household ON payments(household_id, id);
CREATE INDEX payments_unsettled ON payments(status, created_at) WHERE status IN ('initiated', 'pending', 'review');
`,
  },
  {
    version: 12,
    name: 'coverage read model: per household, the state its ledger leaves and the periods it was covered',
    // Derived data (src/db/coverage.ts): the household store rewrites a household's rows in the
    // transaction of every change to its ledger, beneficiaries or product; filled here by the domain's
    // rules over every existing household. Days are 'YYYY-MM-DD', compared as text.
    sql: `
CREATE TABLE household_coverage (
  household_id INTEGER PRIMARY KEY REFERENCES households(id),
  mutuelle_id TEXT NOT NULL,
  last_paid_on TEXT,
  credit INTEGER NOT NULL CHECK (credit >= 0),
  paid_through TEXT,
  grace_until TEXT,
  episode_start TEXT,
  waiting_until TEXT,
  pending_start TEXT,
  full_count INTEGER NOT NULL,
  subsidised_count INTEGER NOT NULL,
  inactive_count INTEGER NOT NULL
);
CREATE INDEX household_coverage_last_paid ON household_coverage(last_paid_on);
CREATE TABLE household_covered_periods (
  household_id INTEGER NOT NULL REFERENCES households(id),
  covered_from TEXT NOT NULL,
  covered_until TEXT NOT NULL,
  PRIMARY KEY (household_id, covered_from)
) WITHOUT ROWID;
-- Sums of the rows for the figures, kept with them: households per mutuelle and status days ('' for
-- none), and the change of covered persons per mutuelle and day (+ when a period starts, - the day
-- after it ends).
CREATE TABLE coverage_groups (
  mutuelle_id TEXT NOT NULL,
  paid_through TEXT NOT NULL,
  grace_until TEXT NOT NULL,
  waiting_until TEXT NOT NULL,
  households INTEGER NOT NULL,
  full_count INTEGER NOT NULL,
  subsidised_count INTEGER NOT NULL,
  inactive_count INTEGER NOT NULL,
  PRIMARY KEY (mutuelle_id, paid_through, grace_until, waiting_until)
) WITHOUT ROWID;
CREATE TABLE coverage_trend (
  mutuelle_id TEXT NOT NULL,
  day TEXT NOT NULL,
  persons INTEGER NOT NULL,
  PRIMARY KEY (mutuelle_id, day)
) WITHOUT ROWID;
`,
    run: (db) => createHouseholdStore(db).rebuildCoverage(),
  },
  {
    version: 13,
    name: 'figures: contributions and payments summed per mutuelle and day, kept by triggers',
    // The office figures read these few thousand rows instead of every contribution and payment
    // (src/db/figures.ts). Triggers keep them with every write, whoever makes it (the ledger, the
    // payments' status changes, bulk imports), and move a household's sums when it changes mutuelle.
    // A payment's day is that of its created_at; its reason is kept for failed and expired ones only.
    sql: `
CREATE TABLE contribution_days (
  mutuelle_id TEXT NOT NULL,
  day TEXT NOT NULL,
  channel TEXT NOT NULL,
  count INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  PRIMARY KEY (mutuelle_id, day, channel)
) WITHOUT ROWID;
CREATE TABLE payment_days (
  mutuelle_id TEXT NOT NULL,
  day TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  count INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  PRIMARY KEY (mutuelle_id, day, status, reason)
) WITHOUT ROWID;
INSERT INTO contribution_days
  SELECT h.mutuelle_id, c.paid_on, c.channel, COUNT(*), SUM(c.amount) FROM contributions c JOIN households h ON h.id = c.household_id
  GROUP BY 1, 2, 3;
INSERT INTO payment_days
  SELECT h.mutuelle_id, substr(p.created_at, 1, 10), p.status,
    CASE WHEN p.status IN ('failed', 'expired') THEN COALESCE(p.failure_reason, 'unknown') ELSE '' END, COUNT(*), SUM(p.amount)
  FROM payments p JOIN households h ON h.id = p.household_id GROUP BY 1, 2, 3, 4;
CREATE TRIGGER contribution_days_insert AFTER INSERT ON contributions BEGIN
  INSERT INTO contribution_days SELECT mutuelle_id, NEW.paid_on, NEW.channel, 1, NEW.amount FROM households WHERE id = NEW.household_id
  ON CONFLICT DO UPDATE SET count = count + 1, amount = amount + excluded.amount;
END;
CREATE TRIGGER payment_days_insert AFTER INSERT ON payments BEGIN
  INSERT INTO payment_days SELECT mutuelle_id, substr(NEW.created_at, 1, 10), NEW.status,
    CASE WHEN NEW.status IN ('failed', 'expired') THEN COALESCE(NEW.failure_reason, 'unknown') ELSE '' END, 1, NEW.amount
  FROM households WHERE id = NEW.household_id
  ON CONFLICT DO UPDATE SET count = count + 1, amount = amount + excluded.amount;
END;
CREATE TRIGGER payment_days_update AFTER UPDATE OF status, failure_reason, amount, created_at ON payments BEGIN
  INSERT INTO payment_days SELECT mutuelle_id, substr(OLD.created_at, 1, 10), OLD.status,
    CASE WHEN OLD.status IN ('failed', 'expired') THEN COALESCE(OLD.failure_reason, 'unknown') ELSE '' END, -1, -OLD.amount
  FROM households WHERE id = OLD.household_id
  ON CONFLICT DO UPDATE SET count = count - 1, amount = amount + excluded.amount;
  INSERT INTO payment_days SELECT mutuelle_id, substr(NEW.created_at, 1, 10), NEW.status,
    CASE WHEN NEW.status IN ('failed', 'expired') THEN COALESCE(NEW.failure_reason, 'unknown') ELSE '' END, 1, NEW.amount
  FROM households WHERE id = NEW.household_id
  ON CONFLICT DO UPDATE SET count = count + 1, amount = amount + excluded.amount;
END;
CREATE TRIGGER figures_household_moves AFTER UPDATE OF mutuelle_id ON households WHEN OLD.mutuelle_id <> NEW.mutuelle_id BEGIN
  INSERT INTO contribution_days SELECT OLD.mutuelle_id, paid_on, channel, -COUNT(*), -SUM(amount) FROM contributions
    WHERE household_id = NEW.id GROUP BY paid_on, channel
  ON CONFLICT DO UPDATE SET count = count + excluded.count, amount = amount + excluded.amount;
  INSERT INTO contribution_days SELECT NEW.mutuelle_id, paid_on, channel, COUNT(*), SUM(amount) FROM contributions
    WHERE household_id = NEW.id GROUP BY paid_on, channel
  ON CONFLICT DO UPDATE SET count = count + excluded.count, amount = amount + excluded.amount;
  INSERT INTO payment_days SELECT OLD.mutuelle_id, substr(created_at, 1, 10), status,
    CASE WHEN status IN ('failed', 'expired') THEN COALESCE(failure_reason, 'unknown') ELSE '' END, -COUNT(*), -SUM(amount)
  FROM payments WHERE household_id = NEW.id GROUP BY 2, 3, 4
  ON CONFLICT DO UPDATE SET count = count + excluded.count, amount = amount + excluded.amount;
  INSERT INTO payment_days SELECT NEW.mutuelle_id, substr(created_at, 1, 10), status,
    CASE WHEN status IN ('failed', 'expired') THEN COALESCE(failure_reason, 'unknown') ELSE '' END, COUNT(*), SUM(amount)
  FROM payments WHERE household_id = NEW.id GROUP BY 2, 3, 4
  ON CONFLICT DO UPDATE SET count = count + excluded.count, amount = amount + excluded.amount;
END;
`,
  },
  {
    version: 14,
    name: 'members import: the checked households of a file, kept between the check and the confirmation',
    // The check writes here what it accepted, so the confirmed import writes those rows instead of
    // reading and checking the file a second time. One row per household (its lines' first number,
    // for a problem found when writing); member_imports holds what the check reported.
    sql: `
CREATE TABLE member_imports (
  import_key TEXT PRIMARY KEY,
  file_size INTEGER NOT NULL,
  file_mtime_ms INTEGER NOT NULL,
  today TEXT NOT NULL,
  preview TEXT
);
CREATE TABLE member_import_households (
  import_key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  line INTEGER NOT NULL,
  household TEXT NOT NULL,
  PRIMARY KEY (import_key, seq)
) WITHOUT ROWID;
`,
  },
  {
    version: 15,
    name: "ussd sessions: the flow's state beside its snapshot, for the figures' drop-off per screen",
    // The engine writes it with the snapshot; sessions from before are filled from their snapshots
    // once, here (json_extract gives a nested value as its JSON, as the engine writes it).
    sql: `
ALTER TABLE ussd_sessions ADD COLUMN state TEXT;
UPDATE ussd_sessions SET state = CASE WHEN json_valid(snapshot) THEN json_extract(snapshot, '$.value') END;
`,
  },
  {
    version: 16,
    name: 'sms outbox: source keys unique where present, so bulk rows without one skip that index',
    // A UNIQUE column keeps every row, NULL keys too, in its index: each bulk campaign row paid an
    // index insert for nothing (about a seventh of an enqueue, measured). A partial unique index keeps
    // the same exactly-once guarantee for every key. A UNIQUE column cannot be dropped, so the table is
    // rebuilt: copied aside, dropped and recreated under its name, so the tables referencing it keep
    // their references; their checks wait for the commit, when every row is back with its id.
    sql: `
PRAGMA defer_foreign_keys = ON;
CREATE TABLE sms_outbox_copy AS SELECT * FROM sms_outbox;
DROP TABLE sms_outbox;
CREATE TABLE sms_outbox (
  id INTEGER PRIMARY KEY,
  recipient TEXT NOT NULL,
  text TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language IN ('fr', 'bm')),
  encoding TEXT NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
  segments INTEGER NOT NULL CHECK (segments BETWEEN 1 AND 6),
  kind TEXT NOT NULL CHECK (kind IN ('transactional', 'reminder', 'campaign')),
  campaign_id INTEGER,
  priority INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'expired')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  transport TEXT,
  provider_message_id TEXT,
  cost TEXT,
  last_error TEXT,
  source_key TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
INSERT INTO sms_outbox SELECT * FROM sms_outbox_copy ORDER BY id;
DROP TABLE sms_outbox_copy;
CREATE UNIQUE INDEX sms_outbox_source ON sms_outbox(source_key) WHERE source_key IS NOT NULL;
CREATE INDEX sms_outbox_due ON sms_outbox(priority, next_attempt_ms, id) WHERE status = 'queued';
CREATE INDEX sms_outbox_sending ON sms_outbox(id) WHERE status = 'sending';
CREATE INDEX sms_outbox_provider ON sms_outbox(provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX sms_outbox_recipient ON sms_outbox(recipient, id);
CREATE INDEX sms_outbox_campaign ON sms_outbox(campaign_id, status) WHERE campaign_id IS NOT NULL;
`,
  },
  {
    version: 17,
    name: 'health facilities, their agents, the care each product pays for, and claims',
    // Owners: facilities, facility_mutuelles, facility_agents and care_tariffs in src/db/facilities.ts;
    // claims in src/db/claims.ts. A tariff is dated like product parameters: the one in force on the
    // visit day applies; 'day' tariffs are paid per day (hospitalisation), up to max_days.
    // A claim records what the agent declared; its checks (cover on the visit day, same patient,
    // facility and day, above tariff, the member's NON) are read when it is reviewed, never stored,
    // so a later payment or a corrected tariff cannot leave a stale flag behind. request_key makes a
    // retried USSD hop record the visit once.
    sql: `
CREATE TABLE facilities (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('cscom', 'csref', 'hospital')),
  district TEXT NOT NULL,
  payment_msisdn TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at TEXT NOT NULL
);
CREATE INDEX facilities_district ON facilities(district);
CREATE TABLE facility_mutuelles (
  facility_id INTEGER NOT NULL REFERENCES facilities(id),
  mutuelle_id TEXT NOT NULL REFERENCES mutuelles(id),
  PRIMARY KEY (facility_id, mutuelle_id)
) WITHOUT ROWID;
CREATE TABLE facility_agents (
  id INTEGER PRIMARY KEY,
  facility_id INTEGER NOT NULL REFERENCES facilities(id),
  phone TEXT NOT NULL,
  name TEXT NOT NULL,
  language TEXT NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'bm')),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX facility_agents_phone ON facility_agents(phone) WHERE active = 1;
CREATE INDEX facility_agents_facility ON facility_agents(facility_id);
CREATE TABLE care_tariffs (
  product_id TEXT NOT NULL REFERENCES products(id),
  care TEXT NOT NULL CHECK (care IN ('consultation', 'delivery', 'hospitalisation')),
  effective_from TEXT NOT NULL,
  unit TEXT NOT NULL CHECK (unit IN ('visit', 'day')),
  tariff INTEGER NOT NULL CHECK (tariff > 0),
  max_days INTEGER NOT NULL DEFAULT 1 CHECK (max_days BETWEEN 1 AND 60),
  PRIMARY KEY (product_id, care, effective_from)
) WITHOUT ROWID;
CREATE TABLE claims (
  id INTEGER PRIMARY KEY,
  request_key TEXT NOT NULL UNIQUE,
  facility_id INTEGER NOT NULL REFERENCES facilities(id),
  agent_id INTEGER NOT NULL REFERENCES facility_agents(id),
  household_id INTEGER NOT NULL REFERENCES households(id),
  beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries(id),
  care TEXT NOT NULL,
  days INTEGER NOT NULL DEFAULT 1 CHECK (days BETWEEN 1 AND 60),
  tariff INTEGER NOT NULL CHECK (tariff > 0),
  amount INTEGER NOT NULL CHECK (amount > 0),
  visit_on TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  disputed_at TEXT,
  dispute_inbound_id INTEGER REFERENCES sms_inbound(id),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_by INTEGER REFERENCES staff(id),
  decided_at TEXT,
  decision_reason TEXT
);
CREATE INDEX claims_queue ON claims(facility_id, status, id);
CREATE INDEX claims_same_visit ON claims(beneficiary_id, facility_id, visit_on);
CREATE INDEX claims_household ON claims(household_id, id);
`,
  },
  {
    version: 18,
    name: 'paying facilities: payment batches of approved claims, their disbursement ledger, and the simulated operator float',
    // Owners: payment_batches and disbursement_ledger in src/db/disbursements.ts; claims.batch_id in
    // src/db/claims.ts; sim_float and sim_disbursements in src/db/simulator.ts.
    // A batch is prepared by one staff member and approved by another (CHECK). Each send is an attempt
    // with its own operator reference (<reference>-<attempt>): a new attempt is only made once the
    // operator said the previous one failed, so at most one attempt can ever pay (src/claims/batches.ts).
    // A claim joins one batch at a time and leaves it only when that batch is cancelled (triggers);
    // the ledger has one row per paid batch and is append-only, like contributions.
    sql: `
CREATE TABLE payment_batches (
  id INTEGER PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  facility_id INTEGER NOT NULL REFERENCES facilities(id),
  msisdn TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  claims_count INTEGER NOT NULL CHECK (claims_count > 0),
  status TEXT NOT NULL CHECK (status IN ('prepared', 'approved', 'sending', 'paid', 'failed', 'cancelled')),
  prepared_by INTEGER NOT NULL REFERENCES staff(id),
  prepared_at TEXT NOT NULL,
  approved_by INTEGER REFERENCES staff(id),
  approved_at TEXT,
  cancelled_by INTEGER REFERENCES staff(id),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  sent_at TEXT,
  operator_txn_id TEXT,
  failure_reason TEXT,
  settled_at TEXT,
  updated_at TEXT NOT NULL,
  CHECK (approved_by IS NULL OR approved_by <> prepared_by),
  CHECK (status IN ('prepared', 'cancelled') OR approved_by IS NOT NULL),
  CHECK (status NOT IN ('sending', 'paid', 'failed') OR attempts > 0)
);
CREATE INDEX payment_batches_status ON payment_batches(status, id);
CREATE INDEX payment_batches_facility ON payment_batches(facility_id, id);
ALTER TABLE claims ADD COLUMN batch_id INTEGER REFERENCES payment_batches(id);
CREATE INDEX claims_batch ON claims(batch_id) WHERE batch_id IS NOT NULL;
CREATE TRIGGER claims_batch_join BEFORE UPDATE OF batch_id ON claims
WHEN NEW.batch_id IS NOT NULL AND (OLD.batch_id IS NOT NULL OR NEW.status <> 'approved')
BEGIN SELECT RAISE(ABORT, 'a claim joins a batch only when approved and in no other batch'); END;
CREATE TRIGGER claims_batch_leave BEFORE UPDATE OF batch_id ON claims
WHEN NEW.batch_id IS NULL AND OLD.batch_id IS NOT NULL
  AND (SELECT status FROM payment_batches WHERE id = OLD.batch_id) <> 'cancelled'
BEGIN SELECT RAISE(ABORT, 'a claim leaves only a cancelled batch'); END;
CREATE TABLE disbursement_ledger (
  id INTEGER PRIMARY KEY,
  batch_id INTEGER NOT NULL UNIQUE REFERENCES payment_batches(id),
  facility_id INTEGER NOT NULL REFERENCES facilities(id),
  reference TEXT NOT NULL,
  msisdn TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  fee INTEGER NOT NULL DEFAULT 0 CHECK (fee >= 0),
  operator_txn_id TEXT NOT NULL UNIQUE,
  paid_on TEXT NOT NULL,
  paid_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX disbursement_ledger_day ON disbursement_ledger(paid_on);
CREATE TRIGGER disbursement_ledger_append_only_update BEFORE UPDATE ON disbursement_ledger
BEGIN SELECT RAISE(ABORT, 'the disbursement ledger is append-only'); END;
CREATE TRIGGER disbursement_ledger_append_only_delete BEFORE DELETE ON disbursement_ledger
BEGIN SELECT RAISE(ABORT, 'the disbursement ledger is append-only'); END;
CREATE TABLE sim_float (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  balance INTEGER NOT NULL CHECK (balance >= 0)
);
CREATE TABLE sim_disbursements (
  txn_id TEXT PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  msisdn TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
  reason TEXT,
  float_after INTEGER NOT NULL,
  callback_url TEXT NOT NULL,
  callback_attempts INTEGER NOT NULL DEFAULT 0,
  callback_done INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL
);
`,
  },
  {
    version: 21,
    name: 'voice calls, their steps, and the prompt library status',
    sql: `
CREATE TABLE voice_calls (
  session_id TEXT PRIMARY KEY,
  phone TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('Inbound', 'Outbound')),
  destination TEXT,
  client_request_id TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
  step INTEGER NOT NULL DEFAULT 0,
  silences INTEGER NOT NULL DEFAULT 0,
  prompt TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  duration_seconds INTEGER,
  amount TEXT,
  currency TEXT,
  hangup_cause TEXT,
  call_start_time TEXT
);
CREATE INDEX voice_calls_phone ON voice_calls(phone, started_at);
CREATE TABLE voice_steps (
  session_id TEXT NOT NULL REFERENCES voice_calls(session_id),
  step INTEGER NOT NULL,
  digits TEXT,
  screen TEXT,
  caption TEXT NOT NULL,
  xml TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (session_id, step)
) WITHOUT ROWID;
CREATE TABLE voice_prompts (
  lang TEXT NOT NULL CHECK (lang IN ('fr', 'bm')),
  slot TEXT NOT NULL,
  text TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('recorded', 'synthetic', 'missing')),
  problem TEXT,
  checked_at TEXT NOT NULL,
  PRIMARY KEY (lang, slot)
) WITHOUT ROWID;
`,
  },
  {
    version: 22,
    name: 'outbound voice calls (call-backs of missed calls, reminder calls), and the reminder channel a household prefers',
    // voice_outbox: one row per call UTM places, written before the gateway is asked (as sms_outbox):
    // placed through the API (attempts, backoff), then rung (rings: unanswered reminders are rung
    // again at most twice), settled by the gateway's last notification. client_request_id is what
    // the gateway echoes in the voice callback: the /voice route finds the call (and what it must
    // say) by it. The call-back index serves the "one call-back per phone in 10 minutes" check.
    sql: `
CREATE TABLE voice_outbox (
  id INTEGER PRIMARY KEY,
  client_request_id TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  household_id INTEGER REFERENCES households(id),
  language TEXT NOT NULL CHECK (language IN ('fr', 'bm')),
  purpose TEXT NOT NULL CHECK (purpose IN ('call-back', 'reminder')),
  source_key TEXT UNIQUE,
  message_key TEXT,
  message_params TEXT,
  status TEXT NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'placing', 'ringing', 'answered', 'completed', 'no-answer', 'failed', 'expired', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  rings INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  session_id TEXT,
  outcome TEXT CHECK (outcome IN ('answered', 'unanswered', 'failed')),
  hangup_cause TEXT,
  duration_seconds INTEGER,
  cost TEXT,
  key_pressed TEXT,
  last_error TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX voice_outbox_due ON voice_outbox(next_attempt_ms) WHERE status = 'queued';
CREATE INDEX voice_outbox_session ON voice_outbox(session_id) WHERE session_id IS NOT NULL;
CREATE INDEX voice_outbox_call_backs ON voice_outbox(phone, created_ms) WHERE purpose = 'call-back';
CREATE INDEX voice_outbox_household ON voice_outbox(household_id, id);
CREATE TABLE voice_outbox_history (
  id INTEGER PRIMARY KEY,
  call_id INTEGER NOT NULL REFERENCES voice_outbox(id),
  status TEXT NOT NULL,
  detail TEXT,
  at_ms INTEGER NOT NULL
);
CREATE INDEX voice_outbox_history_call ON voice_outbox_history(call_id, id);
ALTER TABLE reminder_preferences ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'voice'));
ALTER TABLE reminder_sends ADD COLUMN call_id INTEGER REFERENCES voice_outbox(id);
`,
  },
  {
    version: 23,
    name: "members import: the checked households in columns, under the import's number",
    // The household as columns (its beneficiaries one JSON array of arrays) instead of one JSON
    // object, under a small number instead of the file's path, each row by its rowid: staging and
    // reading back 50 000 households cost a third of an import (measured). What was staged is only
    // an unconfirmed check: a confirmation after the upgrade checks its file again.
    sql: `
DROP TABLE member_import_households;
DROP TABLE member_imports;
CREATE TABLE member_imports (
  id INTEGER PRIMARY KEY,
  import_key TEXT NOT NULL UNIQUE,
  file_size INTEGER NOT NULL,
  file_mtime_ms INTEGER NOT NULL,
  today TEXT NOT NULL,
  preview TEXT
);
CREATE TABLE member_import_households (
  seq INTEGER PRIMARY KEY,
  import_id INTEGER NOT NULL,
  line INTEGER NOT NULL,
  card_number TEXT NOT NULL,
  adherent_name TEXT NOT NULL,
  phone TEXT NOT NULL,
  language TEXT NOT NULL,
  mutuelle_id TEXT NOT NULL,
  joined_on TEXT NOT NULL,
  beneficiaries TEXT NOT NULL
);
`,
  },
  {
    version: 24,
    name: 'sms outbox and campaign recipients: the same checks, written as comparisons',
    // A CHECK (x IN (a list of more than two constants)) makes SQLite look the value up in a table
    // it builds for the list; for the outbox's bulk inserts those lookups were about a third of
    // SQLite's work per row (measured: 100,000 rows in 0.61 s of CPU before, 0.33 s after). The
    // same values are allowed, each compared in turn. Rebuilt as migration 16 did it: the copy keeps
    // every row with its id, the tables referencing the outbox keep their references. A campaign's
    // send writes a campaign_recipients row beside each outbox row: its outcome check goes the same way.
    sql: `
PRAGMA defer_foreign_keys = ON;
CREATE TABLE sms_outbox_copy AS SELECT * FROM sms_outbox;
DROP TABLE sms_outbox;
CREATE TABLE sms_outbox (
  id INTEGER PRIMARY KEY,
  recipient TEXT NOT NULL,
  text TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language = 'fr' OR language = 'bm'),
  encoding TEXT NOT NULL CHECK (encoding = 'GSM-7' OR encoding = 'UCS-2'),
  segments INTEGER NOT NULL CHECK (segments BETWEEN 1 AND 6),
  kind TEXT NOT NULL CHECK (kind = 'transactional' OR kind = 'reminder' OR kind = 'campaign'),
  campaign_id INTEGER,
  priority INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status = 'queued' OR status = 'sending' OR status = 'sent' OR status = 'delivered' OR status = 'failed' OR status = 'expired'),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  transport TEXT,
  provider_message_id TEXT,
  cost TEXT,
  last_error TEXT,
  source_key TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
INSERT INTO sms_outbox SELECT * FROM sms_outbox_copy ORDER BY id;
DROP TABLE sms_outbox_copy;
CREATE UNIQUE INDEX sms_outbox_source ON sms_outbox(source_key) WHERE source_key IS NOT NULL;
CREATE INDEX sms_outbox_due ON sms_outbox(priority, next_attempt_ms, id) WHERE status = 'queued';
CREATE INDEX sms_outbox_sending ON sms_outbox(id) WHERE status = 'sending';
CREATE INDEX sms_outbox_provider ON sms_outbox(provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX sms_outbox_recipient ON sms_outbox(recipient, id);
CREATE INDEX sms_outbox_campaign ON sms_outbox(campaign_id, status) WHERE campaign_id IS NOT NULL;
CREATE TABLE campaign_recipients_copy AS SELECT * FROM campaign_recipients;
DROP TABLE campaign_recipients;
CREATE TABLE campaign_recipients (
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
  household_id INTEGER NOT NULL REFERENCES households(id),
  phone TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language = 'fr' OR language = 'bm'),
  control INTEGER NOT NULL CHECK (control = 0 OR control = 1),
  outcome TEXT NOT NULL CHECK (outcome = 'queued' OR outcome = 'control' OR outcome = 'opted-out' OR outcome = 'rejected'),
  detail TEXT,
  outbox_id INTEGER REFERENCES sms_outbox(id),
  PRIMARY KEY (campaign_id, household_id)
) WITHOUT ROWID;
INSERT INTO campaign_recipients SELECT * FROM campaign_recipients_copy;
DROP TABLE campaign_recipients_copy;
`,
  },
  {
    version: 25,
    name: 'households by phone with their mutuelle: the figures count SMS, sessions and gateway events per mutuelle',
    // The figures join every SMS, USSD session and end-of-session event of the period to the
    // household of its phone, for its mutuelle: through the phone's unique index, each of those
    // lookups then read the household's row for its mutuelle. With the mutuelle in the index the
    // lookup stops there (measured on the bench's 200,000 households: 87 ms → 53 ms for 60,000 SMS).
    sql: `CREATE INDEX households_phone_mutuelle ON households(phone, mutuelle_id);`,
  },
  {
    version: 26,
    name: 'sms outbox: the household a campaign message was queued for, instead of a campaign_recipients row beside it',
    // A campaign's send wrote two rows per member messaged: the outbox row and a campaign_recipients
    // row ('queued', the outbox id), whose insert and three foreign keys were a third of the send's
    // SQLite work. The outbox row already holds the campaign, phone and language; with the household
    // it says all the recipient row said. campaign_recipients keeps the members held out, opted out
    // or refused, and the rows of earlier sends (their outbox rows keep a NULL household: no member
    // is counted twice). The unique index keeps the recipients' one-decision-per-member key for the
    // messages.
    sql: `
ALTER TABLE sms_outbox ADD COLUMN household_id INTEGER REFERENCES households(id);
CREATE UNIQUE INDEX sms_outbox_campaign_household ON sms_outbox(campaign_id, household_id) WHERE household_id IS NOT NULL;
`,
  },
  {
    version: 27,
    name: "members import: the checked households staged a chunk per row; a beneficiary's relation checked by comparisons",
    // One row per chunk of checked households (a JSON array of them, in the file's order) instead
    // of one per household: 100 rows to write, read back and delete for 50,000 households instead
    // of 50,000, and fewer pages through the WAL (the CPU about even: the chunk's JSON instead of
    // SQLite's per-row work; README, Benchmark). What was staged is only an unconfirmed check: a
    // confirmation after the upgrade checks its file again.
    // A beneficiary's relation was checked against a list of five (SQLite then looks the value up
    // in a table it builds for the list, see migration 24); an import writes some 225,000 of them.
    // The same values are allowed, each compared in turn. Rebuilt as migration 24 did it: every
    // row keeps its id, claims keep their references to beneficiaries.
    sql: `
DROP TABLE member_import_households;
CREATE TABLE member_import_chunks (
  seq INTEGER PRIMARY KEY,
  import_id INTEGER NOT NULL,
  households TEXT NOT NULL
);
PRAGMA defer_foreign_keys = ON;
CREATE TABLE beneficiaries_copy AS SELECT * FROM beneficiaries;
DROP TABLE beneficiaries;
CREATE TABLE beneficiaries (
  id INTEGER PRIMARY KEY,
  household_id INTEGER NOT NULL REFERENCES households(id),
  name TEXT NOT NULL,
  relation TEXT NOT NULL CHECK (relation = 'adherent' OR relation = 'spouse' OR relation = 'child' OR relation = 'parent' OR relation = 'other'),
  birth_year INTEGER,
  subsidised INTEGER NOT NULL DEFAULT 0 CHECK (subsidised IN (0, 1)),
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
INSERT INTO beneficiaries SELECT * FROM beneficiaries_copy ORDER BY id;
DROP TABLE beneficiaries_copy;
CREATE INDEX beneficiaries_household ON beneficiaries(household_id);
`,
  },
  {
    version: 28,
    name: "sms outbox: one index for a campaign's messages, by household, instead of two",
    // A campaign's message was written into two indexes of the campaign: (campaign_id, status) and
    // migration 26's unique (campaign_id, household_id). One unique index on (campaign_id,
    // household_id) over every campaign message serves both: it keeps one message per member (NULL
    // households, the sends before migration 26, never collide), and finds a campaign's messages,
    // whose status is then read from the row (a pause, a resume or a cancel reads them all anyway).
    // A status change no longer moves an index entry. A campaign's insert did a quarter less work
    // (measured: 200,000 campaign rows in chunks of 2,000, CPU 1.47 s → 1.09 s, medians of 4).
    sql: `
DROP INDEX sms_outbox_campaign;
DROP INDEX sms_outbox_campaign_household;
CREATE UNIQUE INDEX sms_outbox_campaign ON sms_outbox(campaign_id, household_id) WHERE campaign_id IS NOT NULL;
`,
  },
  {
    version: 29,
    name: "sms outbox: the queue's and a phone's indexes without the id they already end with",
    // Every entry of an index ends with the row's id, and SQLite orders equal keys by it: naming
    // `id` as a last column stored it a second time in each entry of the queue's index and of a
    // phone's, without changing any order (the dispatcher's priority, time, id; a phone's messages
    // by id; the same plans, no sort). Each message written into both takes a few bytes less: 200,000
    // outbox rows inserted with 7% less CPU (measured), a bulk enqueue 2–7% faster.
    sql: `
DROP INDEX sms_outbox_due;
CREATE INDEX sms_outbox_due ON sms_outbox(priority, next_attempt_ms) WHERE status = 'queued';
DROP INDEX sms_outbox_recipient;
CREATE INDEX sms_outbox_recipient ON sms_outbox(recipient);
`,
  },
  {
    version: 30,
    name: 'voice steps appended in rowid order, each carrying where the call stands (silences, the prompt heard)',
    // A voice step wrote ~9.9 WAL pages where a USSD hop writes ~5: the call's row (its ~1.3 KB
    // prompt) rewritten by each step, and its step row inserted in a WITHOUT ROWID table whose ~1 KB
    // rows, keyed by random session ids, split leaves and fill interior pages with whole rows. Now a
    // step appends one row that carries the call's position; the call's row changes only when it ends.
    // Each call's silences and prompt move to its latest step row (voice_calls.step named it).
    sql: `
CREATE TABLE voice_steps_v30 (
  id INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES voice_calls(session_id),
  step INTEGER NOT NULL,
  digits TEXT,
  screen TEXT,
  caption TEXT NOT NULL,
  xml TEXT NOT NULL,
  at TEXT NOT NULL,
  silences INTEGER NOT NULL DEFAULT 0,
  prompt TEXT
);
INSERT INTO voice_steps_v30 (session_id, step, digits, screen, caption, xml, at, silences, prompt)
  SELECT s.session_id, s.step, s.digits, s.screen, s.caption, s.xml, s.at, COALESCE(c.silences, 0), c.prompt
  FROM voice_steps s LEFT JOIN voice_calls c ON c.session_id = s.session_id AND c.step = s.step
  ORDER BY s.at, s.session_id, s.step;
DROP TABLE voice_steps;
ALTER TABLE voice_steps_v30 RENAME TO voice_steps;
CREATE UNIQUE INDEX voice_steps_call ON voice_steps(session_id, step);
ALTER TABLE voice_calls DROP COLUMN step;
ALTER TABLE voice_calls DROP COLUMN silences;
ALTER TABLE voice_calls DROP COLUMN prompt;
`,
  },
  {
    version: 31,
    name: "sms outbox: a phone's index without campaign messages, found by their household instead",
    // A campaign writes its members' messages in household order, and every index it writes grows at
    // its end but a phone's: members' phones are in no order, so 2,000 messages a chunk dirtied
    // pages all over that index, each written to the WAL again at every commit (200,000 campaign
    // rows to phones in no order: enqueue 6.2 s against 3.8 s in household order, measured). A
    // campaign message is the household's (household_id), found through sms_outbox_campaign; a
    // phone's index keeps every other message, the campaign messages written before migration 26
    // (which have no household) among them.
    sql: `
DROP INDEX sms_outbox_recipient;
CREATE INDEX sms_outbox_recipient ON sms_outbox(recipient) WHERE campaign_id IS NULL OR household_id IS NULL;
`,
  },
  {
    version: 32,
    name: 'coverage read model: the inputs of a household coverage in one stored key',
    // A campaign's audience computes each distinct coverage once, keyed by every input of its row;
    // SQLite's format() built that key for every household of every pass (a preview and a send each
    // read all of them), about a third of a pass's read (measured). Stored, the key is built once per
    // write of the row, by SQLite from the row itself, so it cannot disagree with it. A stored
    // generated column cannot be added to a table: the table is made again, every row kept.
    sql: `
CREATE TABLE household_coverage_keyed (
  household_id INTEGER PRIMARY KEY REFERENCES households(id),
  mutuelle_id TEXT NOT NULL,
  last_paid_on TEXT,
  credit INTEGER NOT NULL CHECK (credit >= 0),
  paid_through TEXT,
  grace_until TEXT,
  episode_start TEXT,
  waiting_until TEXT,
  pending_start TEXT,
  full_count INTEGER NOT NULL,
  subsidised_count INTEGER NOT NULL,
  inactive_count INTEGER NOT NULL,
  -- The separator cannot occur in a day or a number.
  inputs_key TEXT GENERATED ALWAYS AS (format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', full_count, subsidised_count, inactive_count,
    credit, last_paid_on, paid_through, grace_until, episode_start, waiting_until, pending_start)) STORED
);
INSERT INTO household_coverage_keyed (household_id, mutuelle_id, last_paid_on, credit, paid_through, grace_until, episode_start,
  waiting_until, pending_start, full_count, subsidised_count, inactive_count)
SELECT household_id, mutuelle_id, last_paid_on, credit, paid_through, grace_until, episode_start, waiting_until, pending_start,
  full_count, subsidised_count, inactive_count FROM household_coverage ORDER BY household_id;
DROP TABLE household_coverage;
ALTER TABLE household_coverage_keyed RENAME TO household_coverage;
CREATE INDEX household_coverage_last_paid ON household_coverage(last_paid_on);
`,
  },
];

export function migrate(db: Database.Database): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  let count = 0;
  for (const m of migrations) {
    if (isApplied.get(m.version)) continue;
    // IMMEDIATE takes the write lock first, so a second process starting at the same time waits, then skips.
    db.transaction(() => {
      if (isApplied.get(m.version)) return;
      db.exec(m.sql);
      m.run?.(db);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      count++;
    }).immediate();
  }
  return count;
}

/** How many migrations this database has applied, and the latest version among them (0: none). */
export function appliedMigrations(db: Database.Database): { applied: number; latest: number } {
  return db.prepare('SELECT COUNT(*) AS applied, COALESCE(MAX(version), 0) AS latest FROM schema_migrations').get() as {
    applied: number;
    latest: number;
  };
}
