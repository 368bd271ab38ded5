/** The machine's penalty for sparse work, measured on the servers' core (see ../sparseWork.ts). */
import { join } from 'node:path';
import type { ProcessGroup } from './processes.js';

export interface SparseWork {
  /** CPU µs per unit of work run every 1 ms. */
  denseUs: number;
  /** CPU µs per unit of the same work run every 10 ms. */
  sparseUs: number;
}

export function measureSparseWork(group: ProcessGroup, buildDir: string): Promise<SparseWork> {
  return group.measureOnServerCore<SparseWork>('sparse-work', join(buildDir, 'sparseWork.js'));
}
