// Headless Chromium against our server, driven over the Chrome DevTools Protocol with
// nothing but Node's built-ins and `ws`.
//
//   node browser_echo.js page PORT MESSAGE   loads http://127.0.0.1:PORT/ (the example's
//       page), waits for "connected", types MESSAGE, clicks Send, and waits for the
//       echo in the page's log; prints {"status": ..., "echo": ...}
//   node browser_echo.js scenario PORT       runs the browser's share of the scenario
//       (tests/websockets/interop/scenario.rs) from that page against
//       ws://127.0.0.1:PORT/scenario; prints one {"step", "got"} line per step
//
// Chromium runs with a fresh profile and is killed on every way out, timeouts included.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { WebSocket } = require('ws');

const OVERALL_TIMEOUT_MS = 25000;
const CHROMIUM = '/usr/bin/chromium';

let chromium = null;
let profile = null;
let cdp = null;

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

// Progress on stderr, which the tests show when they fail: a slow step stands out.
const started = Date.now();
function trace(what) {
  process.stderr.write(`browser_echo: +${Date.now() - started} ms: ${what}\n`);
}

// Last resort, from the 'exit' handler: synchronous, so it cannot wait for Chromium.
function cleanUpNow() {
  if (chromium && chromium.exitCode === null && chromium.signalCode === null) {
    chromium.kill('SIGKILL');
  }
  removeProfile();
}

// Asks Chromium to close (so that it ends its helper processes, which otherwise go on
// writing to the profile for a moment), kills it if it does not, then removes the profile.
async function cleanUp() {
  trace('closing chromium');
  if (chromium && chromium.exitCode === null && chromium.signalCode === null) {
    const exited = new Promise((resolve) => chromium.once('exit', resolve));
    const within = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());
    if (cdp) await Promise.race([cdp.send('Browser.close').catch(() => {}), within(2000)]);
    if (await Promise.race([exited.then(() => true), within(5000)]) !== true) {
      chromium.kill('SIGKILL');
      await Promise.race([exited, within(2000)]);
    }
  }
  removeProfile();
  trace('cleaned up');
}

function removeProfile() {
  if (!profile) return;
  try {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (error) {
    process.stderr.write(`could not remove ${profile}: ${error.message}\n`);
  }
  profile = null;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Starts Chromium and resolves with its browser-level DevTools WebSocket URL.
function launch() {
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'websockets-chromium-'));
  chromium = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--disable-dev-shm-usage',
      '--no-proxy-server',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let stderr = '';
    chromium.once('error', reject);
    chromium.once('exit', (code, signal) =>
      reject(new Error(`chromium exited (${code ?? signal}) before DevTools listened: ${stderr.slice(-2000)}`)),
    );
    chromium.stderr.setEncoding('utf8');
    chromium.stderr.on('data', (chunk) => {
      stderr += chunk;
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (found) resolve(found[1]);
    });
  });
}

// A minimal CDP client: numbered commands, answers matched by id.
class Cdp {
  constructor(url) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 << 20 });
    this.nextId = 1;
    this.waiting = new Map();
    this.ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      const pending = this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id);
      if (message.error) pending.reject(new Error(`${pending.method}: ${message.error.message}`));
      else pending.resolve(message.result);
    });
    this.ws.on('close', () => {
      for (const pending of this.waiting.values()) pending.reject(new Error('DevTools connection closed'));
      this.waiting.clear();
    });
  }

  opened() {
    return new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
  }

  send(method, params = {}, sessionId = undefined) {
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`${method}: DevTools not connected`));
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject, method }));
  }

  close() {
    this.ws.terminate();
  }
}

async function openPage(cdp, url) {
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const page = {
    send: (method, params) => cdp.send(method, params, sessionId),
    async evaluate(expression, awaitPromise = false) {
      const { result, exceptionDetails } = await page.send('Runtime.evaluate', {
        expression,
        awaitPromise,
        returnByValue: true,
      });
      if (exceptionDetails) {
        const text = exceptionDetails.exception?.description ?? exceptionDetails.text;
        throw new Error(`page threw: ${text}`);
      }
      return result.value;
    },
    async waitFor(expression, expected, what) {
      let last;
      for (let i = 0; i < 200; i++) {
        last = await page.evaluate(expression);
        if (last === expected) return last;
        await sleep(50);
      }
      throw new Error(`${what}: still ${JSON.stringify(last)}, wanted ${JSON.stringify(expected)}`);
    },
  };
  await page.send('Page.enable');
  await page.send('Runtime.enable');
  const { errorText } = await page.send('Page.navigate', { url });
  if (errorText) throw new Error(`navigation to ${url} failed: ${errorText}`);
  await page.waitFor("document.querySelector('#status')?.textContent", 'connected', 'page status');
  return page;
}

// Types `message` into the page's input and clicks Send, as a person would.
async function typeAndSend(page, message) {
  await page.evaluate("document.querySelector('#message').focus()");
  await page.send('Input.insertText', { text: message });
  const box = await page.evaluate(
    "(() => { const r = document.querySelector('#send').getBoundingClientRect();" +
      ' return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()',
  );
  for (const type of ['mousePressed', 'mouseReleased']) {
    await page.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
  }
}

// Runs in the page: the browser's share of the scenario. A browser cannot send pings or
// choose its frames, so those steps are left to the other peers.
async function scenarioInPage(url) {
  const STEP_TIMEOUT_MS = 10000;
  const encoder = new TextEncoder();
  const HELLO = 'Hello, WebSocket! \u2713';
  const BINARY = Uint8Array.from({ length: 256 }, (_, i) => i);
  const LARGE_BINARY = Uint8Array.from({ length: 1 << 20 }, (_, i) => i % 251);
  const LARGE_TEXT = '\u2713'.repeat(349525) + 'x';
  const FRAGMENTED = 'Gr\u00fc\u00dfe, fragmentierte Welt \u2713';
  const report = [];

  const open = () =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error('websocket error while opening'));
    });
  const next = (ws, type) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} in time`)), STEP_TIMEOUT_MS);
      ws.addEventListener(type, (event) => { clearTimeout(timer); resolve(event); }, { once: true });
      if (type !== 'close') {
        ws.addEventListener('close', (event) => {
          clearTimeout(timer);
          reject(new Error(`closed while waiting for ${type}: ${event.code}`));
        }, { once: true });
      }
    });
  const summary = (data) =>
    typeof data === 'string' ? `text ${encoder.encode(data).length}` : `binary ${data.byteLength}`;
  const same = (a, b) => {
    if (typeof a === 'string' || typeof b === 'string') return a === b;
    const x = new Uint8Array(a);
    return x.length === b.length && x.every((byte, i) => byte === b[i]);
  };
  const echo = async (ws, data) => {
    const answer = next(ws, 'message');
    ws.send(data);
    const { data: received } = await answer;
    return `${summary(received)} ${same(received, data) ? 'echoed' : 'differs'}`;
  };
  const ask = async (ws, command) => {
    const answer = next(ws, 'message');
    ws.send(command);
    const { data } = await answer;
    return typeof data === 'string' ? data : summary(data);
  };
  const closeSummary = (event) => `close ${event.code} ${event.reason}`.trim() + (event.wasClean ? '' : ' (unclean)');
  const step = async (name, action, expected) => {
    let got;
    try {
      got = await action();
    } catch (error) {
      got = `error: ${error.message}`;
    }
    report.push({ step: name, got });
    if (got !== expected) throw new Error(`step ${name} failed`);
  };

  let ws;
  try {
    ws = await open();
    await step('text', () => echo(ws, HELLO), 'text 21 echoed');
    await step('binary', () => echo(ws, BINARY), 'binary 256 echoed');
    await step('binary-1mib', () => echo(ws, LARGE_BINARY), 'binary 1048576 echoed');
    await step('text-1mib', () => echo(ws, LARGE_TEXT), 'text 1048576 echoed');
    await step('server-pings', () => ask(ws, 'ping-me'), 'pong: server-ping');
    await step('fragmented-from-server', () => ask(ws, 'fragment-me'), FRAGMENTED);
    await step('client-closes', async () => {
      const closed = next(ws, 'close');
      ws.close(4000, 'bye');
      const event = await closed;
      // The reason of the answering Close is the server's choice; the code is not.
      return closeSummary({ code: event.code, reason: '', wasClean: event.wasClean });
    }, 'close 4000');
    ws = await open();
    await step('server-closes', async () => {
      const closed = next(ws, 'close');
      ws.send('close-me');
      return closeSummary(await closed);
    }, 'close 4001 done');
  } catch (error) {
    report.push({ error: error.message });
  }
  return report;
}

async function main() {
  const [mode, port, message] = process.argv.slice(2);
  if (!['page', 'scenario'].includes(mode) || !port || (mode === 'page' && !message)) {
    process.stderr.write('usage: node browser_echo.js page PORT MESSAGE | scenario PORT\n');
    return 2;
  }
  const devtools = await launch();
  trace(`chromium listens at ${devtools}`);
  cdp = new Cdp(devtools);
  await cdp.opened();
  const page = await openPage(cdp, `http://127.0.0.1:${port}/`);
  trace('the page says connected');
  if (mode === 'page') {
    await typeAndSend(page, message);
    trace('typed and clicked Send');
    const echo = await page.waitFor(
      "document.querySelector('#log li.echo')?.textContent",
      `Echo: ${message}`,
      'echo in the log',
    );
    const status = await page.evaluate("document.querySelector('#status').textContent");
    emit({ status, echo });
    return 0;
  }
  const url = `ws://127.0.0.1:${port}/scenario`;
  const report = await page.evaluate(`(${scenarioInPage.toString()})(${JSON.stringify(url)})`, true);
  trace('the scenario ran');
  report.forEach(emit);
  return report.some((line) => line.error) ? 1 : 0;
}

const timer = setTimeout(async () => {
  emit({ error: `timed out after ${OVERALL_TIMEOUT_MS / 1000} s` });
  await cleanUp();
  process.exit(3);
}, OVERALL_TIMEOUT_MS);
process.on('exit', cleanUpNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanUpNow();
    process.exit(128);
  });
}

main()
  .then((status) => {
    process.exitCode = status;
  })
  .catch((error) => {
    emit({ error: error.message });
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(timer);
    await cleanUp();
    if (cdp) cdp.close();
  });
