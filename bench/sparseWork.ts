/**
 * Child process: how much more the same work costs when it comes rarely. One unit of work
 * (objects and strings, like handling a small message) runs on a timer, every 1 ms and then
 * every 10 ms, and the process's CPU time per unit is compared. On a machine whose idle cores
 * halt and lose their caches, the sparse units cost more; a server's CPU per message at low
 * load carries the same penalty. Waits for a message from the orchestrator (which pins it to
 * the servers' core first), answers `{ denseUs, sparseUs }` and exits.
 */
const UNIT_ITEMS = 300;
const WINDOW_MS = 4000;

function unitOfWork(): number {
  const items: Array<{ id: number; text: string }> = [];
  for (let i = 0; i < UNIT_ITEMS; i++) items.push({ id: i, text: `item-${i}` });
  return JSON.stringify(items).length;
}

/** CPU microseconds per unit when a unit runs every `intervalMs` for WINDOW_MS. */
function cpuPerUnit(intervalMs: number): Promise<number> {
  return new Promise((resolve) => {
    let units = 0;
    const start = process.cpuUsage();
    const timer = setInterval(() => {
      unitOfWork();
      units++;
    }, intervalMs);
    setTimeout(() => {
      clearInterval(timer);
      const used = process.cpuUsage(start);
      resolve((used.user + used.system) / units);
    }, WINDOW_MS);
  });
}

process.once('message', async () => {
  for (let i = 0; i < 3000; i++) unitOfWork(); // compiled before it is measured
  const denseUs = await cpuPerUnit(1);
  const sparseUs = await cpuPerUnit(10);
  process.send!({ denseUs, sparseUs }, () => process.exit(0));
});
