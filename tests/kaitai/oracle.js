"use strict";
// Kaitai oracle: parses records of real streams with the official compiler's JavaScript output and
// the official JavaScript runtime, so that our generated C# readers can be compared with an
// independent implementation of the same spec.
//
// Usage: node oracle.js [JSDIR] < requests.json > results.json
//   JSDIR (optional): JavaScript compiled in *debug* mode (`node compile.js JSDIR javascript --debug`).
//   Without it, every spec/migration/*.ksy is compiled in memory (debug mode).
//
// Request:  [{ "file": "path/of/stream", "offset": N, "type": "<ksy meta id>::<type id>",
//              "args": [..], "length": L }]
//   `args` are the type's params in order (integers as numbers or decimal strings, bools as
//   true/false). `length` is optional: the record is read from the L bytes at `offset` only (needed
//   for `-qmig-sized` types that read to the end of their input); without it, from `offset` to the
//   end of the file. Relative paths are resolved against the current directory.
// Result:   [{ "ok": true, "consumed": bytes, "fields": {..} } | { "ok": false, "error": "..." }]
//   `fields` holds every seq attribute that was read (attributes whose `if` was false are absent) in
//   seq order, then every instance, keyed by their .ksy ids:
//   - u8/s8 (any endianness) -> decimal string, read exactly (see below); other integers -> number;
//   - byte arrays (incl. `contents`) -> lowercase hex string; bool -> true/false;
//   - enum -> its numeric value; user types -> nested `fields` object; repeats -> arrays;
//   - a switch payload with no matching case -> hex string of the raw bytes.
//
// 64-bit values: the Kaitai JavaScript runtime reads u8/s8 as a JS Number (0x100000000*hi + lo),
// which silently rounds above 2^53. The oracle therefore never reports those Numbers: the spec is
// compiled in debug mode, whose `_debug` records give each attribute's start position in its
// stream, and the oracle re-reads the 8 bytes there and converts them with BigInt. Instances are
// computed by the generated code from the (possibly rounded) Numbers; so when any u8/s8 attribute
// of an object is outside the safe range (|v| > 2^53 - 1), that attribute (still reported exactly)
// and every instance of that object (reported as null instead of a possibly wrong value) are listed
// in the result's "inexact" array. Instances only see their own object's attributes and params (the
// spec subset has no _parent/_root), so objects without such a value are exact. When "inexact" is
// present, whatever the spec derives from those instances in that object (`if`, sizes, hence
// `consumed`) may also differ from an exact reader: compare such a record only as far as it is
// exact. Real QEMU streams have no such values (RAM offsets stay far below 2^53).
// A `valid` rule on a u8/s8 attribute is re-checked exactly with BigInt when its operands are
// literals (the generated JS compares rounded Numbers, so it would accept e.g. 0x0123456789ABCDEE
// for a 0x0123456789ABCDEF marker); a failure is reported like the runtime's validation errors.
// Also note that JS bitwise operators work on 32 bits: an instance such as `x & 0x3ff` is exact for
// a safe-range x, but a mask above bit 31 is not; the spec avoids such masks (ram_record.offset
// is written as `addr_flags - (addr_flags & 0x3ff)`).
const fs = require("fs");
const path = require("path");
const Module = require("module");
const KaitaiStream = require("kaitai-struct/KaitaiStream");
const { specFiles, loadKsy, compileKsy } = require("./lib");

// The 0.11 runtime's validation errors drop the (io, srcPath) arguments the generated code passes;
// keep the .ksy path of the failing attribute so that an error names it.
for (const name of Object.keys(KaitaiStream).filter((n) => /^Validation\w*Error$/.test(n))) {
  const Original = KaitaiStream[name];
  const WithPath = function (...args) {
    const e = new Original(...args);
    const last = args[args.length - 1];
    if (typeof last === "string") e.srcPath = last;
    return e;
  };
  WithPath.prototype = Original.prototype;
  KaitaiStream[name] = WithPath;
}

const SIXTY_FOUR_BIT = /^([us])8(be|le)?$/;

function upperCamel(id) {
  return id.split("_").map((p) => (p.length ? p[0].toUpperCase() + p.slice(1) : p)).join("");
}

function lowerCamel(id) {
  const u = upperCamel(id);
  return u.length ? u[0].toLowerCase() + u.slice(1) : u;
}

function loadModuleFromSource(src, filename) {
  const m = new Module(filename, module);
  m.filename = filename;
  // Resolve `kaitai-struct/KaitaiStream` from our node_modules wherever the code came from.
  m.paths = Module._nodeModulePaths(__dirname);
  m._compile(src, filename);
  return m.exports;
}

/**
 * Loads every spec: returns { byId: Map(meta id -> {cls, ksy}), specOf: Map(constructor -> {spec, endian}) }.
 */
async function loadSpecs(jsDir) {
  const byId = new Map();
  const specOf = new Map();
  for (const file of specFiles()) {
    const ksy = loadKsy(file);
    const id = ksy.meta.id;
    const className = upperCamel(id);
    let src;
    let jsName = `${className}.js`;
    if (jsDir) {
      const p = path.join(jsDir, jsName);
      src = fs.readFileSync(p, "utf8");
      jsName = p;
    } else {
      const outputs = await compileKsy("javascript", ksy, true);
      src = outputs[`${className}.js`];
      if (!src) throw new Error(`${file}: the compiler produced no ${className}.js`);
    }
    if (!/_debug/.test(src)) {
      throw new Error(`${jsName} was not compiled in debug mode; use: node compile.js DIR javascript --debug`);
    }
    const cls = loadModuleFromSource(src, path.resolve(jsName))[className];
    if (typeof cls !== "function") throw new Error(`${jsName} does not export ${className}`);
    const endian = (ksy.meta && ksy.meta.endian) || null;
    byId.set(id, { cls, ksy, endian });
    specOf.set(cls, { spec: ksy, endian, ksyPath: "" });
    registerTypes(cls, ksy.types || {}, endian, specOf, "");
  }
  return { byId, specOf };
}

function registerTypes(parentCls, types, endian, specOf, parentPath) {
  for (const [name, spec] of Object.entries(types)) {
    const cls = parentCls[upperCamel(name)];
    if (typeof cls !== "function") continue;
    const ksyPath = `${parentPath}/types/${name}`;
    specOf.set(cls, { spec, endian, ksyPath });
    registerTypes(cls, spec.types || {}, endian, specOf, ksyPath);
  }
}

function resolveType(byId, typeRef) {
  const parts = String(typeRef).split("::");
  const entry = byId.get(parts[0]);
  if (!entry) throw new Error(`unknown spec id '${parts[0]}' (known: ${[...byId.keys()].join(", ")})`);
  let cls = entry.cls;
  for (const p of parts.slice(1)) {
    const next = cls[upperCamel(p)];
    if (typeof next !== "function") throw new Error(`unknown type '${p}' in '${typeRef}'`);
    cls = next;
  }
  return cls;
}

const toHex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

function exact64(io, start, signed, littleEndian) {
  const saved = io.pos;
  io.seek(start);
  const b = io.readBytes(8);
  io.seek(saved);
  const buf = Buffer.from(b.buffer, b.byteOffset, 8);
  return (signed
    ? (littleEndian ? buf.readBigInt64LE(0) : buf.readBigInt64BE(0))
    : (littleEndian ? buf.readBigUInt64LE(0) : buf.readBigUInt64BE(0))).toString();
}

/** A literal operand of a `valid` rule as a BigInt, or null when it is an expression. */
function literal64(v) {
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : null;
  if (typeof v !== "string") return null;
  const t = v.trim().replace(/_/g, "");
  if (!/^-?(0x[0-9a-f]+|0b[01]+|0o[0-7]+|[0-9]+)$/i.test(t)) return null;
  return t.startsWith("-") ? -BigInt(t.slice(1)) : BigInt(t);
}

/** Exact re-check of a `valid` rule on a 64-bit attribute (only rules with literal operands). */
function checkValid64(attr, value, srcPath) {
  const valid = attr.valid;
  if (valid === undefined || valid === null) return;
  const rule = typeof valid === "object" && !Array.isArray(valid) ? valid : { eq: valid };
  const fail = (name, text) => {
    const e = new Error(`${text} [exact 64-bit re-check by oracle.js]`);
    e.name = name;
    e.srcPath = srcPath;
    throw e;
  };
  const eq = rule.eq !== undefined ? literal64(rule.eq) : null;
  if (eq !== null && value !== eq) fail("ValidationNotEqualError", `not equal, expected [${eq}], but got [${value}]`);
  const min = rule.min !== undefined ? literal64(rule.min) : null;
  if (min !== null && value < min) fail("ValidationLessThanError", `not in range, min [${min}], but got [${value}]`);
  const max = rule.max !== undefined ? literal64(rule.max) : null;
  if (max !== null && value > max) fail("ValidationGreaterThanError", `not in range, max [${max}], but got [${value}]`);
  if (Array.isArray(rule["any-of"])) {
    const options = rule["any-of"].map(literal64);
    if (options.every((o) => o !== null) && !options.some((o) => o === value)) {
      fail("ValidationNotAnyOfError", `not any of the list, got [${value}]`);
    }
  }
}

function isStruct(v) {
  return v !== null && typeof v === "object" && v._io instanceof KaitaiStream;
}

/** Serialises one parsed object into a fields map (see the header comment). */
function fieldsOf(obj, specOf, pathPrefix, inexact) {
  const entry = specOf.get(obj.constructor);
  if (!entry) throw new Error(`no spec known for ${obj.constructor && obj.constructor.name}`);
  const { spec, endian, ksyPath } = entry;
  const out = {};
  let unsafe = false;
  (spec.seq || []).forEach((attr, index) => {
    if (attr.id === undefined) return;
    const js = lowerCamel(attr.id);
    const value = obj[js];
    if (value === undefined) return;
    const m = typeof attr.type === "string" ? SIXTY_FOUR_BIT.exec(attr.type) : null;
    if (m) {
      const signed = m[1] === "s";
      const le = (m[2] || endian) === "le";
      const dbg = obj._debug && obj._debug[js];
      if (!dbg) throw new Error(`no _debug position for ${attr.id}`);
      const exact = (v, start, p) => {
        const text = exact64(obj._io, start, signed, le);
        checkValid64(attr, BigInt(text), `${ksyPath}/seq/${index}`);
        if (!Number.isSafeInteger(v)) {
          unsafe = true;
          inexact.push(p);
        }
        return text;
      };
      out[attr.id] = Array.isArray(value)
        ? value.map((v, i) => exact(v, dbg.arr[i].start, `${pathPrefix}${attr.id}.${i}`))
        : exact(value, dbg.start, `${pathPrefix}${attr.id}`);
      return;
    }
    out[attr.id] = convert(value, specOf, `${pathPrefix}${attr.id}`, inexact);
  });
  for (const [id] of Object.entries(spec.instances || {})) {
    const p = `${pathPrefix}${id}`;
    if (unsafe) {
      out[id] = null;
      inexact.push(p);
      continue;
    }
    out[id] = convert(obj[lowerCamel(id)], specOf, p, inexact);
  }
  return out;
}

function convert(value, specOf, p, inexact) {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map((v, i) => convert(v, specOf, `${p}.${i}`, inexact));
  if (isStruct(value)) return fieldsOf(value, specOf, `${p}.`, inexact);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      inexact.push(p);
      return null;
    }
    return value;
  }
  if (typeof value === "boolean" || typeof value === "string") return value;
  throw new Error(`cannot serialise ${p}: ${typeof value}`);
}

function errorText(e) {
  if (e && e.name && e.message !== undefined) {
    // Validation errors of the runtime carry the failing attribute's path in the .ksy.
    return e.srcPath ? `${e.name}: ${e.message} (at ${e.srcPath})` : `${e.name}: ${e.message}`;
  }
  return String(e);
}

function parseUnchecked(req, specs, fileCache) {
  if (!req || typeof req !== "object") throw new Error("a request must be an object");
  const { file, type } = req;
  if (typeof file !== "string") throw new Error("request.file must be a string");
  if (typeof type !== "string") throw new Error("request.type must be a string like 'migration_stream::section_footer'");
  const offset = Number(req.offset || 0);
  let data = fileCache.get(file);
  if (!data) {
    data = fs.readFileSync(path.resolve(file));
    fileCache.set(file, data);
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > data.length) {
    throw new Error(`offset ${req.offset} is outside the file (${data.length} bytes)`);
  }
  let end = data.length;
  if (req.length !== undefined && req.length !== null) {
    const len = Number(req.length);
    if (!Number.isSafeInteger(len) || len < 0 || offset + len > data.length) {
      throw new Error(`length ${req.length} at offset ${offset} is outside the file (${data.length} bytes)`);
    }
    end = offset + len;
  }
  const cls = resolveType(specs.byId, type);
  const args = (req.args || []).map((a, i) => {
    const n = typeof a === "string" && /^-?\d+$/.test(a) ? Number(a) : a;
    if (typeof n === "number" && !Number.isSafeInteger(n)) throw new Error(`args[${i}] (${a}) is not an integer within 2^53`);
    return n;
  });
  // A DataView limits the stream to [offset, end) without copying the file.
  const io = new KaitaiStream(new DataView(data.buffer, data.byteOffset + offset, end - offset));
  const obj = new cls(io, null, null, ...args);
  obj._read();
  const inexact = [];
  const fields = fieldsOf(obj, specs.specOf, "", inexact);
  const result = { ok: true, consumed: io.pos, fields };
  if (inexact.length) result.inexact = inexact;
  return result;
}

/** Parses one request; never throws: any failure becomes { ok: false, error }. */
function parseOne(req, specs, fileCache) {
  try {
    return parseUnchecked(req, specs, fileCache);
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}

async function main() {
  const jsDir = process.argv[2];
  const input = fs.readFileSync(0, "utf8");
  let requests;
  try {
    requests = JSON.parse(input);
  } catch (e) {
    console.error(`stdin is not JSON: ${e.message}`);
    return 2;
  }
  if (!Array.isArray(requests)) {
    console.error("stdin must be a JSON array of requests");
    return 2;
  }
  const specs = await loadSpecs(jsDir);
  const fileCache = new Map();
  const results = requests.map((req) => parseOne(req, specs, fileCache));
  process.stdout.write(JSON.stringify(results) + "\n");
  return 0;
}

module.exports = { loadSpecs, parseOne };

if (require.main === module) {
  main().then((code) => { process.exitCode = code; }, (e) => { console.error(e && e.stack || String(e)); process.exitCode = 1; });
}
