// The package as it would be published: its files, its declarations, and
// modules a browser can load as they are.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("the package", () => {
  it("npm pack holds the modules, their declarations and package.json, nothing else", async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const { stdout } = await run(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root });
    const [pack] = JSON.parse(stdout);
    assert.equal(pack.name, "@slidingjwt/client");
    assert.deepEqual(pack.files.map((f) => f.path).sort(), ["axios.d.ts", "axios.js", "client.d.ts", "client.js", "package.json"]);
  });

  it("package.json: ES modules, exports with types, Node 20, axios an optional peer, no dependencies", async () => {
    const pkg = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
    assert.equal(pkg.type, "module");
    assert.deepEqual(pkg.exports["."], { types: "./client.d.ts", default: "./client.js" });
    assert.deepEqual(pkg.exports["./axios"], { types: "./axios.d.ts", default: "./axios.js" });
    assert.equal(pkg.types, "./client.d.ts");
    assert.equal(pkg.engines.node, ">=20");
    assert.equal(pkg.dependencies, undefined);
    assert.ok(pkg.peerDependencies.axios);
    assert.equal(pkg.peerDependenciesMeta.axios.optional, true);
  });

  it("the modules import nothing but each other, and use no Node-only global, so a browser loads them as they are", async () => {
    for (const file of ["client.js", "axios.js"]) {
      const text = await readFile(path.join(root, file), "utf8");
      const code = text.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
      const specifiers = [...code.matchAll(/\bfrom\s+["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/g)].map((m) => m[1] ?? m[2]);
      for (const s of specifiers) assert.match(s, /^\.\/[\w-]+\.js$/, `${file} imports ${s}`);
      assert.doesNotMatch(code, /\b(require|process|Buffer|__dirname)\b/, `${file} uses a Node-only name`);
    }
  });

  it("a TypeScript consumer type-checks against the declarations (tsc --noEmit)", async () => {
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
    try {
      await run(process.execPath, [tsc, "-p", path.join(root, "tests", "types")], { cwd: root });
    } catch (err) {
      assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
    }
  });
});
