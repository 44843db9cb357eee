// The browser side of lenet_keras.draw.DrawingPad: a canvas for the pen, a Clear button, and the
// Python side's answer (the 28x28 MNIST-form image and ten probabilities) as a picture and bars.

function element(tag, className, parent) {
  const node = document.createElement(tag);
  node.className = className;
  parent.appendChild(node);
  return node;
}

function render({ model, el }) {
  const size = model.get("size");
  const root = element("div", "lenet-draw", el);
  root.style.cssText = "display:inline-flex;gap:16px;align-items:flex-start;font:13px sans-serif;";

  const left = element("div", "lenet-draw-left", root);
  const pad = element("canvas", "lenet-draw-pad", left);
  pad.width = pad.height = size;
  // touch-action none: a finger draws instead of scrolling the page.
  pad.style.cssText = "border:1px solid #888;cursor:crosshair;touch-action:none;display:block;";
  const clear = element("button", "lenet-draw-clear", left);
  clear.textContent = "Clear";
  clear.style.cssText = "margin-top:6px;";

  const right = element("div", "lenet-draw-right", root);
  const preview = element("canvas", "lenet-draw-mnist", right);
  preview.width = preview.height = 28;
  preview.style.cssText = "width:112px;height:112px;image-rendering:pixelated;background:black;display:block;";
  const answer = element("div", "lenet-draw-answer", right);
  answer.style.cssText = "margin:6px 0;font-size:15px;";
  const bars = element("div", "lenet-draw-bars", right);
  const rows = [];
  for (let digit = 0; digit < 10; digit++) {
    const row = element("div", "lenet-draw-bar", bars);
    row.style.cssText = "display:flex;align-items:center;gap:6px;height:16px;";
    element("span", "lenet-draw-digit", row).textContent = String(digit);
    const track = element("div", "lenet-draw-track", row);
    track.style.cssText = "width:160px;height:11px;background:#eee;";
    const fill = element("div", "lenet-draw-fill", track);
    fill.style.cssText = "height:100%;width:0;background:#888;";
    const value = element("span", "lenet-draw-value", row);
    rows.push({ fill, value });
  }

  const ctx = pad.getContext("2d");
  let sent = null;  // the last PNG this view sent, so its echo does not redraw the canvas

  function paper() {
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, size, size);
  }

  function showDrawing() {
    const url = model.get("drawing");
    if (url === sent && url) return;
    paper();
    if (!url) return;
    const picture = new Image();
    picture.onload = () => ctx.drawImage(picture, 0, 0, size, size);
    picture.src = url;
  }

  function showAnswer() {
    const mnist = model.get("mnist");
    const probabilities = model.get("probabilities");
    const prediction = model.get("prediction");
    const image = preview.getContext("2d").createImageData(28, 28);
    mnist.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
    preview.getContext("2d").putImageData(image, 0, 0);
    answer.innerHTML = probabilities.length
      ? `prediction: <b class="lenet-draw-prediction">${prediction < 0 ? "none" : prediction}</b>` +
        (prediction < 0 && model.get("reason") ? ` <span class="lenet-draw-reason">(${model.get("reason")})</span>` : "")
      : "draw a digit";
    rows.forEach((row, digit) => {
      const p = probabilities.length ? probabilities[digit] : 0;
      row.fill.style.width = `${(100 * p).toFixed(1)}%`;
      row.fill.style.background = digit === prediction ? "crimson" : "#888";
      row.value.textContent = probabilities.length ? `${(100 * p).toFixed(1)}%` : "";
    });
  }

  function point(event) {
    const box = pad.getBoundingClientRect();
    return [((event.clientX - box.left) * size) / box.width, ((event.clientY - box.top) * size) / box.height];
  }

  let last = null;
  function stroke(from, to) {
    ctx.strokeStyle = "black";
    ctx.lineWidth = model.get("pen");
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
  }
  pad.addEventListener("pointerdown", (event) => {
    pad.setPointerCapture(event.pointerId);
    last = point(event);
    stroke(last, last);
  });
  pad.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = point(event);
    stroke(last, next);
    last = next;
  });
  function penUp() {
    if (!last) return;
    last = null;
    sent = pad.toDataURL("image/png");
    model.set("drawing", sent);
    model.save_changes();
  }
  pad.addEventListener("pointerup", penUp);
  pad.addEventListener("pointercancel", penUp);
  clear.addEventListener("click", () => {
    sent = "";
    paper();
    model.set("drawing", "");
    model.save_changes();
  });

  model.on("change:drawing", showDrawing);
  model.on("change:prediction", showAnswer);
  model.on("change:probabilities", showAnswer);
  showDrawing();
  showAnswer();
  return () => {
    model.off("change:drawing", showDrawing);
    model.off("change:prediction", showAnswer);
    model.off("change:probabilities", showAnswer);
  };
}

export default { render };
