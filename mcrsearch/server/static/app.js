// mcrsearch web page: search by text, file, microphone or "more like this"; show, play and turn results;
// browse the collection and follow index jobs. Plain ES modules served by the same server:
//   api.js (every endpoint) · dom.js · format.js, query.js (pure, unit-tested with node --test)
//   cards.js · viewer-dialog.js · search.js · collection.js · this file (start and routing).

import * as api from "./api.js";
import { loadCollection, setupCollection } from "./collection.js";
import { $, el, showView, toast } from "./dom.js";
import { readUrl, search, setupSearch } from "./search.js";
import { setupViewer } from "./viewer-dialog.js";

function route() {
  if (location.hash === "#collection") {
    showView("collection");
    loadCollection();
  } else {
    showView("search");
    readUrl();
    search({ push: false });
  }
}

async function start() {
  let constants;
  try {
    constants = await api.constants();      // extensions, k's bounds, job states: the server's own
  } catch (err) {
    toast(err.message);
    return;
  }
  setupSearch(constants);
  setupViewer();
  setupCollection(constants);
  window.addEventListener("popstate", route);
  window.addEventListener("hashchange", route);
  api.health().then((h) => {
    $("#collection-name").textContent = h.collection;
    $("#summary").replaceChildren(`${h.total.toLocaleString()} items in collection ${h.collection} · `,
      el("a", { href: "/#collection" }, "browse them"));
  }).catch(() => {});
  route();
  if (!location.search && !location.hash) $("#q").focus();
}

start();
