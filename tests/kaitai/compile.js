"use strict";
// Usage: node compile.js OUTDIR [LANG] [--debug] [SPEC.ksy ...]
// Compiles every spec/migration/*.ksy (or only the SPEC.ksy files named) with the official Kaitai
// Struct compiler (default target javascript) into OUTDIR, printing one line per spec file. --debug turns on the compiler's debug
// mode (`_debug` positions; constructors do not call `_read()`), which oracle.js needs. Any error (YAML or compiler) prints the
// file name and the compiler's message and makes the exit code non-zero; the other files are still
// tried so that one run reports every broken file.
const fs = require("fs");
const path = require("path");
const { specFiles, loadKsy, compileKsy, repoRoot } = require("./lib");

async function main() {
  const argv = process.argv.slice(2);
  const debug = argv.includes("--debug");
  const positional = argv.filter((a) => a !== "--debug");
  const named = positional.filter((a) => a.endsWith(".ksy"));
  const [outDir, lang = "javascript"] = positional.filter((a) => !a.endsWith(".ksy"));
  if (!outDir || argv.some((a) => a.startsWith("--") && a !== "--debug")) {
    console.error("usage: node compile.js OUTDIR [LANG] [--debug] [SPEC.ksy ...]");
    return 2;
  }
  const files = named.length ? named.map((f) => path.resolve(f)) : specFiles();
  if (files.length === 0) {
    console.error("no spec/migration/*.ksy files found");
    return 1;
  }
  fs.mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const file of files) {
    const rel = path.relative(repoRoot, file);
    try {
      const outputs = await compileKsy(lang, loadKsy(file), debug);
      const names = Object.keys(outputs).sort();
      for (const name of names) {
        const target = path.join(outDir, name);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, outputs[name]);
      }
      console.log(`ok ${rel} -> ${names.join(", ")}`);
    } catch (e) {
      failed++;
      console.error(`error ${rel}: ${e.message}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e && e.stack || String(e)); process.exitCode = 1; });
