/** The machine's penalty for sparse work, measured on the servers' core (see ../sparseWork.ts). */
import { once } from 'node:events';
import { join } from 'node:path';
import type { ProcessGroup } from './processes.js';

export interface SparseWork {
  /** CPU µs per unit of work run every 1 ms. */
  denseUs: number;
  /** CPU µs per unit of the same work run every 10 ms. */
  sparseUs: number;
}

export async function measureSparseWork(group: ProcessGroup, buildDir: string): Promise<SparseWork> {
  const child = group.fork('sparse-work', join(buildDir, 'sparseWork.js'));
  group.placeServer(child);
  const answer = once(child.proc, 'message');
  child.proc.send('start');
  const [result] = (await answer) as [SparseWork];
  return result;
}
