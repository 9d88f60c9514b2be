// A closed loop: `inFlight` workers each await one operation after another until the time is up.
// Client CPU (user + system, this process) is read with process.cpuUsage around the loop.

export async function closedLoop(seconds, inFlight, op) {
  let ops = 0;
  let n = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await op(n++);
        ops++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { opsPerSec: ops / elapsed, cpuUsPerOp: (cpu.user + cpu.system) / ops, ops };
}
