// DOM helpers shared by the views: a query shortcut, an element builder, the toast, switching views.

export const $ = (sel, root = document) => root.querySelector(sel);

/** el("a", {href, class, onclick, dataset}, ...children); null/false attributes and children are skipped. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

let toastTimer = null;
/** Show one sentence for six seconds. */
export function toast(message) {
  const box = $("#toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

/** Show the "search" or the "collection" view. */
export function showView(name) {
  $("#view-search").hidden = name !== "search";
  $("#view-collection").hidden = name !== "collection";
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-current", String(tab.dataset.view === name));
  if (name === "search" && location.hash) history.replaceState(null, "", location.pathname + location.search);
}

/** Check the radio of a native radio group whose value is `value`. */
export function checkRadio(group, value) {
  for (const input of group.querySelectorAll("input[type=radio]")) input.checked = input.value === value;
}
