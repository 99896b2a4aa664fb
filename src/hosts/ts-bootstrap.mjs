// Development only: starts the TypeScript host program in a worker thread (Node 20 cannot
// strip types, and `--import tsx` does not reach a worker's entry module).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
