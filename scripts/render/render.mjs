// Renders a `diff --format markdown` file about the way GitHub shows a pull-request comment
// (GitHub's Markdown CSS, alerts such as > [!CAUTION], <details>, Mermaid blocks drawn) and
// screenshots it with headless Chromium. Run through scripts/render-markdown, which installs
// what this needs.
//
//   node render.mjs INPUT.md OUTPUT.png [--html OUTPUT.html] [--open] [--width PX]
//
// INPUT may be an insta snapshot (.snap): its header is dropped. --open unfolds every
// <details> section (GitHub shows them folded), so that the picture shows what they hold.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { marked } from "marked";
import markedAlert from "marked-alert";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

function usage(message) {
  console.error(`render.mjs: ${message}\nusage: node render.mjs INPUT.md OUTPUT.png [--html OUTPUT.html] [--open] [--width PX]`);
  process.exit(2);
}

const positional = [];
const options = { html: null, open: false, width: 900 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  switch (args[i]) {
    case "--html":
      options.html = args[++i] ?? usage("--html needs a file");
      break;
    case "--open":
      options.open = true;
      break;
    case "--width":
      options.width = Number(args[++i]);
      if (!Number.isInteger(options.width) || options.width < 200) usage("--width needs a number of pixels");
      break;
    default:
      if (args[i].startsWith("--")) usage(`unknown option ${args[i]}`);
      positional.push(args[i]);
  }
}
if (positional.length !== 2) usage("needs an input and an output file");
const [input, output] = positional;

let markdown = readFileSync(input, "utf8");
// An insta snapshot starts with a `---` header block.
if (input.endsWith(".snap") && markdown.startsWith("---\n")) {
  markdown = markdown.slice(markdown.indexOf("\n---\n", 3) + 5);
}

const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
marked.use(markedAlert(), {
  gfm: true,
  renderer: {
    // Mermaid draws the text of a <pre class="mermaid"> in place, as GitHub does.
    code({ text, lang }) {
      return lang === "mermaid" ? `<pre class="mermaid">${escape(text)}</pre>\n` : false;
    },
  },
});
const body = marked.parse(markdown);
const css = readFileSync(require.resolve("github-markdown-css/github-markdown-light.css"), "utf8");
const mermaidJs = readFileSync(require.resolve("mermaid/dist/mermaid.min.js"), "utf8");

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>directus-sync diff</title>
<style>
${css}
body { margin: 0; background: #f6f8fa; }
.comment { box-sizing: border-box; max-width: ${options.width}px; margin: 16px; border: 1px solid #d1d9e0;
           border-radius: 6px; background: #fff; }
.comment-header { padding: 8px 16px; border-bottom: 1px solid #d1d9e0; background: #f6f8fa; color: #59636e;
                  font: 14px -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
.markdown-body { padding: 16px; }
.markdown-body pre.mermaid { background: #fff; text-align: center; }
</style>
</head>
<body>
<div class="comment">
<div class="comment-header"><b>directus-sync</b> commented</div>
<article class="markdown-body">
${body}
</article>
</div>
<script>${mermaidJs.replace(/<\/script/gi, "<\\/script")}</script>
<script>
  ${options.open ? 'document.querySelectorAll("details").forEach((d) => { d.open = true; });' : ""}
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
  mermaid.run({ querySelector: "pre.mermaid" }).then(
    () => { window.rendered = "ok"; },
    (error) => { window.rendered = "Mermaid: " + (error && error.message || error); },
  );
</script>
</body>
</html>
`;
if (options.html) writeFileSync(options.html, html);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  // Root in a container has no user namespace for Chromium's sandbox.
  args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
});
try {
  const page = await browser.newPage({
    viewport: { width: options.width + 32, height: 600 },
    deviceScaleFactor: 2,
  });
  await page.setContent(html, { waitUntil: "load" });
  await page.waitForFunction(() => window.rendered !== undefined, null, { timeout: 30000 });
  const rendered = await page.evaluate(() => window.rendered);
  if (rendered !== "ok") throw new Error(rendered);
  const drawn = await page.locator("pre.mermaid svg").count();
  const blocks = await page.locator("pre.mermaid").count();
  if (drawn !== blocks) throw new Error(`Mermaid drew ${drawn} of ${blocks} diagrams`);
  await page.locator(".comment").screenshot({ path: output });
  console.log(`${output}: ${blocks} Mermaid diagram(s) drawn`);
} finally {
  await browser.close();
}
