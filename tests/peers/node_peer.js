// The interoperability scenario, played by Node's `ws`.
//
//   node node_peer.js client PORT   runs the client's steps against ws://127.0.0.1:PORT/scenario
//   node node_peer.js server        serves the scenario on 127.0.0.1, a free port
//
// The client prints one JSON line per step, {"step": NAME, "got": SUMMARY}, and exits 0
// once every step got what it expected. The server prints {"port": N} first, then one
// {"transcript": [...]} line per connection with what it saw, and exits after two
// connections. Both roles use permessage-deflate. tests/websockets/interop/scenario.rs
// holds the scenario and the checks.
'use strict';

const { WebSocket, WebSocketServer } = require('ws');

const OVERALL_TIMEOUT_MS = 20000;
const STEP_TIMEOUT_MS = 10000;

const HELLO = 'Hello, WebSocket! \u2713';
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const LARGE_BINARY = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => i % 251));
const LARGE_TEXT = '\u2713'.repeat(349525) + 'x'; // 1 MiB of UTF-8, three-byte characters
const FRAGMENTED = Buffer.from('Gr\u00fc\u00dfe, fragmentierte Welt \u2713');
// Three text frames; the cuts fall inside the UTF-8 of "u" umlaut and of the check mark.
const FRAGMENTS = [FRAGMENTED.subarray(0, 3), FRAGMENTED.subarray(3, 29), FRAGMENTED.subarray(29)];

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function summary(data, isBinary) {
  return `${isBinary ? 'binary' : 'text'} ${data.length}`;
}

function closeSummary(code, reason) {
  return `close ${code} ${reason}`.trim();
}

function sendFragments(ws) {
  FRAGMENTS.forEach((piece, i) => {
    ws.send(piece, { binary: false, fin: i === FRAGMENTS.length - 1 });
  });
}

// Resolves with the next event `name` of `ws`, or rejects on timeout or an early close.
function next(ws, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(reject, new Error(`no ${name} in time`)), STEP_TIMEOUT_MS);
    const onEvent = (...args) => finish(resolve, args);
    const onClose = (code, reason) =>
      finish(reject, new Error(`closed while waiting for ${name}: ${code} ${reason}`));
    const finish = (settle, value) => {
      clearTimeout(timer);
      ws.off(name, onEvent);
      ws.off('close', onClose);
      settle(value);
    };
    ws.once(name, onEvent);
    if (name !== 'close') ws.once('close', onClose);
  });
}

// permessage-deflate both ways, in both roles (the client offers it by default, the
// server accepts it only when asked): ws compresses messages of 1 KiB or more.
const perMessageDeflate = true;

function open(url) {
  const ws = new WebSocket(url, {
    maxPayload: 64 << 20,
    handshakeTimeout: STEP_TIMEOUT_MS,
    perMessageDeflate,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function client(port) {
  const url = `ws://127.0.0.1:${port}/scenario`;
  let ws;
  const seenPings = [];

  async function step(name, action, expected) {
    let got;
    try {
      got = await action();
    } catch (error) {
      got = `error: ${error.message}`;
    }
    emit({ step: name, got });
    if (got !== expected) throw new Error(`step ${name} failed`);
  }

  async function echo(data, isBinary) {
    const answer = next(ws, 'message');
    ws.send(data, { binary: isBinary });
    const [received, receivedBinary] = await answer;
    const same = receivedBinary === isBinary && Buffer.from(data).equals(received);
    return `${summary(received, receivedBinary)} ${same ? 'echoed' : 'differs'}`;
  }

  async function ask(command) {
    const answer = next(ws, 'message');
    ws.send(command);
    const [received, isBinary] = await answer;
    return isBinary ? summary(received, true) : received.toString();
  }

  async function fragmentedToServer() {
    const answer = next(ws, 'message');
    sendFragments(ws);
    const [received, isBinary] = await answer;
    const same = !isBinary && FRAGMENTED.equals(received);
    return `${summary(received, isBinary)} ${same ? 'echoed' : 'differs'}`;
  }

  async function serverPings() {
    const answer = await ask('ping-me');
    return seenPings.includes('server-ping') ? answer : `${answer} (no ping seen)`;
  }

  async function clientPings() {
    const pong = next(ws, 'pong');
    ws.ping('client-ping');
    const [payload] = await pong;
    return `pong ${payload.toString()}`;
  }

  async function clientCloses() {
    const closed = next(ws, 'close');
    ws.close(4000, 'bye');
    const [code] = await closed;
    return closeSummary(code, '');
  }

  async function serverCloses() {
    const closed = next(ws, 'close');
    ws.send('close-me');
    const [code, reason] = await closed;
    return closeSummary(code, reason.toString());
  }

  try {
    ws = await open(url);
    ws.on('ping', (payload) => seenPings.push(payload.toString()));
    await step('text', () => echo(HELLO, false), 'text 21 echoed');
    await step('binary', () => echo(BINARY, true), 'binary 256 echoed');
    await step('binary-1mib', () => echo(LARGE_BINARY, true), 'binary 1048576 echoed');
    await step('text-1mib', () => echo(LARGE_TEXT, false), 'text 1048576 echoed');
    await step('fragmented-to-server', fragmentedToServer, 'text 31 echoed');
    await step('server-pings', serverPings, 'pong: server-ping');
    await step('client-pings', clientPings, 'pong client-ping');
    await step('fragmented-from-server', () => ask('fragment-me'), FRAGMENTED.toString());
    await step('client-closes', clientCloses, 'close 4000');
    ws = await open(url);
    await step('server-closes', serverCloses, 'close 4001 done');
    return 0;
  } catch (error) {
    if (ws) ws.terminate();
    if (!/^step /.test(error.message)) emit({ error: error.message });
    return 1;
  }
}

function server() {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      maxPayload: 64 << 20,
      perMessageDeflate,
    });
    let connections = 0;
    wss.on('listening', () => emit({ port: wss.address().port }));
    wss.on('connection', (ws) => {
      const seen = [];
      let closing = false;
      ws.on('message', (data, isBinary) => {
        seen.push(summary(data, isBinary));
        const text = isBinary ? null : data.toString();
        if (text === 'ping-me') {
          ws.ping('server-ping');
        } else if (text === 'fragment-me') {
          sendFragments(ws);
        } else if (text === 'close-me') {
          closing = true;
          ws.close(4001, 'done');
        } else {
          ws.send(data, { binary: isBinary });
        }
      });
      ws.on('ping', (payload) => seen.push(`ping ${payload.toString()}`));
      ws.on('pong', (payload) => {
        seen.push(`pong ${payload.toString()}`);
        ws.send(`pong: ${payload.toString()}`);
      });
      ws.on('error', (error) => seen.push(`error: ${error.message}`));
      ws.on('close', (code, reason) => {
        seen.push(closing ? `close-echoed ${code}` : `close-received ${code} ${reason}`.trim());
        emit({ transcript: seen });
        connections += 1;
        if (connections === 2) wss.close(() => resolve(0));
      });
    });
  });
}

async function main() {
  const [mode, port] = process.argv.slice(2);
  const timer = setTimeout(() => {
    emit({ error: `timed out after ${OVERALL_TIMEOUT_MS / 1000} s` });
    process.exit(3);
  }, OVERALL_TIMEOUT_MS);
  let status;
  if (mode === 'client' && port) {
    status = await client(Number(port));
  } else if (mode === 'server') {
    status = await server();
  } else {
    process.stderr.write('usage: node node_peer.js client PORT | server\n');
    status = 2;
  }
  clearTimeout(timer);
  process.exitCode = status;
}

main();
