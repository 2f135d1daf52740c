// jobshift serve: the dashboard. Plain JavaScript, no build step; charts with uPlot (vendored).
// State lives in the URL hash (#view=title&id=...&sa=1, #view=compare&ids=a,b), so every view
// can be shared as a link. Data comes from the read-only JSON API; text is set with textContent
// (never innerHTML), and the page runs under a CSP that allows only this origin.
"use strict";

const $ = (id) => document.getElementById(id);
const WATCH_KEY = "jobshift.watch";
let summary = null;
let charts = {};
let searchTimer = null;

// ---- helpers ---------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

const nf = new Intl.NumberFormat("en-US");
const count = (n) => (n === null || n === undefined ? "–" : nf.format(Math.round(n)));
function pct(x) {
  if (x === null || x === undefined || !isFinite(x)) return "–";
  const v = x * 100;
  return (v > 0 ? "+" : v < 0 ? "−" : "") + Math.abs(v).toFixed(1) + "%";
}
const ci = (c) => (c ? `[${pct(c[0])}, ${pct(c[1])}]` : "");
const cls = (x) => (x > 0 ? "pos" : x < 0 ? "neg" : "");

class Unauthorized extends Error {}

async function api(path) {
  const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (r.status === 401) throw new Unauthorized("sign in");
  const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

function getState() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ""));
  return Object.fromEntries(p.entries());
}

function setState(s, replace) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
  const h = "#" + p.toString();
  if (replace) history.replaceState(null, "", h);
  else location.hash = h;
  if (replace) render();
}

function patchState(changes, replace) {
  setState({ ...getState(), ...changes }, replace);
}

function watchList() {
  try {
    const v = JSON.parse(localStorage.getItem(WATCH_KEY) || "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
  } catch (_) {
    return [];
  }
}
function setWatch(ids) {
  localStorage.setItem(WATCH_KEY, JSON.stringify([...new Set(ids)]));
}

function fillTable(table, head, rows, onclick) {
  const thead = table.querySelector("thead");
  const tbody = table.querySelector("tbody");
  thead.replaceChildren(el("tr", {}, ...head.map((h) => el("th", {}, h))));
  tbody.replaceChildren(
    ...rows.map((r) => {
      const tr = el("tr", onclick ? { class: "link" } : {});
      for (const c of r.cells) tr.append(c instanceof Node ? el("td", {}, c) : el("td", r.cls && r.cls[r.cells.indexOf(c)] ? { class: r.cls[r.cells.indexOf(c)] } : {}, c));
      if (onclick) tr.addEventListener("click", () => onclick(r.item));
      return tr;
    })
  );
}

function yearCells(item, years) {
  const y = String(years[years.length - 1]);
  return [count(item.counts[String(years[years.length - 2])]), count(item.counts[y]), pct(item.change[y]), ci(item.ci95[y])];
}

function entryRows(list, years) {
  const y = String(years[years.length - 1]);
  return list.map((t) => ({
    item: t,
    cells: [t.name, ...yearCells(t, years)],
    cls: [null, null, null, cls(t.change[y]), null],
  }));
}

function entryHead(years) {
  const y = years[years.length - 1], p = years[years.length - 2];
  return ["Name", String(p), String(y), `Change ${y}`, "95% interval"];
}

// ---- charts -----------------------------------------------------------------------------------

const monthTs = (m) => Date.UTC(+m.slice(0, 4), +m.slice(5, 7) - 1, 1) / 1000;

function drawChart(key, container, months, series, opts) {
  if (charts[key]) { charts[key].destroy(); delete charts[key]; }
  container.replaceChildren();
  if (typeof uPlot === "undefined") { container.append(el("p", { class: "error" }, "charting library failed to load")); return; }
  const width = Math.max(280, container.clientWidth - 8);
  const o = {
    width, height: (opts && opts.height) || 260,
    scales: { x: { time: true } },
    legend: { live: false },
    axes: [{}, { size: 60, values: (u, vals) => vals.map((v) => (opts && opts.percentAxis ? v.toFixed(0) : count(v))) }],
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: s.width || 2, show: s.show !== false, spanGaps: false, dash: s.dash }))],
  };
  const data = [months.map(monthTs), ...series.map((s) => s.values.map((v) => (v === null || v === undefined ? null : v)))];
  charts[key] = new uPlot(o, data, container);
  container.dataset.series = series.filter((s) => s.show !== false).map((s) => s.key).join(",");
  return charts[key];
}

function setShown(key, container, seriesKeys, showKey, show) {
  const u = charts[key];
  if (!u) return;
  const idx = seriesKeys.indexOf(showKey);
  if (idx >= 0) u.setSeries(idx + 1, { show });
  const shown = seriesKeys.filter((k, i) => u.series[i + 1].show);
  container.dataset.series = shown.join(",");
}

function monthlySeries(monthly, sa) {
  return [
    { key: "count", label: "postings", stroke: "#9aa3ab", width: 1, values: monthly.map((p) => p.count) },
    { key: "ma3", label: "3-month average", stroke: "#2c7fb8", values: monthly.map((p) => p.ma3) },
    { key: "sa", label: "seasonally adjusted", stroke: "#c0392b", values: monthly.map((p) => p.sa), show: sa },
  ];
}

function indexed(values, base) {
  const first = values.slice(0, 12).filter((v) => v !== null && v !== undefined);
  const b = base !== undefined ? base : first.reduce((a, v) => a + v, 0) / Math.max(1, first.length);
  return values.map((v) => (v === null || v === undefined || !b ? null : (100 * v) / b));
}

// ---- views ------------------------------------------------------------------------------------

function showView(name) {
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== "view-" + name;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === name);
}

async function renderTitles(s) {
  showView("titles");
  $("f-family").value = s.family || "";
  $("f-tier").value = s.tier || "";
  $("f-min").value = s.min || "0";
  $("f-sort").value = s.sort || "volume";
  const q = new URLSearchParams();
  if (s.family) q.set("family", s.family);
  if (s.tier) q.set("tier", s.tier);
  if (s.min && +s.min > 0) q.set("min_volume", s.min);
  if (s.sort && s.sort !== "volume") q.set("sort", s.sort);
  const data = await api("/api/titles?" + q.toString());
  $("titles-csv").href = "/api/titles?" + q.toString() + (q.toString() ? "&" : "") + "format=csv";
  fillTable($("titles-table"), entryHead(data.years), entryRows(data.titles.slice(0, 300), data.years), (t) => patchState({ view: "title", id: t.id }));
}

async function renderTitle(s) {
  showView("title");
  const t = await api("/api/titles/" + encodeURIComponent(s.id || ""));
  const sa = s.sa === "1";
  $("title-name").textContent = t.name;
  const fam = t.family_series ? t.family_series.name : t.family;
  $("title-meta").replaceChildren(
    "Family: ", el("a", { href: "#view=family&id=" + encodeURIComponent(t.family || "") }, fam || "–"),
    ` · tier: ${t.tier_series ? t.tier_series.name : t.tier || "–"} · ${t.ranked ? "ranked" : "below the volume rule"}`
  );
  $("sa-toggle").checked = sa;
  $("title-csv").href = "/api/titles/" + encodeURIComponent(t.id) + "?format=csv";
  const watched = watchList().includes(t.id);
  $("watch-btn").textContent = watched ? "★ Watching" : "☆ Watch";
  $("watch-btn").classList.toggle("on", watched);
  const ids = (s.ids || "").split(",").filter(Boolean);
  $("compare-btn").textContent = ids.includes(t.id) ? "✓ In comparison" : "+ Compare";
  const months = t.monthly.map((p) => p.month);
  drawChart("title", $("chart"), months, monthlySeries(t.monthly, sa));
  const pick = (m) => m.map((p) => (sa ? p.sa : p.ma3));
  const ctx = [{ key: "title", label: t.name, stroke: "#c0392b", values: indexed(pick(t.monthly)) }];
  if (t.family_series && t.family_series.monthly) ctx.push({ key: "family", label: t.family_series.name, stroke: "#2c7fb8", values: indexed(pick(t.family_series.monthly)) });
  ctx.push({ key: "market", label: "All postings", stroke: "#555", dash: [5, 4], values: indexed(pick(t.market.monthly)) });
  drawChart("context", $("context-chart"), months, ctx, { height: 220, percentAxis: true });
  const years = t.years;
  fillTable(
    $("title-years"),
    ["Year", "Postings", "Change", "95% interval", "Excess over market", "All postings"],
    years.map((y) => ({
      cells: [String(y), count(t.counts[y]), pct(t.change[y]), ci(t.ci95[y]), t.excess[y] === undefined || t.excess[y] === null ? "–" : ((t.excess[y] * 100).toFixed(1) + " pts"), count(t.market.counts[y])],
      cls: [null, null, cls(t.change[y]), null, null, null],
    }))
  );
  fillTable($("related"), entryHead(years), entryRows(t.related, years), (r) => patchState({ view: "title", id: r.id, sa: s.sa }));
}

async function renderGroupList(kind, s) {
  showView(kind);
  const data = await api("/api/" + kind);
  const list = data[kind];
  fillTable($(kind + "-table"), entryHead(data.years), entryRows(list, data.years), (g) => patchState({ view: kind === "families" ? "family" : "tier", id: g.id }));
}

async function renderGroup(kind, s) {
  showView("group");
  const g = await api(`/api/${kind}/` + encodeURIComponent(s.id || ""));
  const sa = s.sa === "1";
  $("group-name").textContent = g.name;
  const y = String(g.years[g.years.length - 1]);
  $("group-meta").textContent = `${count(g.counts[y])} postings in ${y}, ${pct(g.change[y])} ${ci(g.ci95[y])} · ${g.titles.length} titles`;
  $("group-sa-toggle").checked = sa;
  drawChart("group", $("group-chart"), g.monthly.map((p) => p.month), monthlySeries(g.monthly, sa));
  fillTable($("group-titles"), entryHead(g.years), entryRows(g.titles, g.years), (t) => patchState({ view: "title", id: t.id }));
}

async function renderWatch(s) {
  showView("watch");
  const ids = s.ids ? s.ids.split(",").filter(Boolean) : [...new Set([...watchList(), ...(summary.watch || []).map((w) => w.id)])];
  const rows = [];
  for (const id of ids.slice(0, 50)) {
    try { rows.push(await api("/api/titles/" + encodeURIComponent(id))); } catch (e) { if (e instanceof Unauthorized) throw e; }
  }
  fillTable($("watch-table"), entryHead(summary.years), entryRows(rows, summary.years), (t) => patchState({ view: "title", id: t.id }));
  if (!s.ids && ids.length) history.replaceState(null, "", "#view=watch&ids=" + ids.map(encodeURIComponent).join(","));
}

const PALETTE = ["#c0392b", "#2c7fb8", "#1e7b45", "#8e44ad", "#d68910", "#555", "#17a589", "#a04000"];

async function renderCompare(s) {
  showView("compare");
  const ids = (s.ids || "").split(",").filter(Boolean).slice(0, 8);
  const sa = s.sa === "1", index = s.index !== "0";
  $("compare-sa-toggle").checked = sa;
  $("compare-index-toggle").checked = index;
  const titles = [];
  for (const id of ids) {
    try { titles.push(await api("/api/titles/" + encodeURIComponent(id))); } catch (e) { if (e instanceof Unauthorized) throw e; }
  }
  $("compare-chips").replaceChildren(
    ...titles.map((t) =>
      el("span", { class: "chip" }, el("a", { href: "#view=title&id=" + encodeURIComponent(t.id) }, t.name),
        el("button", { type: "button", title: "remove", onclick: () => patchState({ ids: ids.filter((x) => x !== t.id).join(",") }) }, "×"))
    )
  );
  if (!titles.length) {
    $("compare-chart").replaceChildren(el("p", { class: "muted" }, "No titles selected yet: open a title and press “+ Compare”."));
    $("compare-chart").dataset.series = "";
    fillTable($("compare-table"), [], []);
    return;
  }
  const months = titles[0].monthly.map((p) => p.month);
  const series = titles.map((t, i) => {
    const v = t.monthly.map((p) => (sa ? p.sa : p.ma3));
    return { key: t.id, label: t.name, stroke: PALETTE[i % PALETTE.length], values: index ? indexed(v) : v };
  });
  drawChart("compare", $("compare-chart"), months, series, { percentAxis: index });
  const years = titles[0].years;
  const y = String(years[years.length - 1]);
  const last = (t) => t.monthly[t.monthly.length - 1] || {};
  fillTable(
    $("compare-table"),
    ["Title", ...years.map(String), `Change ${y}`, "95% interval", "Latest month y/y"],
    titles.map((t) => ({
      item: t,
      cells: [t.name, ...years.map((yy) => count(t.counts[yy])), pct(t.change[y]), ci(t.ci95[y]), pct(last(t).yoy)],
      cls: [],
    })),
    (t) => patchState({ view: "title", id: t.id })
  );
}

async function render() {
  const s = getState();
  const view = s.view || "titles";
  $("status").hidden = true;
  try {
    if (!summary) await loadSummary();
    if (view === "title" && s.id) await renderTitle(s);
    else if (view === "families") await renderGroupList("families", s);
    else if (view === "tiers") await renderGroupList("tiers", s);
    else if (view === "family" && s.id) await renderGroup("families", s);
    else if (view === "tier" && s.id) await renderGroup("tiers", s);
    else if (view === "watch") await renderWatch(s);
    else if (view === "compare") await renderCompare(s);
    else await renderTitles(s);
    document.body.dataset.ready = view;
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin();
    $("status").textContent = e.message;
    $("status").hidden = false;
    document.body.dataset.ready = "error";
  }
}

async function loadSummary() {
  summary = await api("/api/summary");
  $("app").hidden = false;
  $("login-view").hidden = true;
  const y = summary.latest_year, p = summary.previous_year;
  const b = summary.baseline;
  $("summary").textContent =
    `${summary.window.from} to ${summary.window.to} of each year · all postings ${count(b.counts[p])} → ${count(b.counts[y])} (${pct(b.change[y])}) · ${summary.title_count} titles · ${summary.market.note || ""}`;
  if (summary.dataset && summary.dataset.status && summary.dataset.status.error) {
    $("status").textContent = summary.dataset.status.error;
    $("status").hidden = false;
  }
  const fam = await api("/api/families");
  $("f-family").replaceChildren(el("option", { value: "" }, "all"), ...fam.families.map((f) => el("option", { value: f.id }, f.name)));
  const tiers = await api("/api/tiers");
  $("f-tier").replaceChildren(el("option", { value: "" }, "all"), ...tiers.tiers.map((t) => el("option", { value: t.id }, t.name)));
}

function showLogin() {
  $("app").hidden = true;
  $("login-view").hidden = false;
  if (getState().login === "failed") $("login-error").textContent = "That token is not right.";
  document.body.dataset.ready = "login";
}

// ---- search -----------------------------------------------------------------------------------

async function runSearch() {
  const q = $("search").value.trim();
  const box = $("search-results");
  if (!q) { box.hidden = true; box.replaceChildren(); return; }
  try {
    const r = await api("/api/search?limit=12&q=" + encodeURIComponent(q.slice(0, 100)));
    if ($("search").value.trim() !== q) return;
    const y = String(summary.latest_year);
    box.replaceChildren(
      ...(r.results.length
        ? r.results.map((t) =>
            el("li", { "data-id": t.id, onclick: () => { box.hidden = true; $("search").value = ""; patchState({ view: "title", id: t.id, sa: getState().sa, ids: getState().ids }); } },
              el("span", {}, t.name), el("span", { class: "muted" }, `${count(t.counts[y])} · ${pct(t.change[y])}`)))
        : [el("li", { class: "muted" }, "no title matches")])
    );
    box.hidden = false;
  } catch (e) {
    if (e instanceof Unauthorized) showLogin();
  }
}

// ---- wiring -----------------------------------------------------------------------------------

function wire() {
  $("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 150); });
  $("search").addEventListener("keydown", (e) => {
    if (e.key === "Enter") { const first = $("search-results").querySelector("li[data-id]"); if (first) first.click(); }
    if (e.key === "Escape") $("search-results").hidden = true;
  });
  document.addEventListener("click", (e) => { if (!e.target.closest(".search")) $("search-results").hidden = true; });
  for (const [id, key] of [["f-family", "family"], ["f-tier", "tier"], ["f-min", "min"], ["f-sort", "sort"]]) {
    $(id).addEventListener("change", () => patchState({ view: "titles", [key]: $(id).value }));
  }
  $("sa-toggle").addEventListener("change", () => {
    const on = $("sa-toggle").checked;
    setShown("title", $("chart"), ["count", "ma3", "sa"], "sa", on);
    patchState({ sa: on ? "1" : "" });
  });
  $("group-sa-toggle").addEventListener("change", () => patchState({ sa: $("group-sa-toggle").checked ? "1" : "" }));
  $("compare-sa-toggle").addEventListener("change", () => patchState({ sa: $("compare-sa-toggle").checked ? "1" : "" }));
  $("compare-index-toggle").addEventListener("change", () => patchState({ index: $("compare-index-toggle").checked ? "" : "0" }));
  $("watch-btn").addEventListener("click", () => {
    const id = getState().id;
    const w = watchList();
    setWatch(w.includes(id) ? w.filter((x) => x !== id) : [...w, id]);
    render();
  });
  $("compare-btn").addEventListener("click", () => {
    const s = getState();
    const ids = (s.ids || "").split(",").filter(Boolean);
    if (!ids.includes(s.id)) ids.push(s.id);
    setState({ view: "compare", ids: ids.join(","), sa: s.sa });
  });
  window.addEventListener("hashchange", render);
  let resize = null;
  window.addEventListener("resize", () => { clearTimeout(resize); resize = setTimeout(render, 250); });
  render();
}

document.addEventListener("DOMContentLoaded", wire);
