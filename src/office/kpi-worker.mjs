// Entry of the worker thread that computes the office figures off the server's event loop: the
// TypeScript sources run through tsx, as in bin/sabatili.js.
import { register } from 'tsx/esm/api';

register();
await import('./kpi-thread.ts');
