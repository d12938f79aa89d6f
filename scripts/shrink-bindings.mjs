// Shortens the names the wasm module imports from its wasm-bindgen glue.
//
// wasm-bindgen names each import like `__wbg_addEventListener_847fd86b8c33ec43`:
// the hash makes ~90 names cost about 1.3 KB brotli in the glue and as much
// again in the wasm import section. This renames every import of the glue
// module (and the module itself), and the exports only the glue calls, to
// short names in both files, consistently, and drops the custom sections
// (tool metadata). It fails the build rather than guess: an import name not
// found exactly once in the glue, or a short name the glue already uses.
//
// Usage: node scripts/shrink-bindings.mjs path/to/x_bg.wasm path/to/x.js
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) {
  console.error("usage: shrink-bindings.mjs <module.wasm> <glue.js>");
  process.exit(2);
}
const fail = (msg) => {
  console.error(`shrink-bindings: ${msg}`);
  process.exit(1);
};

const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

function readU32(pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = wasm[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [result, pos];
  }
}
function u32(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
}
function readName(pos) {
  const [len, start] = readU32(pos);
  return [wasm.toString("utf8", start, start + len), start + len];
}
const name = (s) => {
  const bytes = Buffer.from(s, "utf8");
  return Buffer.concat([u32(bytes.length), bytes]);
};
// Skips an import's description (function, table, memory, global, tag).
function skipDesc(kind, pos) {
  const limits = (p) => {
    const flags = wasm[p++];
    [, p] = readU32(p);
    if (flags & 1) [, p] = readU32(p);
    return p;
  };
  switch (kind) {
    case 0:
      return readU32(pos)[1];
    case 1:
      return limits(pos + 1);
    case 2:
      return limits(pos);
    case 3:
      return pos + 2;
    case 4:
      return readU32(pos + 1)[1];
    default:
      return fail(`unknown import kind ${kind}`);
  }
}

// Short names: a..z, A..Z, then two characters.
const ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const short = (i) => (i < ALPHA.length ? ALPHA[i] : short(Math.floor(i / ALPHA.length) - 1) + ALPHA[i % ALPHA.length]);

if (wasm.readUInt32LE(0) !== 0x6d736100) fail(`${wasmPath} is not a wasm module`);
const parts = [wasm.subarray(0, 8)];
const renamed = new Map();
const exported = new Map();
let glueModule = null;

// Rewrites a vector section: `entry(p)` returns an entry's new bytes and
// where the next entry starts.
function rewrite(id, start, entry) {
  let [count, p] = readU32(start);
  const entries = [u32(count)];
  for (let i = 0; i < count; i++) {
    let bytes;
    [bytes, p] = entry(p);
    entries.push(...bytes);
  }
  const body = Buffer.concat(entries);
  parts.push(Buffer.from([id]), u32(body.length), body);
}

// An export: the glue alone calls these (`c.__wbindgen_malloc(...)`); the
// module's public functions keep their names.
function exportEntry(p) {
  let field;
  [field, p] = readName(p);
  const descEnd = readU32(p + 1)[1];
  if (/^(__wbindgen_|__wbg_|__externref_|wasm_bindgen__)/.test(field)) {
    exported.set(field, `_${short(exported.size)}`);
  }
  return [[name(exported.get(field) ?? field), wasm.subarray(p, descEnd)], descEnd];
}

// An import: every one from the glue module gets a short name.
function importEntry(p) {
  let module, field;
  [module, p] = readName(p);
  [field, p] = readName(p);
  const descEnd = skipDesc(wasm[p], p + 1);
  glueModule ??= module.endsWith("_bg.js") ? module : null;
  let names = [name(module), name(field)];
  if (module === glueModule) {
    if (!renamed.has(field)) renamed.set(field, short(renamed.size));
    names = [name("g"), name(renamed.get(field))];
  }
  return [[...names, wasm.subarray(p, descEnd)], descEnd];
}

let pos = 8;
while (pos < wasm.length) {
  const id = wasm[pos];
  const [size, start] = readU32(pos + 1);
  const end = start + size;
  if (id === 2) rewrite(id, start, importEntry);
  else if (id === 7) rewrite(id, start, exportEntry);
  // Custom sections (0: `producers`, `target_features`) are tool metadata
  // the browser never reads: dropped.
  else if (id !== 0) parts.push(wasm.subarray(pos, end));
  pos = end;
}
if (!glueModule) fail("no import from a wasm-bindgen glue module");

// The glue declares each import once, as a key of the import object.
const quoted = JSON.stringify(glueModule);
if (js.split(quoted).length !== 2) fail(`${quoted} is not in ${jsPath} exactly once`);
js = js.replace(quoted, '"g"');
const TOKEN = /[A-Za-z_$][A-Za-z0-9_$]*/g;
const seen = new Map();
for (const [token] of js.matchAll(TOKEN)) {
  if (renamed.has(token)) seen.set(token, (seen.get(token) ?? 0) + 1);
}
for (const field of renamed.keys()) {
  if (seen.get(field) !== 1) fail(`${field} is in ${jsPath} ${seen.get(field) ?? 0} times, not once`);
}
js = js.replace(TOKEN, (token) => renamed.get(token) ?? token);
// Exports: the glue reads them off the instance (`c.__wbindgen_malloc`) and
// names its wrappers of closure calls after them; rename every use.
const original = new Set(Array.from(js.matchAll(TOKEN), ([t]) => t));
for (const to of exported.values()) {
  if (original.has(to)) fail(`${to} is already a name in ${jsPath}`);
}
js = js.replace(TOKEN, (token) => exported.get(token) ?? token);
writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(jsPath, js);
