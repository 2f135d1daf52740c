// Headless-browser test of the jobshift labelling page.
//
//   node tests/browser/label.test.mjs URL TOKEN
//
// Labels several postings through the real page (sign in, search, pick, "none fits", go back and
// change an answer), then prints RESTART and waits for READY on stdin while the driver (the Rust
// test crates/label/tests/browser_page.rs) restarts the server on the same store, then reloads
// and checks that every answer was kept. Prints ANSWERS <json> and OK on success; exits 1 on
// failure. Chromium: /usr/bin/chromium (or $CHROMIUM), fresh profile, no network beyond loopback.
import { join } from "node:path";
import readline from "node:readline";
import { check, launch } from "./chromium.mjs";

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node label.test.mjs URL TOKEN");
  process.exit(2);
}
const lines = readline.createInterface({ input: process.stdin });
const waitForLine = (want) =>
  new Promise((resolve) => {
    const on = (l) => { if (l.trim() === want) { lines.off("line", on); resolve(); } };
    lines.on("line", on);
  });

let browser;
try {
  browser = await launch({ width: 390, height: 844 }); // a phone
  const page = browser.page;
  page.setDefaultTimeout(15000);
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(url.replace(/\/$/, ""))) external.push(r.url()); });

  await page.goto(url);
  await page.waitForSelector("#signin-view:not([hidden])");
  await page.fill("#token", "wrong-token-123");
  await page.click("#signin");
  await page.waitForFunction(() => document.getElementById("signin-error").textContent.length > 0);
  await page.fill("#token", token);
  await page.click("#signin");
  await page.waitForSelector("#label-view:not([hidden])");

  const answers = {}; // task_id -> title id
  const plan = [
    { q: "data eng", id: "data_engineer" },
    { q: "staff nurse", id: "registered_nurse" },
    { q: null, id: "none_fits" },
    { q: "front end", id: "frontend_engineer" },
  ];
  for (const step of plan) {
    const taskId = await page.getAttribute("#task-title", "data-task-id");
    check(taskId && !(taskId in answers), `new task served (${taskId})`);
    if (step.q) {
      await page.fill("#search", step.q);
      await page.waitForSelector(`.hit[data-id="${step.id}"]`);
      await page.click(`.hit[data-id="${step.id}"]`);
    } else {
      await page.click("#none-fits");
    }
    await page.click("#save");
    await page.waitForFunction((t) => {
      const el = document.getElementById("task-title");
      return /Saved/.test(document.getElementById("status").textContent) &&
        (el.getAttribute("data-task-id") !== t || !document.getElementById("done-view").hidden);
    }, taskId);
    answers[taskId] = step.id;
  }

  // Go back to the last answer and change it.
  await page.click("#back");
  await page.waitForSelector("#editing:not([hidden])");
  const backTask = await page.getAttribute("#task-title", "data-task-id");
  const lastTask = Object.keys(answers)[plan.length - 1];
  check(backTask === lastTask, `back shows the last answered task (${backTask} vs ${lastTask})`);
  check((await page.textContent("#saved-answer")).includes("Frontend Engineer"), "saved answer shown");
  await page.fill("#search", "software");
  await page.waitForSelector('.hit[data-id="software_engineer"]');
  await page.click('.hit[data-id="software_engineer"]');
  await page.click("#save");
  await page.waitForFunction(() => /Saved/.test(document.getElementById("status").textContent));
  answers[backTask] = "software_engineer";
  await page.screenshot({ path: process.env.SCREENSHOT || join(browser.profile, "before-restart.png") });

  // Restart the server under us.
  console.log("RESTART");
  await waitForLine("READY");

  await page.reload();
  await page.waitForSelector("#label-view:not([hidden]), #done-view:not([hidden])");
  const history = await page.evaluate(async () => (await fetch("/api/history")).json());
  const kept = Object.fromEntries(history.map((h) => [h.task_id, h.answer]));
  for (const [t, a] of Object.entries(answers)) {
    check(kept[t] === a, `answer for ${t} kept after restart (${kept[t]} vs ${a})`);
  }
  check(history.length === Object.keys(answers).length, "no extra answers");
  const shown = await page.getAttribute("#task-title", "data-task-id");
  check(!(shown in answers), `an answered task is not served again (${shown})`);
  const listed = await page.$$eval("#history li", (lis) => lis.map((li) => li.getAttribute("data-task-id")));
  check(listed.length === Object.keys(answers).length, "history list on the page shows every answer");
  check(external.length === 0, "no request left the server: " + external.join(", "));

  console.log("ANSWERS " + JSON.stringify(answers));
  console.log("OK " + Object.keys(answers).length + " answers kept across a restart");
  await browser.close();
  lines.close();
  process.exit(0);
} catch (e) {
  console.error("FAIL " + (e && e.stack ? e.stack : e));
  if (browser) await browser.close();
  lines.close();
  process.exit(1);
}
