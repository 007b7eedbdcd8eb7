// trivium.admin: small enhancements; every page also works without this script.
"use strict";

function selectAllRows() {
  const master = document.querySelector("#changelist-form .select-all");
  if (!master) return;
  master.hidden = false;
  const boxes = () => document.querySelectorAll('#changelist-form input[name="_selected"]');
  master.addEventListener("change", () => boxes().forEach((box) => { box.checked = master.checked; }));
}

// Running an action posts no edited cell: ask first when some were changed (as Django).
const UNSAVED_EDITS = "You have unsaved changes on individual editable fields. " +
  "If you run an action, your unsaved changes will be lost.";

function guardUnsavedEdits() {
  const form = document.getElementById("changelist-form");
  if (!form) return;
  let changed = false;
  form.addEventListener("change", (event) => {
    if (event.target.name && event.target.name.startsWith("form-")) changed = true;
  });
  form.addEventListener("submit", (event) => {
    const button = event.submitter;
    if (changed && button && button.name === "index" && !window.confirm(UNSAVED_EDITS)) {
      event.preventDefault();
    }
  });
}

function autocomplete(input) {
  const url = input.dataset.autocomplete;
  const list = document.createElement("ul");
  const search = document.createElement("input");
  const label = document.getElementById(input.id + "_label");
  list.className = "ac-list";
  list.id = input.id + "_results";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  search.type = "search";
  search.placeholder = "Search…";
  search.setAttribute("role", "combobox");
  search.setAttribute("aria-controls", list.id);
  search.setAttribute("aria-expanded", "false");
  search.setAttribute("aria-label", "Search " + (input.labels[0] ? input.labels[0].textContent : "related object"));
  input.after(search, list);
  let active = -1;
  let timer = null;

  function choose(item) {
    input.value = item.dataset.id;
    if (label) label.textContent = item.textContent;
    list.hidden = true;
    search.setAttribute("aria-expanded", "false");
    search.value = "";
  }

  async function load() {
    const response = await fetch(url + "?q=" + encodeURIComponent(search.value), { headers: { accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    list.replaceChildren(...data.results.map((result, index) => {
      const item = document.createElement("li");
      item.id = list.id + "_" + index;
      item.setAttribute("role", "option");
      item.dataset.id = result.id;
      item.textContent = result.text;
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(item); });
      return item;
    }));
    active = -1;
    list.hidden = data.results.length === 0;
    search.setAttribute("aria-expanded", String(!list.hidden));
  }

  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 200); });
  search.addEventListener("focus", load);
  search.addEventListener("keydown", (event) => {
    const items = list.querySelectorAll("li");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = Math.max(0, Math.min(items.length - 1, active + (event.key === "ArrowDown" ? 1 : -1)));
      items.forEach((item, index) => item.setAttribute("aria-selected", String(index === active)));
      if (items[active]) search.setAttribute("aria-activedescendant", items[active].id);
    } else if (event.key === "Enter" && items[active]) {
      event.preventDefault();
      choose(items[active]);
    } else if (event.key === "Escape") {
      list.hidden = true;
      search.setAttribute("aria-expanded", "false");
    }
  });
}

function inlineAddRow(button) {
  const group = document.getElementById(button.dataset.group);
  const template = document.getElementById(button.dataset.template);
  if (!group || !template) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const total = group.querySelector('input[name$="-TOTAL"]');
    if (!total) return;
    const index = Number(total.value);
    const html = template.innerHTML.replaceAll("__prefix__", String(index));
    group.querySelector("tbody, .rows").insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  selectAllRows();
  guardUnsavedEdits();
  document.querySelectorAll("input[data-autocomplete]").forEach(autocomplete);
  document.querySelectorAll("button[data-template]").forEach(inlineAddRow);
});
