/**
 * A reliability scenario: run by its mocha test with small bounds (asserting the zeros), and by
 * `npm run reliability` with full bounds to write docs/reliability.md with its figures.
 */
export interface ScenarioResult {
  /** Section title in the report. */
  name: string;
  /** Figure name → value, printed as a table row each (e.g. "frames sent": 5000, "crashes": 0). */
  figures: Record<string, number | string>;
  /** Short remarks printed under the table. */
  notes?: string[];
}

/** How hard a scenario runs: `test` keeps CI fast, `report` is what the report states. */
export type Intensity = 'test' | 'report';

/** Resident memory in MiB of this process (the gateway runs in-process in most scenarios). */
export function rssMiB(): number {
  return Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
}

/** A small seeded PRNG (mulberry32), so fuzzing is reproducible from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
