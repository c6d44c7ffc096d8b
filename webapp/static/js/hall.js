// Small page helpers: repeatable rows in forms.
document.addEventListener("click", (event) => {
  const add = event.target.closest(".add-row");
  if (add) {
    const box = add.closest(".repeater");
    const template = box.querySelector("template");
    const index = box.querySelectorAll(":scope > .row").length + Date.now() % 1000;
    const html = template.innerHTML.replaceAll("__i__", String(index));
    add.insertAdjacentHTML("beforebegin", html);
    return;
  }
  const remove = event.target.closest(".remove-row");
  if (remove) {
    const rows = remove.closest(".repeater").querySelectorAll(":scope > .row");
    if (rows.length > 1) remove.closest(".row").remove();
  }
});
