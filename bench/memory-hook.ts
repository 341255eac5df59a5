// Loaded into Keyward by the memory bench only (`node --expose-gc --import
// ./bench/memory-hook.ts src/main.ts`): on SIGUSR2, a full collection, then
// one stdout line with process.memoryUsage(), so the bench reads what is live
// rather than garbage not yet collected. Keyward itself never exposes gc.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("bench/memory-hook.ts needs node --expose-gc");

process.on("SIGUSR2", () => {
  // Twice: the first pass can leave objects that only the next one frees (weak references, finalizers).
  gc();
  gc();
  process.stdout.write(`bench-memory ${JSON.stringify(process.memoryUsage())}\n`);
});
