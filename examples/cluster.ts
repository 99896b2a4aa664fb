// One machine of a three-node cluster on etcd. Run it on each machine with its own NODE:
//   NODE=node-a ETCD=10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379 node --import tsx examples/cluster.ts
import { ResourceMonitor } from 'resmon';
import { ClusterMember, etcdLeases } from 'resmon/cluster';

const node = process.env.NODE ?? 'node-a';
const monitor = new ResourceMonitor();
monitor.registerType({
  name: 'writer',
  // A real type passes ctx.fencingToken with every write, so that what it writes to can refuse
  // the writes of a former owner (a lower token).
  online: (ctx) => console.log(`${node}: ${ctx.resource} online, fencing token ${ctx.fencingToken}`),
  offline: (ctx) => console.log(`${node}: ${ctx.resource} offline`),
  terminate: (ctx) => console.log(`${node}: ${ctx.resource} terminated`),
  isAlive: () => true,
});
// The unit: group "web" (db, then app on top of it). Every machine adds the same resources.
monitor.addResource({ name: 'db', type: 'writer', group: 'web' });
monitor.addResource({ name: 'app', type: 'writer', group: 'web', dependsOn: ['db'] });

const member = new ClusterMember(monitor, {
  node,
  leases: etcdLeases({ hosts: process.env.ETCD ?? '127.0.0.1:2379' }),
  ttl: Number(process.env.TTL ?? 10_000),
  preferredNodes: { web: ['node-a', 'node-b', 'node-c'] },
});
member.on('acquired', (e) => console.log(`${node}: acquired ${e.unit} (token ${e.token})`));
member.on('lost', (e) => console.log(`${node}: lost ${e.unit}: ${e.reason}`));
await member.start();
console.log(`${node}: started`);
process.once('SIGTERM', async () => {
  await member.stop(); // takes "web" offline here and releases it: another node takes over
  await monitor.close();
});
