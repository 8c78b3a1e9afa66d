// directus-sync's bridge to JavaScript config files: evaluates them and runs their hook
// functions. One process per run; one JSON request per line on stdin, one JSON answer per
// line on stdout. Hook output (console.log) goes to stderr so it cannot break the protocol.
'use strict';
const path = require('path');
const readline = require('readline');
const { createRequire } = require('module');

const protocol = process.stdout.write.bind(process.stdout);
for (const name of ['log', 'info', 'debug']) console[name] = (...args) => console.error(...args);

const functions = new Map();
let clients = new Map();

// Functions become markers the Rust side hands back to call them.
function encode(value, trail) {
  if (typeof value === 'function') {
    const id = `fn${functions.size}`;
    functions.set(id, value);
    return { __directusSyncFunction__: id, name: trail };
  }
  if (Array.isArray(value)) return value.map((v, i) => encode(v, `${trail}[${i}]`));
  if (value && typeof value === 'object' && value.constructor === Object) {
    const out = {};
    for (const [key, v] of Object.entries(value)) out[key] = encode(v, trail ? `${trail}.${key}` : key);
    return out;
  }
  return value;
}

// A client for hooks: the real @directus/sdk client when the config's folder can resolve it
// (so `client.request(readFlow(id))` works as in the original tool), otherwise one with the
// same `request` entry point for SDK-style commands and plain `{ method, path, body }`.
function client({ url, token, configDir }) {
  const key = `${url}\n${token}\n${configDir}`;
  if (clients.has(key)) return clients.get(key);
  let made;
  try {
    const sdk = createRequire(path.join(configDir, 'directus-sync.config.js'))('@directus/sdk');
    made = sdk.createDirectus(url).with(sdk.rest()).with(sdk.staticToken(token));
  } catch (_) {
    made = {
      async request(command) {
        const options = typeof command === 'function' ? command() : command;
        const query = new URLSearchParams();
        for (const [k, v] of Object.entries(options.params || {})) {
          if (v === undefined) continue;
          query.set(k, typeof v === 'object' ? (Array.isArray(v) && k !== 'filter' ? v.join(',') : JSON.stringify(v)) : String(v));
        }
        const qs = query.toString();
        const response = await fetch(`${url}${options.path}${qs ? `?${qs}` : ''}`, {
          method: options.method || 'GET',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: options.body === undefined ? undefined : (typeof options.body === 'string' ? options.body : JSON.stringify(options.body)),
        });
        const text = await response.text();
        const body = text ? JSON.parse(text) : null;
        if (!response.ok) throw Object.assign(new Error(`${options.method || 'GET'} ${options.path}: ${response.status}`), body || {});
        return body && 'data' in body ? body.data : body;
      },
    };
  }
  clients.set(key, made);
  return made;
}

async function handle(message) {
  if (message.op === 'load') {
    const loaded = require(path.resolve(message.file));
    const config = loaded && loaded.__esModule && 'default' in loaded ? loaded.default : loaded;
    return encode(await config, '');
  }
  if (message.op === 'call') {
    const fn = functions.get(message.fn);
    if (!fn) throw new Error(`unknown hook ${message.fn}`);
    // The config was evaluated with every variable, before directus-sync knew which ones its
    // `tokenEnv`/`passwordEnv` name; the hook (and what it starts) sees none of them, only the
    // instance it works on. The run may switch instances (`status`): set them on every call.
    for (const name of message.env.remove) delete process.env[name];
    Object.assign(process.env, message.env.set);
    const result = await fn(...message.args, client(message.client));
    return result === undefined ? null : result;
  }
  throw new Error(`unknown operation ${message.op}`);
}

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const message = JSON.parse(line);
  let answer;
  try {
    answer = { id: message.id, ok: await handle(message) };
  } catch (error) {
    answer = { id: message.id, error: (error && error.stack) || String(error) };
  }
  protocol(`${JSON.stringify(answer)}\n`);
});
