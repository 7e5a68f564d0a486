// A loopback TCP proxy that delays every chunk by half a round trip in each direction, so benchmarks can be run
// at a real network's latency on one machine: `startDelayProxy({ port, rttMs })` listens on 127.0.0.1 (a free
// port from the OS unless DELAY_PROXY_PORT is set) and forwards to 127.0.0.1:`port`. Order is kept (every chunk
// waits the same time). Standalone: `node scripts/delay-proxy.mjs TARGET_PORT RTT_MS` prints the port it listens on.
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** One direction of a connection: chunks written to `to` `delay` ms after they arrived, in order. */
function delayed(from, to, delay) {
  from.on('data', (chunk) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delay);
  });
  from.on('end', () => setTimeout(() => to.end(), delay));
  from.on('error', () => to.destroy());
}

export function startDelayProxy({ port, rttMs, host = '127.0.0.1' }) {
  const half = rttMs / 2;
  const sockets = new Set();
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect({ host, port }, () => upstream.setNoDelay(true));
    sockets.add(client).add(upstream);
    delayed(client, upstream, half);
    delayed(upstream, client, half);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', forget);
    upstream.on('close', forget);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(process.env.DELAY_PROXY_PORT ?? 0), '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [target, rtt] = process.argv.slice(2).map(Number);
  if (!target || !Number.isFinite(rtt)) {
    console.error('usage: node scripts/delay-proxy.mjs TARGET_PORT RTT_MS');
    process.exit(2);
  }
  // No top-level await: the benchmark (TypeScript run as CommonJS) imports this file too.
  void startDelayProxy({ port: target, rttMs: rtt }).then((proxy) => {
    console.log(`delaying 127.0.0.1:${proxy.port} -> 127.0.0.1:${target} by ${rtt} ms per round trip`);
  });
}
