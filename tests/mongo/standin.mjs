// The MongoDB-wire stand-in for acrawl's tests: CongoDB, the in-memory
// TypeScript server inside @push.rocks/smartmongo 2.2.0 (Debian has no
// MongoDB server; see docs/internals/store-mongo.md for what it gets wrong).
//
//   node standin.mjs --modules DIR [--port N] [--portfile FILE]
//
// DIR is the node_modules that setup.sh installed (in the build tree). The
// server listens on 127.0.0.1, on port N or on one the kernel picks (0, the
// default), writes the port to FILE once it accepts connections (written to
// FILE.tmp and renamed, so a reader never sees half a number), and stops
// cleanly on SIGTERM or SIGINT.
import path from 'node:path';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

function usage(msg) {
  process.stderr.write(`standin.mjs: ${msg}\n` +
    'usage: node standin.mjs --modules NODE_MODULES_DIR [--port N] [--portfile FILE]\n');
  process.exit(2);
}

const opts = { port: 0, portfile: null, modules: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const v = argv[i + 1];
  if (a === '--port' && v !== undefined) {
    opts.port = Number(v);
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage(`bad port "${v}"`);
    i++;
  } else if (a === '--portfile' && v !== undefined) {
    opts.portfile = v; i++;
  } else if (a === '--modules' && v !== undefined) {
    opts.modules = v; i++;
  } else {
    usage(`unknown argument "${a}"`);
  }
}
if (!opts.modules) usage('--modules is required');

// The package root imports mongodb-memory-server (replaced by an empty
// package, see package.json): import the server's own files instead.
const congo = path.join(path.resolve(opts.modules), '@push.rocks', 'smartmongo', 'dist_ts', 'congodb');
if (!fs.existsSync(congo)) usage(`${congo} not found: run tests/mongo/setup.sh first`);
const { CongoServer } = await import(pathToFileURL(path.join(congo, 'index.js')).href);
const { HelloHandler } = await import(pathToFileURL(path.join(congo, 'server', 'handlers', 'HelloHandler.js')).href);

// CongoDB advertises a topologyVersion in its hello reply, so monitoring
// drivers (libmongoc pools, pymongo) switch to "streaming" hello, which it
// answers at once instead of waiting: the monitor then spins at ~8,500
// hellos/s and eats half a core. Without topologyVersion they poll.
const origHandle = HelloHandler.prototype.handle;
HelloHandler.prototype.handle = async function (context) {
  const reply = await origHandle.call(this, context);
  delete reply.topologyVersion;
  return reply;
};

const server = new CongoServer({ host: '127.0.0.1', port: opts.port, storage: 'memory' });
await server.start();
// With port 0 the server's options still say 0: ask the socket.
const port = server.server.address().port;
if (opts.portfile) {
  fs.writeFileSync(opts.portfile + '.tmp', `${port}\n`);
  fs.renameSync(opts.portfile + '.tmp', opts.portfile);
}
process.stderr.write(`mongo stand-in (CongoDB) listening on 127.0.0.1:${port}\n`);

let stopping = false;
async function stop(sig) {
  if (stopping) return;
  stopping = true;
  try {
    await server.stop();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
