// colorize serve's page: open or drop a photo, show it in grey beside its colorization, and (with a hints model)
// steer the colours with clicks. Everything goes through the server's API: POST /api/colorize, GET /api/info.
// The photo's bytes are re-sent with each new set of hints; the server keeps the decoded photo for a few
// minutes, keyed by its content, so only the network and the finish run again. A photo larger than the server's
// preview_side is steered on a preview of that size; Download PNG then asks for the full resolution.
"use strict";

const SWATCHES = [
  ["#4a7fc1", "sky blue"], ["#1f4e9c", "deep blue"], ["#3f9fb0", "sea"], ["#4f8a3a", "grass"],
  ["#2e5e2a", "foliage"], ["#e0ac8a", "skin"], ["#c0392b", "red"], ["#d9822b", "orange"],
  ["#e6c229", "yellow"], ["#7a5230", "brown"], ["#7d4fa0", "purple"], ["#808080", "no colour (grey)"],
];

const $ = (id) => document.getElementById(id);
const state = {
  info: null,
  file: null, name: "", width: 0, height: 0, generation: 0, // the open photo; generation counts opens
  hints: [], selected: -1, undo: [], editStart: null,      // hints: {x, y, color}, pixels of the photo
  nextColor: "#4a7fc1",                                    // the colour of the next click (swatches set it)
  resultUrl: null, fullUrl: null, previewed: false, greyUrl: null, greyFailed: false,
  inFlight: false, again: false, requests: 0, results: 0,
  reference: null, referenceUrl: null, // a colour photo whose colours are matched onto the photo (kept across photos)
};

// -- messages and the busy indicator ---------------------------------------------------------------------
function showError(message) {
  $("error").textContent = String(message).split("\n")[0];
  $("error").hidden = false;
  document.body.dataset.state = "error";
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

// -- opening a photo --------------------------------------------------------------------------------------
async function openFile(file) {
  if (!file) return;
  clearError();
  if (state.info && file.size > state.info.max_upload_bytes) {
    const mib = (n) => (n / 2 ** 20).toFixed(1) + " MiB";
    showError(`${file.name} is ${mib(file.size)}, over this server's limit of ${mib(state.info.max_upload_bytes)}`);
    return;
  }
  if (state.file) {
    // A photo is being worked on: the new file replaces it (and its hints) only once the server has taken it,
    // so a file that is not a photo costs an error line, never the work on screen.
    const opening = (state.opening = (state.opening || 0) + 1);
    let result;
    busy(+1);
    try {
      result = await request(state.info ? state.info.preview_side : 0, { file, name: file.name || "photo", hints: [] });
    } catch (err) {
      if (opening === state.opening) {
        if (err instanceof ServerError) showError(err.message); // the file was refused: the open photo stays
        else requestFailed(err);
      }
      return;
    } finally {
      busy(-1);
    }
    if (opening !== state.opening) { URL.revokeObjectURL(result.url); return; } // a newer file was opened since
    replacePhoto(file);
    await showResult(result);
    return;
  }
  replacePhoto(file);
  colorize();
}

function replacePhoto(file) {
  for (const url of [state.greyUrl, state.resultUrl, state.fullUrl]) if (url) URL.revokeObjectURL(url);
  Object.assign(state, {
    file, name: file.name || "photo", width: 0, height: 0, generation: state.generation + 1,
    hints: [], selected: -1, undo: [], editStart: null, resultUrl: null, fullUrl: null, previewed: false,
    greyFailed: false,
  });
  delete document.body.dataset.photo;
  $("download-png").removeAttribute("href");
  $("download-png").setAttribute("aria-disabled", "true");
  state.greyUrl = URL.createObjectURL(file);
  $("grey").src = state.greyUrl;
  $("result").removeAttribute("src");
  if (typeof resetBorder === "function") resetBorder();
  document.body.classList.add("has-photo");
  render();
}

function closePhoto() {
  if (state.greyUrl) URL.revokeObjectURL(state.greyUrl);
  Object.assign(state, { file: null, greyUrl: null, width: 0, height: 0, hints: [], selected: -1, undo: [] });
  $("grey").removeAttribute("src");
  document.body.classList.remove("has-photo");
  delete document.body.dataset.photo;
  render();
}

function setPhotoSize(width, height) {
  if (width && (width !== state.width || height !== state.height)) {
    Object.assign(state, { width, height });
    document.body.dataset.photo = `${width}x${height}`;
    render();
  }
}

// -- talking to the server --------------------------------------------------------------------------------
class ServerError extends Error {}

function busy(change) {
  state.requests += change;
  const on = state.requests > 0;
  $("busy").hidden = !on;
  $("result-stage").setAttribute("aria-busy", String(on));
  if (on) document.body.dataset.state = "busy";
  else if (document.body.dataset.state === "busy") document.body.dataset.state = "ready";
}

async function request(preview, photo = state) {
  // The photo's bytes go with every request: the server finds the photo it already decoded by their hash.
  // ``photo`` ({file, name, hints}): the open photo, or a file being tried before it replaces it.
  const form = new FormData();
  form.append("image", photo.file, photo.name);
  if (state.info && state.info.hints && photo.hints.length) form.append("hints", JSON.stringify(hintsJson(photo.hints)));
  if (preview) form.append("preview", String(preview));
  if (state.reference) form.append("reference", state.reference, state.reference.name || "reference");
  // The vividness slider: the server keeps the network's colours of this photo and these hints, so a new value
  // re-runs only the full-resolution finish.
  const saturation = $("saturation") ? Number($("saturation").value) : 1;
  if (saturation !== 1) form.append("saturation", String(saturation));
  if (typeof borderField === "function") form.append("border", borderField(photo)); // border.js
  const response = await fetch("api/colorize", { method: "POST", body: form });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ServerError(body.error || `the server answered ${response.status}`);
  }
  const [width, height] = (response.headers.get("X-Photo-Size") || "0x0").split("x").map(Number);
  const note = response.headers.get("X-Reference-Note");
  return { url: URL.createObjectURL(await response.blob()), width, height, note: note && decodeURIComponent(note),
           border: response.headers.get("X-Border") };
}

function requestFailed(err) {
  if (!(err instanceof ServerError)) {
    showError(`no answer from the server (${err.message}); is it still running?`);
    return;
  }
  showError(err.message);
  if (err.message.startsWith("reference ")) { setReference(null, false); return; } // the photo stays
  if (!state.resultUrl) closePhoto(); // the photo itself was refused: back to "open or drop a photo"
}

// -- the colour reference ---------------------------------------------------------------------------------
function setReference(file, recolorize = true) {
  if (state.referenceUrl) URL.revokeObjectURL(state.referenceUrl);
  Object.assign(state, { reference: file || null, referenceUrl: file ? URL.createObjectURL(file) : null });
  const thumb = $("reference-thumb");
  if (file) thumb.src = state.referenceUrl; else thumb.removeAttribute("src");
  thumb.hidden = !file;
  $("reference-remove").hidden = !file;
  showReferenceNote(null);
  document.body.dataset.reference = file ? "1" : "0";
  if (recolorize && state.file) { clearError(); colorize(); }
}

function showReferenceNote(note) {
  // What the reference did, beside its thumbnail: "matched 34% of photo.jpg" / "matched nothing ...: automatic colours"
  const shown = $("reference-note");
  shown.textContent = note ? note.replace(/^reference .*?: /, "") : "";
  shown.title = note || "";
  shown.hidden = !note;
  shown.classList.toggle("unused", Boolean(note) && note.includes("matched nothing"));
}

async function colorize() {
  if (!state.file) return;
  if (state.inFlight) { state.again = true; return; } // the newest hints go out when this request returns
  state.inFlight = true;
  busy(+1);
  const generation = state.generation;
  try {
    const result = await request(state.info ? state.info.preview_side : 0);
    if (generation !== state.generation) { URL.revokeObjectURL(result.url); return; }
    await showResult(result);
    clearError();
  } catch (err) {
    if (generation === state.generation) requestFailed(err);
  } finally {
    state.inFlight = false;
    busy(-1);
    if (state.again) { state.again = false; colorize(); }
  }
}

async function showResult({ url, width, height, note, border }) {
  if (state.reference) showReferenceNote(note);
  const img = $("result");
  img.src = url;
  try { await img.decode(); } catch (err) { /* shown anyway once loaded */ }
  for (const old of [state.resultUrl, state.fullUrl]) if (old) URL.revokeObjectURL(old);
  Object.assign(state, { resultUrl: url, fullUrl: null });
  setPhotoSize(width || img.naturalWidth, height || img.naturalHeight);
  if (typeof showBorder === "function") showBorder(border); // border.js: the box inside a scan's border
  state.previewed = img.naturalWidth < state.width; // a preview: the download asks for the full resolution
  if (state.greyFailed) $("grey").src = url;
  const link = $("download-png");
  link.href = url;
  link.download = `${stem(state.name)}-colorized.png`;
  link.setAttribute("aria-disabled", "false");
  state.results += 1;
  document.body.dataset.results = String(state.results);
}

async function downloadPng(event) {
  const link = event.currentTarget;
  if (!state.resultUrl) { event.preventDefault(); return; }
  if (!state.previewed || state.fullUrl) return; // the link holds the full-resolution PNG already
  event.preventDefault();
  const shown = state.results;
  busy(+1);
  try {
    const full = await request(0);
    if (shown !== state.results) { URL.revokeObjectURL(full.url); return; } // the hints changed meanwhile
    state.fullUrl = full.url;
    link.href = full.url;
    link.click();
  } catch (err) {
    requestFailed(err);
  } finally {
    busy(-1);
  }
}

// -- hints --------------------------------------------------------------------------------------------------
const stem = (name) => name.replace(/\.[^.]*$/, "") || "photo";
const round1 = (v) => Math.round(v * 10) / 10;
const snapshot = () => state.hints.map((h) => ({ ...h }));

function hintsJson(hints = state.hints) {
  return hints.map((h) => ({ x: h.x, y: h.y, color: h.color }));
}

function remember(before) {
  state.undo.push(before || snapshot());
  if (state.undo.length > 200) state.undo.shift();
}

function changed() {
  render();
  colorize();
}

function pointOf(event, img) {
  const box = img.getBoundingClientRect();
  const clamp = (v, size) => Math.min(Math.max(v, 0), size - 0.01);
  return {
    x: round1(clamp(((event.clientX - box.left) / box.width) * state.width, state.width)),
    y: round1(clamp(((event.clientY - box.top) / box.height) * state.height, state.height)),
  };
}

function addHint(event) {
  if (!state.info || !state.info.hints || !state.width) return;
  if (state.hints.length >= state.info.max_hints) {
    showError(`at most ${state.info.max_hints} hints`);
    return;
  }
  remember();
  // Colour first, as the toolbar says: the click takes the chosen colour and stays unselected, so the next
  // swatch is the next click's colour, never a recolouring of this one.
  state.hints.push({ ...pointOf(event, event.currentTarget), color: state.nextColor });
  state.selected = -1;
  changed();
}

function select(index) {
  // Marks the selection in place: a marker being dragged must stay the element that holds the pointer.
  state.selected = index;
  state.editStart = null;
  for (const marker of document.querySelectorAll(".marker")) {
    marker.classList.toggle("selected", Number(marker.dataset.index) === index);
  }
  document.querySelectorAll("#hint-list li").forEach((li, i) => li.classList.toggle("selected", i === index));
  showMode();
}

function showMode() {
  // The toolbar says what a colour does now: the next click's colour, or (a hint selected) that hint's.
  const selected = state.selected >= 0 && state.selected < state.hints.length;
  $("color").value = selected ? state.hints[state.selected].color : state.nextColor;
  $("hint-mode").textContent = selected ? `Hint ${state.selected + 1} selected: a colour recolours it`
    : "Click the photo to add a hint in";
  $("deselect").hidden = !selected;
  document.body.classList.toggle("hint-selected", selected);
  for (const swatch of document.querySelectorAll(".swatch")) {
    swatch.setAttribute("aria-pressed", String(swatch.dataset.color === $("color").value));
  }
}

function removeHint(index) {
  remember();
  state.hints.splice(index, 1);
  state.selected = index === state.selected ? -1 : state.selected - (index < state.selected ? 1 : 0);
  changed();
}

function setColor(color, committed) {
  $("color").value = color;
  if (state.selected < 0) { state.nextColor = color; showMode(); return; } // the colour of the next click
  if (!state.editStart) state.editStart = snapshot();
  state.hints[state.selected].color = color;
  if (committed) { remember(state.editStart); state.editStart = null; }
  changed();
}

function undo() {
  if (!state.undo.length) return;
  state.hints = state.undo.pop();
  state.editStart = null;
  state.selected = Math.min(state.selected, state.hints.length - 1);
  changed();
}

function startDrag(event, index) {
  event.preventDefault();
  event.stopPropagation();
  select(index);
  const marker = event.currentTarget;
  const img = marker.closest(".stage").querySelector("img");
  const before = snapshot();
  let moved = false;
  marker.setPointerCapture(event.pointerId);
  marker.onpointermove = (move) => {
    Object.assign(state.hints[index], pointOf(move, img));
    moved = true;
    placeMarkers();
  };
  marker.onpointerup = marker.onpointercancel = () => {
    marker.onpointermove = marker.onpointerup = marker.onpointercancel = null;
    if (moved) { remember(before); changed(); }
  };
}

// -- drawing ------------------------------------------------------------------------------------------------
function placeMarkers() {
  for (const marker of document.querySelectorAll(".marker")) {
    const hint = state.hints[Number(marker.dataset.index)];
    marker.style.left = `${(hint.x / state.width) * 100}%`;
    marker.style.top = `${(hint.y / state.height) * 100}%`;
  }
  document.querySelectorAll("#hint-list li").forEach((li, i) => {
    li.querySelector(".x").value = state.hints[i].x;
    li.querySelector(".y").value = state.hints[i].y;
  });
}

function render() {
  for (const layer of document.querySelectorAll(".markers")) {
    layer.replaceChildren(...(state.width ? state.hints : []).map((hint, i) => {
      const marker = document.createElement("div");
      marker.className = "marker" + (i === state.selected ? " selected" : "");
      marker.dataset.index = String(i);
      marker.style.background = hint.color;
      marker.title = `hint ${i + 1}: ${hint.color} at ${hint.x}, ${hint.y}`;
      marker.textContent = String(i + 1);
      marker.addEventListener("pointerdown", (event) => startDrag(event, i));
      return marker;
    }));
  }
  $("hint-list").replaceChildren(...state.hints.map((hint, i) => hintItem(hint, i)));
  placeMarkers();
  $("hint-count").textContent = String(state.hints.length);
  showMode();
  $("undo").disabled = !state.undo.length;
  $("clear").disabled = !state.hints.length;
  $("download-hints").setAttribute("aria-disabled", String(!state.file || !state.width));
}

function hintItem(hint, i) {
  const li = document.createElement("li");
  li.className = i === state.selected ? "selected" : "";
  const chip = document.createElement("button");
  chip.type = "button";
  chip.className = "chip";
  chip.style.background = hint.color;
  chip.title = `select hint ${i + 1} (${hint.color})`;
  chip.addEventListener("click", () => select(i));
  const coordinate = (axis, size) => {
    const input = document.createElement("input");
    Object.assign(input, { type: "number", className: axis, min: 0, max: size - 0.01, step: 0.1 });
    input.setAttribute("aria-label", `hint ${i + 1} ${axis}`);
    input.addEventListener("change", () => {
      const value = Number(input.value);
      if (!Number.isFinite(value)) return render();
      remember();
      state.hints[i][axis] = round1(Math.min(Math.max(value, 0), size - 0.01));
      changed();
    });
    return input;
  };
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "remove";
  remove.textContent = "×";
  remove.title = `remove hint ${i + 1}`;
  remove.addEventListener("click", () => removeHint(i));
  li.append(chip, "x", coordinate("x", state.width), "y", coordinate("y", state.height), remove);
  return li;
}

function downloadHints(event) {
  if (!state.file || !state.width) { event.preventDefault(); return; }
  // The shape `colorize predict --hints FILE` reads: {"photo.jpg": [{"x", "y", "color"}, ...]}
  const text = JSON.stringify({ [state.name]: hintsJson() }, null, 2) + "\n";
  const link = event.currentTarget;
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  link.download = `${stem(state.name)}.hints.json`;
}

// -- before / after, and zoom -------------------------------------------------------------------------------
// The result panel shows the grey input over its left part (a split set by the slider or by dragging its line),
// or over all of it while C or "Hold to compare" is held. Both panels zoom together (buttons, + / - / 0, Ctrl +
// wheel on a photo, which keeps the point under the pointer in place) and scroll together when zoomed.
const ZOOMS = [1, 1.5, 2, 3, 4, 6, 8, 12, 16];
const view = { zoom: 1, fit: 0, generation: -1 };

function setSplit(percent) {
  const split = Math.min(Math.max(percent, 0), 100);
  $("compare").value = String(split);
  $("result-stage").style.setProperty("--split", `${split}%`);
  document.body.classList.toggle("splitting", split > 0);
}

function dragSplit(event) {
  event.preventDefault();
  event.stopPropagation();
  const line = event.currentTarget;
  line.setPointerCapture(event.pointerId);
  line.onpointermove = (move) => {
    const box = $("result-stage").getBoundingClientRect();
    setSplit(((move.clientX - box.left) / box.width) * 100);
  };
  line.onpointerup = line.onpointercancel = () => { line.onpointermove = line.onpointerup = line.onpointercancel = null; };
}

function comparing(on) {
  document.body.classList.toggle("comparing", on);
  $("compare-hold").setAttribute("aria-pressed", String(on));
}

function shownImage() {
  return [$("result"), $("grey")].find((img) => img.getAttribute("src") && img.getBoundingClientRect().width > 0);
}

function setZoom(zoom, anchor) {
  const img = shownImage();
  if (!img || !state.width) return;
  const viewports = [...document.querySelectorAll(".viewport")];
  const port = (anchor && anchor.target.closest(".viewport")) || img.closest(".viewport");
  const portBox = port.getBoundingClientRect();
  const oldBox = img.getBoundingClientRect();
  // The photo's point under the anchor (the pointer, else the viewport's centre), as shares of its size.
  const at = anchor ? { x: anchor.clientX, y: anchor.clientY } : {
    x: portBox.left + Math.min(portBox.width, oldBox.width) / 2,
    y: portBox.top + Math.min(portBox.height, oldBox.height) / 2,
  };
  const share = { x: (at.x - oldBox.left) / oldBox.width, y: (at.y - oldBox.top) / oldBox.height };
  if (view.zoom === 1) view.fit = oldBox.width; // the fitted width, measured before leaving it
  view.zoom = Math.min(Math.max(zoom, ZOOMS[0]), ZOOMS[ZOOMS.length - 1]);
  document.documentElement.style.setProperty("--zoom-width", `${view.fit * view.zoom}px`);
  document.body.classList.toggle("zoomed", view.zoom > 1);
  document.body.dataset.zoom = String(view.zoom);
  const newBox = img.getBoundingClientRect();
  for (const other of viewports) {
    other.scrollLeft += newBox.left + share.x * newBox.width - at.x;
    other.scrollTop += newBox.top + share.y * newBox.height - at.y;
  }
  showZoom();
}

function stepZoom(direction, anchor) {
  const next = direction > 0 ? ZOOMS.find((z) => z > view.zoom + 1e-6) : [...ZOOMS].reverse().find((z) => z < view.zoom - 1e-6);
  if (next) setZoom(next, anchor);
}

function showZoom() {
  const img = shownImage();
  $("zoom-level").textContent = img && state.width ? `${Math.round((img.getBoundingClientRect().width / state.width) * 100)}%` : "";
  $("zoom-out").disabled = view.zoom <= ZOOMS[0];
  $("zoom-in").disabled = view.zoom >= ZOOMS[ZOOMS.length - 1];
  $("zoom-fit").disabled = view.zoom === 1;
}

function setupView() {
  const before = Object.assign(document.createElement("img"), { id: "compare-before", className: "compare-before", alt: "" });
  before.setAttribute("aria-hidden", "true");
  const line = Object.assign(document.createElement("div"), { className: "compare-line", title: "drag: before / after" });
  const markers = $("result-stage").querySelector(".markers");
  $("result-stage").insertBefore(before, markers);
  $("result-stage").insertBefore(line, markers);
  // The "before" is whatever the grey panel shows; a new photo starts unzoomed.
  new MutationObserver(() => {
    const src = $("grey").getAttribute("src");
    if (src) before.src = src; else before.removeAttribute("src");
    if (view.generation !== state.generation) { view.generation = state.generation; if (view.zoom !== 1) setZoom(1); }
    showZoom();
  }).observe($("grey"), { attributes: true, attributeFilter: ["src"] });
  new MutationObserver(showZoom).observe(document.body, { attributes: true, attributeFilter: ["data-photo"] });
  $("compare").addEventListener("input", () => setSplit(Number($("compare").value)));
  $("saturation").addEventListener("input", () => {
    $("saturation-value").textContent = Number($("saturation").value).toFixed(2);
    colorize(); // one request at a time: the newest value goes out when the one in flight returns
  });
  line.addEventListener("pointerdown", dragSplit);
  const hold = $("compare-hold");
  hold.addEventListener("pointerdown", () => comparing(true));
  for (const type of ["pointerup", "pointerleave", "pointercancel", "blur"]) hold.addEventListener(type, () => comparing(false));
  hold.addEventListener("keydown", (event) => { if (event.key === " " || event.key === "Enter") comparing(true); });
  hold.addEventListener("keyup", () => comparing(false));
  document.addEventListener("keydown", (event) => {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey || !state.width) return;
    if (event.key === "c" || event.key === "C") comparing(true);
    else if (event.key === "+" || event.key === "=") stepZoom(+1);
    else if (event.key === "-") stepZoom(-1);
    else if (event.key === "0") setZoom(1);
  });
  document.addEventListener("keyup", (event) => { if (event.key === "c" || event.key === "C") comparing(false); });
  window.addEventListener("blur", () => comparing(false));
  $("zoom-in").addEventListener("click", () => stepZoom(+1));
  $("zoom-out").addEventListener("click", () => stepZoom(-1));
  $("zoom-fit").addEventListener("click", () => setZoom(1));
  const viewports = [...document.querySelectorAll(".viewport")];
  for (const port of viewports) {
    port.addEventListener("wheel", (event) => {
      if (!event.ctrlKey || !state.width) return;
      event.preventDefault();
      stepZoom(event.deltaY < 0 ? +1 : -1, event);
    }, { passive: false });
    port.addEventListener("scroll", () => { // the other panel shows the same part of the photo
      for (const other of viewports) {
        if (other !== port) { other.scrollLeft = port.scrollLeft; other.scrollTop = port.scrollTop; }
      }
    });
  }
  window.addEventListener("resize", () => { if (view.zoom !== 1) { const zoom = view.zoom; setZoom(1); setZoom(zoom); } });
  showZoom();
}

// -- wiring -------------------------------------------------------------------------------------------------
function typing(event) {
  return ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
}

async function start() {
  setupView();
  for (const [color, label] of SWATCHES) {
    const swatch = document.createElement("button");
    swatch.type = "button";
    swatch.className = "chip swatch";
    swatch.style.background = color;
    swatch.title = label;
    swatch.dataset.color = color;
    swatch.addEventListener("click", () => setColor(color, true));
    $("swatches").append(swatch);
  }
  $("file").addEventListener("change", (event) => { openFile(event.target.files[0]); event.target.value = ""; });
  $("reference-file").addEventListener("change", (event) => { setReference(event.target.files[0]); event.target.value = ""; });
  $("reference-remove").addEventListener("click", () => setReference(null));
  const referenceArea = $("reference-tools");
  referenceArea.addEventListener("dragover", (event) => { event.preventDefault(); referenceArea.classList.add("dragging"); });
  referenceArea.addEventListener("dragleave", () => referenceArea.classList.remove("dragging"));
  referenceArea.addEventListener("drop", (event) => { // dropped here: the reference, not a new photo
    event.preventDefault();
    event.stopPropagation();
    referenceArea.classList.remove("dragging");
    document.body.classList.remove("dragging");
    if (event.dataTransfer.files[0]) setReference(event.dataTransfer.files[0]);
  });
  $("color").addEventListener("input", (event) => setColor(event.target.value, false));
  $("color").addEventListener("change", (event) => setColor(event.target.value, true));
  $("undo").addEventListener("click", undo);
  $("deselect").addEventListener("click", () => select(-1));
  $("clear").addEventListener("click", () => { remember(); state.hints = []; state.selected = -1; changed(); });
  $("download-hints").addEventListener("click", downloadHints);
  $("download-png").addEventListener("click", downloadPng);
  $("grey").addEventListener("load", (event) => { // the size until the server says it
    if (!state.width) setPhotoSize(event.target.naturalWidth, event.target.naturalHeight);
  });
  $("grey").addEventListener("error", () => { // a format the browser cannot show: grey the result instead
    if (!state.file || state.greyFailed) return;
    state.greyFailed = true;
    $("grey").removeAttribute("src");
    if (state.resultUrl) $("grey").src = state.resultUrl; // the result came first (a photo opened over another)
  });
  for (const id of ["grey", "result"]) $(id).addEventListener("click", addHint);
  document.addEventListener("keydown", (event) => {
    if (typing(event)) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { event.preventDefault(); undo(); }
    else if ((event.key === "Delete" || event.key === "Backspace") && state.selected >= 0) removeHint(state.selected);
    else if (event.key === "Escape") select(-1);
  });
  document.addEventListener("dragover", (event) => { event.preventDefault(); document.body.classList.add("dragging"); });
  document.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) document.body.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    document.body.classList.remove("dragging");
    openFile(event.dataTransfer.files[0]);
  });
  try {
    const response = await fetch("api/info");
    state.info = await response.json();
  } catch (err) {
    showError(`no answer from the server (${err.message}); is it still running?`);
    return;
  }
  $("model").textContent = `model: ${state.info.preset}`;
  document.body.classList.toggle("no-hints", !state.info.hints);
  document.body.dataset.state = state.file ? document.body.dataset.state : "empty";
  render();
}

start();
