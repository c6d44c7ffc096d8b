// Small page helpers: repeatable rows in forms; the first field to correct gets the focus; print buttons.
const firstInvalid = document.querySelector(
  ".task-form .invalid :is(input:not([type=hidden]), select, textarea), .task-form :is(input, select, textarea).invalid");
if (firstInvalid) firstInvalid.focus();

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
    return;
  }
  const add = event.target.closest(".add-row");
  if (add) {
    const box = add.closest(".repeater");
    const template = box.querySelector("template");
    // a new row takes the next index after every row there is (indexes are never reused)
    const taken = [...box.querySelectorAll(":scope > .row")].map((r) => Number(r.dataset.index));
    const index = Math.max(-1, Number(box.dataset.next || 0) - 1, ...taken) + 1;
    box.dataset.next = String(index + 1);
    add.insertAdjacentHTML("beforebegin", template.innerHTML.replaceAll("__i__", String(index)));
    const row = add.previousElementSibling;
    row.dataset.index = String(index);
    row.querySelector("input:not([type=hidden]), select, textarea")?.focus();
    return;
  }
  const remove = event.target.closest(".remove-row");
  if (remove) {
    const rows = remove.closest(".repeater").querySelectorAll(":scope > .row");
    if (rows.length > 1) remove.closest(".row").remove();
  }
});
