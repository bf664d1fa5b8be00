// The preview page: follows the server's event stream (one "view" event per change) and
// fetches again only the page images whose version changed.
"use strict";

// Every image that was swapped in, with when it finished loading (the bench reads this).
window.__swaps = [];
// Every view received, with when (the bench splits its time with it).
window.__views = [];
window.__view = null;

// This server run's token, delivered with the page: the server runs a request that changes
// something (the fit writes the issue) only with it, so that another site's page cannot.
const TOKEN = document.querySelector('meta[name="newsletter-token"]').content;

const pages = new Map(); // page number -> {figure, img, caption, side}
let pageCount = -1;

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// The facing pages: the cover alone on the right, then 2-3, 4-5...
function spreads(count) {
  const pairs = count ? [[null, 1]] : [];
  for (let left = 2; left <= count; left += 2) pairs.push([left, left + 1 <= count ? left + 1 : null]);
  return pairs;
}

function findingItem(f) {
  const li = el("li", { class: f.severity });
  li.append(el("span", { class: "where" }, f.where || ""));
  li.append(document.createTextNode(`${f.severity}: ${f.field ? f.field + ": " : ""}${f.message} [${f.rule}]`));
  if (f.excerpt) li.append(el("pre", {}, f.excerpt));
  if (f.hint) li.append(el("span", { class: "hint" }, "fix: " + f.hint));
  return li;
}

function layOut(count) {
  const main = document.getElementById("spreads");
  main.replaceChildren();
  pages.clear();
  for (const [left, right] of spreads(count)) {
    const row = el("div", { class: "spread" });
    const sides = [el("aside", { class: "side side-left" }), el("aside", { class: "side side-right" })];
    const slots = [left, right].map((number) => {
      const figure = el("figure", { class: number ? "page" : "page empty" });
      if (number) {
        const img = el("img", { class: "page-image", "data-page": String(number), alt: `page ${number}` });
        img.addEventListener("load", () => {
          window.__swaps.push({ page: number, version: img.dataset.version, at: Date.now() });
        });
        const caption = el("figcaption");
        figure.append(img, caption);
        pages.set(number, { figure, img, caption, side: number === left ? sides[0] : sides[1] });
      }
      return figure;
    });
    row.append(sides[0], slots[0], slots[1], sides[1]);
    main.append(row);
  }
  pageCount = count;
}

function show(view) {
  window.__view = view;
  window.__views.push({ at: Date.now(), status: view.status, stale: view.stale });
  document.getElementById("title").textContent = `${view.issue} (${view.edition})`;
  const status = document.getElementById("status");
  status.dataset.status = view.status;
  const took = view.seconds != null ? ` in ${view.seconds.toFixed(1)} s` : "";
  status.textContent = {
    starting: "starting: the first build takes a few seconds",
    building: view.stale.length ? `rebuilding: page ${view.stale.join(", ")} changed` : "rebuilding",
    ready: `up to date${took}: ${view.pages.length} pages`,
    error: `the last save has errors${took}`,
  }[view.status];

  const errors = document.getElementById("errors");
  errors.hidden = view.errors.length === 0;
  document.getElementById("error-list").replaceChildren(...view.errors.map(findingItem));

  const general = document.getElementById("general");
  general.hidden = view.findings.length === 0;
  document.getElementById("general-list").replaceChildren(...view.findings.map(findingItem));

  if (view.pages.length !== pageCount && view.pages.length > 0) layOut(view.pages.length);
  const stale = new Set(view.stale);
  for (const p of view.pages) {
    const slot = pages.get(p.page);
    if (!slot) continue;
    // Only a new version is fetched: the other images stay as they are.
    if (slot.img.dataset.version !== p.version) {
      slot.img.dataset.version = p.version;
      slot.img.src = p.url;
    }
    slot.figure.classList.toggle("stale", stale.has(p.page));
    slot.caption.textContent = `${p.page}` + (p.full != null ? ` · ${Math.round(p.full * 100)} % full` : "");
    const list = el("ul");
    list.append(...p.findings.map(findingItem));
    slot.side.replaceChildren(list);
  }
}

function listen() {
  const source = new EventSource("/events");
  source.addEventListener("view", (event) => show(JSON.parse(event.data)));
  // EventSource reconnects by itself after an error; nothing else to do.
}

async function showMail() {
  const panel = document.getElementById("mail");
  if (!panel.hidden) { panel.hidden = true; return; }
  panel.hidden = false;
  const list = document.getElementById("mail-list");
  list.replaceChildren(el("p", {}, "composing each language's message (builds the editions the first time)..."));
  const answer = await (await fetch("/mail")).json();
  list.replaceChildren();
  for (const e of answer.errors) list.append(findingItem(e));
  for (const m of answer.messages) {
    const box = el("div", { class: "mail-message", "data-language": m.language });
    box.append(el("h3", {}, `${m.language}: ${m.subject}`));
    box.append(el("p", {}, `attachment: ${m.attachment.name} (${Math.round(m.attachment.bytes / 1024)} KB); message ${Math.round(m.message_bytes / 1024)} KB`));
    box.append(el("pre", {}, m.body));
    list.append(box);
  }
}

async function fit() {
  const panel = document.getElementById("fit");
  panel.hidden = false;
  const report = document.getElementById("fit-report");
  report.textContent = "trying the fittings the layout allows (a layout each: this takes a while)...";
  const response = await fetch("/fit", { method: "POST", headers: { "X-Newsletter-Token": TOKEN } });
  if (response.status === 403) {
    report.textContent = "refused: reload the page (the preview was restarted since it was opened)";
  } else if (response.status === 409) {
    report.textContent = "a fit is already running (from this page or another): wait for it to end";
  } else {
    report.textContent = (await response.json()).report;
  }
}

document.getElementById("mail-button").addEventListener("click", showMail);
document.getElementById("fit-button").addEventListener("click", fit);
listen();
