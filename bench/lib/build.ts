/**
 * Before a run: the gateway's `dist/` must be built from the current `src/` (rebuilt when
 * older), and the benchmark's own child processes are compiled to plain JS (bench/.build) so
 * that no TypeScript loader runs inside a measured process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

/** Newest modification time of the files under `dir` matching `ext`. */
function newestMtime(dir: string, ext: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export interface GatewayBuild {
  /** `fresh`: dist was newer than src; `rebuilt`; `stale`: the build failed and an older dist is used. */
  state: 'fresh' | 'rebuilt' | 'stale';
  note?: string;
  /** The commit measured, read before the run (src/ edited during a run does not reach dist/). */
  revision: string;
}

export function gitRevision(root: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

/** Runs `npm run build` when dist/main.js is missing or older than a file of src/. */
export function ensureGatewayBuilt(root: string, log: (line: string) => void): GatewayBuild {
  const main = join(root, 'dist', 'main.js');
  const revision = gitRevision(root);
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(root, 'src'), '.ts')) return { state: 'fresh', revision };
  log('building the gateway (npm run build)...');
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    return { state: 'rebuilt', revision };
  } catch (e) {
    const output = String((e as { stdout?: Buffer }).stdout ?? '') + String((e as { stderr?: Buffer }).stderr ?? '');
    // tsc still emits on type errors; only a missing dist stops the run.
    if (!existsSync(main)) throw new Error(`npm run build failed and there is no dist/main.js:\n${output}`);
    const note = `npm run build reported errors; dist/ may not match src/: ${output.split('\n').slice(0, 5).join(' | ')}`;
    log(`WARNING: ${note}`);
    return { state: 'stale', note, revision };
  }
}

/** Compiles every bench/**\/*.ts (except the orchestrator's own) to bench/.build/**\/*.js. */
export async function compileBench(benchDir: string): Promise<string> {
  const outdir = join(benchDir, '.build');
  const entryPoints: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'results') walk(path);
      else if (entry.name.endsWith('.ts')) entryPoints.push(relative(process.cwd(), path));
    }
  };
  walk(benchDir);
  await build({ entryPoints, outdir, outbase: benchDir, format: 'esm', platform: 'node', target: 'node24', logLevel: 'warning' });
  return outdir;
}
