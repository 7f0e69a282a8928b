// The preview page: shows one output in a frame, swaps in each new build without losing the
// reader's place, and says which outputs are up to date and what went wrong.
"use strict";

const LABELS = { html: "HTML", pdf: "PDF", epub: "EPUB", docx: "DOCX" };
const WORDS = { current: "up to date", updating: "updating", outdated: "out of date", failed: "failed",
                missing: "not built yet" };
// When each build appeared in the frame and when every format was up to date (read by tests and bench/).
window.dsrPreview = { shown: [], allCurrent: [] };

let snapshot = null;
let view = null;
let chapter = null;
const shownBuild = {};

function byName(name) {
  return snapshot.formats.find((f) => f.name === name);
}

function viewUrl() {
  if (view === "epub") {
    const found = snapshot.chapters.find((c) => c.url === chapter) ||
      snapshot.chapters.find((c) => /chapter|text/.test(c.url)) || snapshot.chapters[0];
    chapter = found ? found.url : null;
    return chapter;
  }
  return byName(view).url;
}

function show(force) {
  const format = byName(view);
  const main = document.getElementById("view");
  main.dataset.view = view;
  document.getElementById("epub-nav").hidden = view !== "epub";
  if (!format.exists) {
    if (!main.querySelector("iframe")) main.innerHTML = `<p class="empty">${LABELS[view]}: not built yet.</p>`;
    return;
  }
  const key = view + (view === "epub" ? chapter : "");
  if (!force && shownBuild[key] === format.build) return;
  const url = viewUrl();
  if (!url) return;
  shownBuild[key] = format.build;
  for (const stale of main.querySelectorAll("iframe.loading, p.empty")) stale.remove();
  const old = main.querySelector("iframe.shown");
  const frame = document.createElement("iframe");
  if (view !== "pdf") frame.sandbox = "allow-same-origin allow-popups allow-popups-to-escape-sandbox";
  frame.title = `${LABELS[view]} output`;
  frame.className = "loading";
  frame.dataset.build = format.build;
  frame.dataset.view = view;
  frame.dataset.url = url;
  const build = format.build;
  const shownView = view;
  const requested = Date.now();
  frame.addEventListener("load", () => {
    if (old && old.dataset.url === url && shownView !== "pdf") {
      try {  // the same place in the new version (both frames are this page's origin)
        frame.contentWindow.scrollTo(old.contentWindow.scrollX, old.contentWindow.scrollY);
      } catch (e) { /* a frame that navigated away: start at the top */ }
    }
    frame.className = "shown";
    if (old) old.remove();
    window.dsrPreview.shown.push({ view: shownView, build, requested, at: Date.now() });
  }, { once: true });
  frame.src = `${url}?build=${build}`;
  main.appendChild(frame);
}

function tabs() {
  const nav = document.getElementById("tabs");
  nav.textContent = "";
  for (const format of snapshot.formats) {
    let item;
    if (format.name === "docx") {  // a word processor opens it: a download, not a view
      item = document.createElement("a");
      item.href = format.url;
      item.download = "";
      item.textContent = "DOCX \u2193";
    } else {
      item = document.createElement("button");
      item.type = "button";
      item.textContent = LABELS[format.name] || format.name;
      item.setAttribute("aria-pressed", String(format.name === view));
      item.addEventListener("click", () => { view = format.name; tabs(); show(true); });
    }
    item.dataset.format = format.name;
    nav.appendChild(item);
  }
}

function statusBar() {
  const list = document.getElementById("formats");
  list.textContent = "";
  for (const format of snapshot.formats) {
    const item = document.createElement("li");
    item.dataset.format = format.name;
    item.dataset.status = format.status;
    item.dataset.build = format.build;
    const time = format.status === "current" && format.seconds != null ? ` (built in ${format.seconds.toFixed(2)} s)` : "";
    item.textContent = `${LABELS[format.name] || format.name}: ${WORDS[format.status] || format.status}${time}`;
    list.appendChild(item);
  }
  const problems = document.getElementById("problems");
  problems.hidden = snapshot.errors.length === 0;
  document.getElementById("errors").textContent = snapshot.errors.join("\n");
  const warnings = document.getElementById("warnings");
  warnings.hidden = snapshot.warnings.length === 0;
  warnings.querySelector("summary").textContent = `${snapshot.warnings.length} warning(s)`;
  warnings.querySelector("pre").textContent = snapshot.warnings.join("\n");
  const select = document.getElementById("chapter");
  const options = snapshot.chapters.map((c) => `${c.url}\n${c.title}`).join("\n");
  if (select.dataset.options !== options) {
    select.dataset.options = options;
    select.textContent = "";
    for (const c of snapshot.chapters) select.add(new Option(c.title, c.url));
  }
  if (chapter) select.value = chapter;
  if (snapshot.formats.every((f) => f.status === "current" && f.build === snapshot.build)) {
    const done = window.dsrPreview.allCurrent;
    if (!done.length || done[done.length - 1].build !== snapshot.build) {
      done.push({ build: snapshot.build, at: Date.now() });
    }
  }
}

function update(next) {
  const first = snapshot === null;
  snapshot = next;
  document.getElementById("source").textContent = snapshot.source;
  document.title = `${snapshot.source} \u2013 dsr-export preview`;
  if (first) {
    view = snapshot.formats.some((f) => f.name === "html") ? "html" :
      snapshot.formats.find((f) => f.name !== "docx")?.name || snapshot.formats[0].name;
    tabs();
  }
  statusBar();
  if (view !== "docx") show(false);
}

document.getElementById("chapter").addEventListener("change", (event) => {
  chapter = event.target.value;
  show(true);
});

const events = new EventSource("/events");
events.onmessage = (event) => {
  document.getElementById("connection").textContent = "";
  update(JSON.parse(event.data));
};
events.onerror = () => {
  document.getElementById("connection").textContent = "not connected to the preview (is it still running?)";
};
