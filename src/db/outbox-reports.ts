/**
 * The outbox's reports now live with its other functions in its one owner, src/db/outbox.ts. This
 * name stays only for the two callers outside this change's area (src/http/health.ts,
 * src/office/routes.ts): once they import createOutboxStore, this file goes.
 */
export { createOutboxStore as createOutboxReports, type OutboxQueue, type SentMessage } from './outbox.ts';
