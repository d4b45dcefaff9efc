export { blobSpoolStore, DEAD_LETTER_CONTAINER, SPOOL_CONTAINER } from './blob-spool-store.js';
export { spoolReplayer, type ReplayReport, type SpoolReplayer } from './replay-spool.js';
export { REPLAY_BUDGET_MS, spoolFor, type Spool } from './spool-for.js';
export { SpoolGauge, type SpoolStats } from './spool-gauge.js';
export type { SpoolEntry, SpooledItem, SpoolLease, SpoolStore } from './spool-store.js';
export { withSpool } from './with-spool.js';
