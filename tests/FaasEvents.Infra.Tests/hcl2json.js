// Parses one Terraform file with @cdktf/hcl2json (HashiCorp's own HCL parser, compiled to WebAssembly) and prints JSON.
const path = require("path");
const fs = require("fs");
const root = process.argv[2];
const file = process.argv[3];
const hcl = require(path.join(root, "node_modules", "@cdktf", "hcl2json"));
hcl.parse(path.basename(file), fs.readFileSync(file, "utf8"))
  .then((json) => process.stdout.write(JSON.stringify(json)))
  .catch((e) => { process.stderr.write(String(e && e.message ? e.message : e)); process.exit(1); });
