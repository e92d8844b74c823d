// Copy the files the operator page imports out of an `npm ci` of apps/gateway/ui/package.json: its
// "vendor" field maps each served name (/ui/vendor/<name>) to its path inside node_modules. Used by
// tools/ui/install (make setup) and the Dockerfile, so both ship the same files.
//   node tools/ui/vendor.mjs <package.json> <node_modules> <out-dir>
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [packageFile, modules, out] = process.argv.slice(2);
if (!packageFile || !modules || !out) {
  console.error("usage: node tools/ui/vendor.mjs <package.json> <node_modules> <out-dir>");
  process.exit(2);
}
const { vendor } = JSON.parse(readFileSync(packageFile, "utf8"));
mkdirSync(out, { recursive: true });
for (const [name, from] of Object.entries(vendor)) {
  copyFileSync(join(modules, from), join(out, name));
  console.log(`[ui] ${from} -> ${join(out, name)}`);
}
