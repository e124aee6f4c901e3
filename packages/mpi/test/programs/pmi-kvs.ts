// Run by a process manager (mpiexec, tsmpi's own PMI server): every process puts a key, fences, reads
// every other process's key, and prints one JSON line of what it saw.
import { connectPmi } from '../../src/launcher/pmi/client.js';

const pmi = await connectPmi(process.env);
await pmi.put(`k-${pmi.rank}`, `v${pmi.rank}:${process.pid}`);
await pmi.fence();
const seen: string[] = [];
for (let r = 0; r < pmi.size; r++) seen.push((await pmi.get(`k-${r}`)).split(':')[0]!);
let missing = '';
try {
  await pmi.get('never-put');
} catch (e) {
  missing = (e as Error).name;
}
await pmi.finalize();
console.log(JSON.stringify({ version: pmi.version, rank: pmi.rank, size: pmi.size, appnum: pmi.appnum, kvs: pmi.kvsname !== '', seen, missing }));
