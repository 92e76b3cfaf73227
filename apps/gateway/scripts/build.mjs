// Bundles the `smpp` command into dist/smpp.mjs, which `npm start` runs: the same program as
// bin/smpp.js, without tsx's loader at run time. tsx keeps every function's name (a wrapper
// around each named closure), which cost the gateway ~40% of its throughput (measured with
// bench/Gateway.ts). Packages stay external; our workspace's are bundled from source.
import { build } from "esbuild"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = dirname(dirname(fileURLToPath(import.meta.url)))

await build({
  entryPoints: [join(root, "src", "main.ts")],
  outfile: join(root, "dist", "smpp.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  plugins: [{
    name: "external-packages",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) =>
        args.path.startsWith("@effect-smpp/") ? undefined : { path: args.path, external: true })
    }
  }]
})
