// Simulated annotators for the end-to-end labelling run (benches/label/run.sh).
//
//   node benches/label/annotate.mjs --bin JOBSHIFT --tasks TASKS_DIR --truth task_truth.json \
//        [--port 18931] [--seed 7] [--per-task 3] [--out annotate.json]
//
// Starts `jobshift label serve TASKS_DIR`, then five annotators of different skill label every
// task they are served until the server has nothing left for anyone:
//   w1-browser  accuracy 0.92, through the real page in headless Chromium (playwright-core):
//               it reads the posting on screen, types the title's name into the search box,
//               clicks the hit, clicks "Save and next" (or "None of these fits")
//   w2-good     0.85, w3-fair 0.70, w4-weak 0.55, w5-spammer (uniform random titles):
//               the same JSON endpoints the page calls (/api/next, /api/answer), bearer token
// An error is a title of the same family 60% of the time (the plausible confusion), "none fits"
// 10%, else any title. Answers are drawn from the generator's truth with a seeded PRNG per worker,
// and the workers take turns, so the run is reproducible.
// Midway the server is killed (SIGKILL, a crash) and started again; every confirmed answer must
// be there after the restart (checked through /api/history and the page's own answer list).
// Chromium: /usr/bin/chromium or $CHROMIUM; playwright-core from tests/browser/node_modules.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../tests/browser/package.json"));
const { chromium } = require("playwright-core");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const bin = args.bin, tasksDir = args.tasks;
if (!bin || !tasksDir || !args.truth) {
  console.error("usage: node annotate.mjs --bin JOBSHIFT --tasks TASKS_DIR --truth task_truth.json [--port P] [--seed S] [--out FILE]");
  process.exit(2);
}
const port = Number(args.port || 18931);
const seed = Number(args.seed || 7);
const perTask = Number(args["per-task"] || 3);
const outPath = args.out || join(tasksDir, "annotate.json");
const base = `http://127.0.0.1:${port}`;
const truth = JSON.parse(readFileSync(args.truth, "utf8"));
const catalog = JSON.parse(readFileSync(join(tasksDir, "catalog.json"), "utf8"));
const titles = catalog.titles;
const byId = new Map(titles.map((t) => [t.id, t]));
const byFamily = new Map();
for (const t of titles) byFamily.set(t.family, [...(byFamily.get(t.family) || []), t.id]);

// mulberry32: small seeded PRNG (reproducible draws per worker)
function prng(s) {
  return () => {
    s |= 0; s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (rnd, xs) => xs[Math.floor(rnd() * xs.length)];

const workers = [
  { id: "w1-browser", accuracy: 0.92, browser: true },
  { id: "w2-good", accuracy: 0.85 },
  { id: "w3-fair", accuracy: 0.7 },
  { id: "w4-weak", accuracy: 0.55 },
  { id: "w5-spammer", accuracy: null },
].map((w, i) => ({ ...w, token: `tok-${w.id}-${seed}-0123456789`, rnd: prng(seed * 1000 + i + 1), answers: new Map(), done: false }));

function decide(w, taskId) {
  const t = truth[taskId];
  if (!t) throw new Error(`no truth for task ${taskId}`);
  const any = () => pick(w.rnd, titles).id;
  if (w.accuracy === null) return any(); // spammer
  if (w.rnd() < w.accuracy) return t;
  const r = w.rnd();
  if (r < 0.6) {
    const fam = (byFamily.get(byId.get(t)?.family) || []).filter((x) => x !== t);
    if (fam.length) return pick(w.rnd, fam);
  }
  if (r < 0.7) return "none_fits";
  let x = any();
  while (x === t) x = any();
  return x;
}

// --- the server --------------------------------------------------------------------------
writeFileSync(join(tasksDir, "tokens.txt"), workers.map((w) => `${w.id} ${w.token}`).join("\n") + "\n");
let server = null;
function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ["label", "serve", tasksDir, "--port", String(port), "--per-task", String(perTask)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error("server did not start in 30 s:\n" + out)), 30000);
    p.stdout.on("data", (d) => {
      out += d;
      if (out.includes("labelling page on")) { clearTimeout(timer); resolve(p); }
    });
    p.stderr.on("data", (d) => { out += d; process.stderr.write("server: " + d); });
    p.on("exit", (code) => { if (!out.includes("labelling page on")) { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${out}`)); } });
  });
}
function killServer(signal) {
  return new Promise((resolve) => { server.on("exit", () => resolve()); server.kill(signal); });
}

async function api(w, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${w.token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${w.id} ${method} ${path}: HTTP ${r.status} ${j.error || ""}`);
  return j;
}

// --- one step of an HTTP annotator ---------------------------------------------------------
async function httpStep(w) {
  const v = await api(w, "GET", "/api/next");
  if (!v.task) { w.done = true; return; }
  const ans = decide(w, v.task.task_id);
  const r = await api(w, "POST", "/api/answer", { task_id: v.task.task_id, answer: ans, elapsed_ms: 1000 });
  if (r.answer !== ans) throw new Error(`${w.id}: saved ${r.answer}, sent ${ans}`);
  w.answers.set(v.task.task_id, ans);
}

// --- one step of the browser annotator ------------------------------------------------------
let page = null, context = null, profile = null;
async function currentTaskOnPage() {
  await page.waitForFunction(() => {
    const lv = document.getElementById("label-view"), dv = document.getElementById("done-view");
    return (lv && !lv.hidden && document.getElementById("task-title").getAttribute("data-task-id")) || (dv && !dv.hidden);
  });
  return page.evaluate(() => (document.getElementById("done-view").hidden ? document.getElementById("task-title").getAttribute("data-task-id") : null));
}
async function browserStep(w) {
  const taskId = await currentTaskOnPage();
  if (!taskId) { w.done = true; return; }
  const ans = decide(w, taskId);
  if (ans === "none_fits") {
    await page.click("#none-fits");
  } else {
    const t = byId.get(ans);
    let found = false;
    for (const q of [t.name, ans.replace(/_/g, " ")]) {
      await page.fill("#search", q);
      try {
        await page.waitForSelector(`.hit[data-id="${ans}"]`, { timeout: 5000 });
        found = true;
        break;
      } catch { /* try the next query */ }
    }
    if (!found) throw new Error(`the page's search did not offer ${ans} (${t.name})`);
    await page.click(`.hit[data-id="${ans}"]`);
  }
  await page.waitForFunction((id) => document.getElementById("choice").textContent.length > 0 && !document.getElementById("save").disabled, ans);
  await page.click("#save");
  // saved: the next task (or "all done") replaces this one
  await page.waitForFunction((id) => {
    const dv = document.getElementById("done-view");
    return (dv && !dv.hidden) || document.getElementById("task-title").getAttribute("data-task-id") !== id;
  }, taskId);
  w.answers.set(taskId, ans);
}

async function openBrowser(w) {
  profile = mkdtempSync(join(tmpdir(), "jobshift-e2e-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1200, height: 900 },
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(20000);
  await page.goto(`${base}/?token=${w.token}`);
}

// --- the run ---------------------------------------------------------------------------------
const tasks = readFileSync(join(tasksDir, "tasks.jsonl"), "utf8").split("\n").filter(Boolean);
const manifest = JSON.parse(readFileSync(join(tasksDir, "manifest.json"), "utf8"));
const expected = (tasks.length - manifest.gold.length) * perTask + manifest.gold.length * workers.length;
const t0 = Date.now();
const summary = { workers: [], restarts: [], expected_answers: expected };
try {
  server = await startServer();
  const browserWorker = workers.find((w) => w.browser);
  await openBrowser(browserWorker);
  let restarted = false;
  while (workers.some((w) => !w.done)) {
    for (const w of workers) {
      if (w.done) continue;
      if (w.browser) await browserStep(w); else await httpStep(w);
    }
    const given = workers.reduce((s, w) => s + w.answers.size, 0);
    if (!restarted && given >= expected / 2) {
      restarted = true;
      // crash the server mid-run, start it again, and check that nothing confirmed was lost
      await killServer("SIGKILL");
      server = await startServer();
      const check = { after_answers: given, kept: 0, lost: [] };
      for (const w of workers) {
        const hist = await api(w, "GET", "/api/history");
        const kept = new Map(hist.map((h) => [h.task_id, h.answer]));
        for (const [tid, ans] of w.answers) {
          if (kept.get(tid) === ans) check.kept++; else check.lost.push(`${w.id}:${tid}`);
        }
      }
      await page.reload();
      await page.waitForSelector("#label-view:not([hidden]), #done-view:not([hidden])");
      const shown = Number(await page.textContent("#history-count"));
      check.browser_history_after_reload = shown;
      check.browser_answers_confirmed = browserWorker.answers.size;
      if (shown !== browserWorker.answers.size) check.lost.push(`page shows ${shown} answers, ${browserWorker.answers.size} confirmed`);
      summary.restarts.push(check);
      console.log(`restart after ${given} answers: ${check.kept} kept, ${check.lost.length} lost; the page lists ${shown} of ${browserWorker.answers.size} browser answers`);
      if (check.lost.length) throw new Error("answers lost across the restart: " + check.lost.slice(0, 5).join(", "));
    }
  }
  // the store holds every answer
  const store = readFileSync(join(tasksDir, "answers.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const given = workers.reduce((s, w) => s + w.answers.size, 0);
  for (const w of workers) {
    const right = [...w.answers].filter(([tid, a]) => a === truth[tid]).length;
    summary.workers.push({ worker: w.id, channel: w.browser ? "page in headless Chromium" : "HTTP API", simulated_accuracy: w.accuracy, answers: w.answers.size, realized_accuracy: right / Math.max(1, w.answers.size) });
  }
  summary.answers_given = given;
  summary.store_records = store.length;
  summary.seconds = (Date.now() - t0) / 1000;
  writeFileSync(outPath, JSON.stringify(summary, null, 1));
  console.log(`annotated: ${given} answers (expected ${expected}), ${store.length} records in the store, ${summary.seconds.toFixed(0)} s`);
  for (const w of summary.workers) console.log(`  ${w.worker.padEnd(12)} ${String(w.answers).padStart(5)} answers  realized accuracy ${w.realized_accuracy.toFixed(3)}  (${w.channel})`);
  if (store.length !== given) throw new Error(`store has ${store.length} records, ${given} answers were confirmed`);
} finally {
  if (context) await context.close().catch(() => {});
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (server) server.kill("SIGTERM");
}
