// Copies the bpmn-js viewer into webapp/static/vendor and bundles the modeler (bpmn-js,
// properties panel, Camunda moddle) from webapp/static/js/modeler-src.mjs with esbuild; copies
// Chart.js (the statistics page's charts).
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { build } from "esbuild";

const out = "webapp/static/vendor";
mkdirSync(`${out}/bpmn-js`, { recursive: true });
cpSync("node_modules/bpmn-js/dist/assets", `${out}/bpmn-js`, { recursive: true });
for (const f of ["bpmn-navigated-viewer.production.min.js", "bpmn-modeler.production.min.js"]) {
  cpSync(`node_modules/bpmn-js/dist/${f}`, `${out}/bpmn-js/${f}`);
}
mkdirSync(`${out}/chart.js`, { recursive: true });
cpSync("node_modules/chart.js/dist/chart.umd.min.js", `${out}/chart.js/chart.umd.min.js`);
cpSync("node_modules/chart.js/LICENSE.md", `${out}/chart.js/LICENSE.md`);
if (existsSync("webapp/static/js/modeler-src.mjs")) {
  mkdirSync(`${out}/modeler`, { recursive: true });
  cpSync("node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css", `${out}/modeler/properties-panel.css`);
  await build({
    entryPoints: ["webapp/static/js/modeler-src.mjs"],
    bundle: true, minify: true, format: "iife", target: "es2019",
    outfile: `${out}/modeler/modeler.js`,
    loader: { ".bpmn": "text" },
    logLevel: "warning",
  });
}
console.log("assets built into", out);
