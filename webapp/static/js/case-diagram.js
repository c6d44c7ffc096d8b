// The case's diagram: elements the case has passed in green, its current tasks in amber.
(async () => {
  const box = document.getElementById("diagram");
  if (!box || !window.BpmnJS) return;
  const viewer = new BpmnJS({ container: box });
  const xml = await (await fetch(box.dataset.xmlUrl, { credentials: "same-origin" })).text();
  try {
    await viewer.importXML(xml);
  } catch (err) {
    box.textContent = err.message;
    return;
  }
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const mark = (ids, cls) => ids.forEach((id) => registry.get(id) && canvas.addMarker(id, cls));
  const current = JSON.parse(box.dataset.current || "[]");
  mark(JSON.parse(box.dataset.visited || "[]").filter((id) => !current.includes(id)), "hall-done");
  mark(current, "hall-current");
  // as tall as the diagram needs at the box's width (within bounds), then fit and centre it
  const inner = canvas.viewbox().inner;
  if (inner.width > 0) {
    const height = Math.round(box.clientWidth * inner.height / inner.width) + 40;
    box.style.height = `${Math.max(280, Math.min(720, height))}px`;
    canvas.resized();
  }
  canvas.zoom("fit-viewport", "auto");
  box.dataset.ready = "true";
})();
