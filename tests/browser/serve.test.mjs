// Headless-browser test of the `jobshift serve` dashboard.
//
//   node tests/browser/serve.test.mjs URL [SCREENSHOT_DIR]
//
// Loads the page, searches a title, opens it and sees its monthly chart, switches to the
// seasonally adjusted line, adds two titles to a comparison and opens it, reloads the shared
// comparison link, and visits the family view. Fails on any request that leaves the server and
// on any console error (a CSP violation is one). Prints OK on success; exits 1 on failure.
// With SCREENSHOT_DIR, writes serve-title.png, serve-title-sa.png and serve-compare.png there.
// Chromium: /usr/bin/chromium (or $CHROMIUM), fresh profile, no network beyond loopback.
import { join } from "node:path";
import { check, launch } from "./chromium.mjs";

const [url, shots] = process.argv.slice(2);
if (!url) {
  console.error("usage: node serve.test.mjs URL [SCREENSHOT_DIR]");
  process.exit(2);
}
let browser;
try {
  browser = await launch({ width: 1100, height: 900 });
  const page = browser.page;
  page.setDefaultTimeout(20000);
  const base = url.replace(/\/$/, "");
  const external = [];
  const errors = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  const ready = (view) => page.waitForFunction((v) => document.body.dataset.ready === v, view);
  const series = (id) => page.$eval(id, (e) => e.dataset.series || "");

  // 1. the title explorer
  await page.goto(base + "/");
  await ready("titles");
  const rows = await page.$$eval("#titles-table tbody tr", (r) => r.length);
  check(rows >= 5, `title table has ${rows} rows`);

  // 2. search a title and open it
  await page.fill("#search", "software");
  await page.waitForSelector('#search-results li[data-id="software_engineer"]');
  await page.click('#search-results li[data-id="software_engineer"]');
  await page.waitForFunction(() => document.body.dataset.ready === "title" && document.querySelector("#chart canvas"));
  check((await page.textContent("#title-name")).toLowerCase().includes("software"), "title heading");
  check((await series("#chart")) === "count,ma3", "chart shows counts and the moving average: " + (await series("#chart")));
  check(await page.$("#context-chart canvas"), "title vs family vs market chart");
  const yearRows = await page.$$eval("#title-years tbody tr", (r) => r.length);
  check(yearRows === 3, `yearly table has ${yearRows} rows`);
  if (shots) await page.screenshot({ path: join(shots, "serve-title.png"), fullPage: false });

  // 3. switch to the seasonally adjusted line
  await page.check("#sa-toggle");
  await page.waitForFunction(() => document.querySelector("#chart").dataset.series === "count,ma3,sa");
  check(page.url().includes("sa=1"), "the toggle is in the URL: " + page.url());
  if (shots) await page.screenshot({ path: join(shots, "serve-title-sa.png"), fullPage: false });

  // 4. a comparison of two titles
  await page.click("#compare-btn");
  await ready("compare");
  await page.fill("#search", "writer");
  await page.waitForSelector('#search-results li[data-id="writer"]');
  await page.click('#search-results li[data-id="writer"]');
  await page.waitForFunction(() => document.body.dataset.ready === "title" && /id=writer/.test(location.hash));
  await page.click("#compare-btn");
  await page.waitForFunction(() => document.body.dataset.ready === "compare" && document.querySelector("#compare-chart").dataset.series === "software_engineer,writer");
  const compareRows = await page.$$eval("#compare-table tbody tr", (r) => r.length);
  check(compareRows === 2, `comparison table has ${compareRows} rows`);
  if (shots) await page.screenshot({ path: join(shots, "serve-compare.png"), fullPage: false });

  // 5. the shared link restores the comparison in a fresh page
  const shared = page.url();
  const second = await browser.context.newPage();
  second.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await second.goto(shared);
  await second.waitForFunction(() => document.querySelector("#compare-chart") && document.querySelector("#compare-chart").dataset.series === "software_engineer,writer");
  await second.close();

  // 6. families and a family's chart
  await page.click('nav a[data-view="families"]');
  await ready("families");
  await page.click("#families-table tbody tr");
  await page.waitForFunction(() => document.body.dataset.ready === "families" || document.querySelector("#group-chart canvas"));
  await page.waitForSelector("#group-chart canvas");

  // 7. watch list
  await page.goto(base + "/#view=title&id=writer");
  await page.waitForFunction(() => document.body.dataset.ready === "title" && /id=writer/.test(location.hash));
  await page.click("#watch-btn");
  await page.goto(base + "/#view=watch");
  await page.waitForFunction(() => document.body.dataset.ready === "watch" && document.querySelectorAll("#watch-table tbody tr").length >= 1);

  check(external.length === 0, "requests left the server: " + external.join(", "));
  check(errors.length === 0, "console errors: " + errors.join(" | "));
  console.log("OK");
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}
