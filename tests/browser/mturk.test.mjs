// Headless-browser test of the Mechanical Turk question template (mturk-question.html).
//
//   node tests/browser/mturk.test.mjs TEMPLATE.html QUERY EXPECTED_TITLE_ID
//
// Fills the ${...} placeholders as Mechanical Turk would, blocks the external crowd-html-elements
// script (no network), opens the page in headless Chromium, waits until the embedded catalog
// (zlib + base 85) is decoded by the browser, types QUERY into the title search and checks that
// EXPECTED_TITLE_ID is offered and can be chosen. Prints "TITLES n" and OK; exits 1 on failure.
import { chromium } from "playwright-core";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [file, query, expected] = process.argv.slice(2);
if (!file || !query || !expected) {
  console.error("usage: node mturk.test.mjs TEMPLATE.html QUERY EXPECTED_TITLE_ID");
  process.exit(2);
}
const values = { task_id: "t1", posting_id: "p1", title: "Sr. <Data> Engineer & co", company: "Acme", location: "Berlin", country: "DE", posted_date: "2025-01-01", url: "", description: "We build pipelines." };
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const html = readFileSync(file, "utf8").replace(/\$\{(\w+)\}/g, (m, k) => (k in values ? esc(values[k]) : m));
const dir = mkdtempSync(join(tmpdir(), "jobshift-mturk-"));
const page_path = join(dir, "question.html");
writeFileSync(page_path, html);
let browser;
try {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.route("**/*", (r) => (r.request().url().startsWith("file:") ? r.continue() : r.abort()));
  await page.goto("file://" + page_path);
  await page.waitForFunction(() => document.documentElement.getAttribute("data-titles"));
  const n = await page.evaluate(() => Number(document.documentElement.getAttribute("data-titles")));
  console.log("TITLES " + n);
  await page.fill("#js-q", query);
  await page.waitForSelector(`#js-list li[data-id="${expected}"]`);
  await page.click(`#js-list li[data-id="${expected}"]`);
  const chosen = await page.inputValue("#js-title-id");
  if (chosen !== expected) throw new Error(`chose ${chosen}, expected ${expected}`);
  console.log("OK");
} catch (e) {
  console.error(String(e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
