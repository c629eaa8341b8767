// colorize serve's page: a scan's border. The server finds a uniform border around the photo (white, black or
// cream paper), leaves it out of the colouring and answers its box (X-Border); the box is drawn on the grey photo,
// where its edges can be dragged, the whole box moved by its grip, or the box removed (the whole photo is then
// coloured, as with the checkbox unticked). A moved box is sent with the next requests in the photo's pixels.
"use strict";

const border = { mode: "auto", box: null }; // mode: auto (the server finds it), off, or box (the user's)
const BORDER_MIN = 8; // photo pixels: the smallest box a drag leaves

function borderField(photo) {
  if (photo !== state) return $("border-detect").checked ? "auto" : "off"; // a photo being tried: no box yet
  if (border.mode === "box" && border.box) return border.box.map((v) => Math.round(v)).join(",");
  return border.mode;
}

function showBorder(header) {
  const parts = header && header !== "none" ? header.split(",").map(Number) : null;
  border.box = parts && parts.length === 4 && parts.every(Number.isFinite) ? parts : null;
  drawBorder();
}

function resetBorder() {
  Object.assign(border, { mode: $("border-detect").checked ? "auto" : "off", box: null });
  drawBorder();
}

function drawBorder() {
  const layer = $("border-box");
  const box = border.box;
  layer.hidden = !(box && state.width && state.height);
  document.body.dataset.border = box ? box.join(",") : "none";
  $("border-info").textContent = box ? `border kept neutral: the photo is ${Math.round(box[2] - box[0])} x ` +
    `${Math.round(box[3] - box[1])} px inside it (drag its edges)` : "";
  if (layer.hidden) return;
  Object.assign(layer.style, {
    left: `${(box[0] / state.width) * 100}%`, top: `${(box[1] / state.height) * 100}%`,
    width: `${((box[2] - box[0]) / state.width) * 100}%`, height: `${((box[3] - box[1]) / state.height) * 100}%`,
  });
}

function dragBorder(event, part) {
  event.preventDefault();
  event.stopPropagation();
  const handle = event.currentTarget;
  const img = $("grey");
  const start = pointOf(event, img);
  const before = border.box.slice();
  let moved = false;
  handle.setPointerCapture(event.pointerId);
  handle.onpointermove = (move) => {
    const at = pointOf(move, img);
    const [dx, dy] = [at.x - start.x, at.y - start.y];
    let [left, top, right, bottom] = before;
    if (part === "grip") { // the whole box, kept on the photo
      const mx = Math.min(Math.max(dx, -left), state.width - right);
      const my = Math.min(Math.max(dy, -top), state.height - bottom);
      [left, right, top, bottom] = [left + mx, right + mx, top + my, bottom + my];
    } else if (part === "left") left = Math.min(Math.max(left + dx, 0), right - BORDER_MIN);
    else if (part === "right") right = Math.max(Math.min(right + dx, state.width), left + BORDER_MIN);
    else if (part === "top") top = Math.min(Math.max(top + dy, 0), bottom - BORDER_MIN);
    else bottom = Math.max(Math.min(bottom + dy, state.height), top + BORDER_MIN);
    border.box = [left, top, right, bottom];
    moved = true;
    drawBorder();
  };
  handle.onpointerup = handle.onpointercancel = () => {
    handle.onpointermove = handle.onpointerup = handle.onpointercancel = null;
    if (moved) { border.mode = "box"; colorize(); }
  };
}

function setupBorder() {
  const layer = Object.assign(document.createElement("div"), { id: "border-box", className: "border-box", hidden: true });
  for (const part of ["top", "right", "bottom", "left", "grip"]) {
    const handle = Object.assign(document.createElement("div"), { className: `border-${part === "grip" ? "grip" : "edge"}` });
    handle.dataset.part = part;
    handle.title = part === "grip" ? "drag to move the box of the photo inside its border" : `drag the ${part} edge`;
    handle.addEventListener("pointerdown", (event) => dragBorder(event, part));
    layer.append(handle);
  }
  const remove = Object.assign(document.createElement("button"), { id: "border-remove", type: "button", textContent: "×",
    title: "no border: colour the whole photo" });
  remove.addEventListener("click", (event) => {
    event.stopPropagation();
    $("border-detect").checked = false;
    Object.assign(border, { mode: "off", box: null });
    drawBorder();
    colorize();
  });
  layer.append(remove);
  $("grey-stage").insertBefore(layer, $("grey-stage").querySelector(".markers"));
  $("border-detect").addEventListener("change", () => {
    Object.assign(border, { mode: $("border-detect").checked ? "auto" : "off", box: null });
    drawBorder();
    colorize();
  });
  new MutationObserver(drawBorder).observe(document.body, { attributes: true, attributeFilter: ["data-photo"] });
  fetch("api/info").then((response) => response.json()).then((info) => { // colorize serve --keep-border
    if (info.border === false && !state.file) { $("border-detect").checked = false; border.mode = "off"; }
  }).catch(() => {});
}

setupBorder();
