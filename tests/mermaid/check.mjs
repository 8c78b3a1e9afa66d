// Runs Mermaid's own parser (the one GitHub and GitLab render with) on diagrams:
//
//   node check.mjs FILE...
//
// A FILE ending in `.md` holds Markdown: each of its ```mermaid blocks is checked, and a
// Markdown file without one fails (a test that meant to check a picture must not pass on
// none). Any other FILE, or `-` for stdin, is one diagram. Exits 1 naming each diagram the
// parser rejects, with the parser's message; prints one `ok` line per diagram otherwise.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

// Mermaid sanitises labels with DOMPurify, which needs a window when it is first imported.
const { window } = new JSDOM("");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

/** The ```mermaid blocks of a Markdown text, with the line each starts on. */
function blocks(markdown) {
  const found = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```mermaid") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== "```") end++;
    if (end === lines.length) {
      found.push({ line: start, text: null });
      break;
    }
    found.push({ line: start + 1, text: lines.slice(start, end).join("\n") + "\n" });
    i = end;
  }
  return found;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node check.mjs FILE... (Markdown files end in .md; - is stdin)");
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  const diagrams = file.endsWith(".md") ? blocks(text) : [{ line: 1, text }];
  if (diagrams.length === 0) {
    console.error(`${file}: no \`\`\`mermaid block`);
    failed++;
  }
  for (const { line, text } of diagrams) {
    const where = `${file}:${line}`;
    if (text === null) {
      console.error(`${where}: the \`\`\`mermaid block is never closed`);
      failed++;
      continue;
    }
    try {
      const { diagramType } = await mermaid.parse(text);
      console.log(`ok ${where} (${diagramType})`);
    } catch (error) {
      console.error(`${where}: Mermaid rejects the diagram:\n${error.message ?? error}\n--- diagram ---\n${text}`);
      failed++;
    }
  }
}
process.exit(failed === 0 ? 0 : 1);
