"use strict";
// Shared helpers for compile.js, oracle.js and check-spec.js: find the spec files, load them with
// js-yaml and run the official Kaitai Struct compiler (npm kaitai-struct-compiler, pinned in
// package-lock.json) on them.
const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");
const ksc = require("kaitai-struct-compiler");

const repoRoot = path.resolve(__dirname, "..", "..");
const specDir = path.join(repoRoot, "spec", "migration");

/** Every spec/migration/*.ksy, sorted, as absolute paths. */
function specFiles() {
  return fs.readdirSync(specDir)
    .filter((n) => n.endsWith(".ksy"))
    .sort()
    .map((n) => path.join(specDir, n));
}

/** Parses one .ksy with js-yaml; a YAML error becomes an Error naming the file. */
function loadKsy(file) {
  const text = fs.readFileSync(file, "utf8");
  try {
    return yaml.load(text, { filename: file });
  } catch (e) {
    throw new Error(`${file}: YAML error: ${e.message}`);
  }
}

// Our spec files are standalone (no `imports`): an import is an error, not a file lookup.
const importer = {
  importYaml(name, mode) {
    return Promise.reject(new Error(`imports are not allowed in spec files (tried to import '${name}', mode ${mode})`));
  },
};

/** The compiler's own message (CompilationProblemException keeps it in a Scala.js field). */
function compilerMessage(e) {
  if (e === null || e === undefined) return String(e);
  if (typeof e.getMessage__T === "function") {
    try {
      const m = e.getMessage__T();
      if (m) return String(m).trim();
    } catch (_) { /* fall through */ }
  }
  if (typeof e.jl_Throwable__f_s === "string") return e.jl_Throwable__f_s.trim();
  if (e.message) return String(e.message).trim();
  return String(e).trim();
}

/**
 * Compiles one loaded .ksy. Resolves to {filename: source}. debug=true makes the compiler emit
 * `_debug` position records (and constructors that do not call `_read()`).
 */
function compileKsy(lang, ksyObject, debug) {
  return Promise.resolve()
    .then(() => ksc.compile(lang, ksyObject, importer, !!debug))
    .catch((e) => { throw new Error(compilerMessage(e)); });
}

module.exports = { repoRoot, specDir, specFiles, loadKsy, compileKsy, compilerMessage, yaml };
