// The interactive API page: reads openapi.json, lists every operation with its
// parameters and lets the reader send the request. No third-party code.
// Response text is only ever inserted with textContent, never as HTML.
"use strict";

(function () {
  const BASE = location.pathname.replace(/docs\/?$/, ""); // "/" or "/prefix/"
  const METHODS = ["get", "post", "put", "patch", "delete"];
  const keyInput = document.getElementById("api-key");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child != null) node.append(child);
    }
    return node;
  }

  // Resolve local "#/components/..." references (the spec has no remote ones).
  function resolve(spec, node, seen = new Set()) {
    if (Array.isArray(node)) return node.map((item) => resolve(spec, item, seen));
    if (!node || typeof node !== "object") return node;
    if (typeof node.$ref === "string") {
      if (seen.has(node.$ref)) return {};
      const target = node.$ref.replace(/^#\//, "").split("/")
        .reduce((obj, part) => obj[part.replace(/~1/g, "/").replace(/~0/g, "~")], spec);
      return resolve(spec, target, new Set([...seen, node.$ref]));
    }
    const out = {};
    for (const [name, value] of Object.entries(node)) out[name] = resolve(spec, value, seen);
    return out;
  }

  function exampleBody(operation) {
    const media = operation.requestBody && operation.requestBody.content["application/json"];
    if (!media) return null;
    if (media.example !== undefined) return media.example;
    const examples = Object.values(media.examples || {});
    if (examples.length) return examples[0].value;
    return skeleton(media.schema || {});
  }

  function skeleton(schema) {
    if (schema.example !== undefined) return schema.example;
    if (schema.oneOf || schema.anyOf) return skeleton((schema.oneOf || schema.anyOf)[0]);
    if (schema.type === "object" || schema.properties) {
      const out = {};
      for (const name of schema.required || Object.keys(schema.properties || {})) {
        out[name] = skeleton((schema.properties || {})[name] || {});
      }
      return out;
    }
    if (schema.type === "array") return [skeleton(schema.items || {})];
    if (schema.enum) return schema.enum[0];
    return { integer: 0, number: 0, boolean: false }[schema.type] ?? "";
  }

  function paramInput(param) {
    const schema = param.schema || {};
    const id = `p-${Math.random().toString(36).slice(2)}`;
    let input;
    if (schema.type === "array") {
      input = el("textarea", { id, rows: "2", placeholder: "one value per line" });
      input.style.minHeight = "3rem";
    } else if (schema.enum) {
      input = el("select", { id }, el("option", { value: "", text: "" }),
        ...schema.enum.map((v) => el("option", { value: String(v), text: String(v) })));
    } else {
      input = el("input", { id, type: "text" });
      if (param.example !== undefined) input.placeholder = String(param.example);
      else if (schema.default !== undefined) input.placeholder = String(schema.default);
    }
    input.dataset.name = param.name;
    input.dataset.in = param.in;
    input.dataset.array = schema.type === "array" ? "1" : "";
    const label = el("td", {}, el("label", { for: id, text: param.name }),
      param.required ? el("span", { class: "required", text: " *" }) : null,
      el("div", { class: "hint", text: `${param.in}${schema.type ? ", " + schema.type : ""}` }));
    return el("tr", {}, label, el("td", {}, input,
      param.description ? el("div", { class: "hint", text: param.description }) : null));
  }

  function buildRequest(path, method, section) {
    let url = path;
    const query = new URLSearchParams();
    const headers = { Accept: "application/json, application/problem+json" };
    for (const input of section.querySelectorAll("[data-name]")) {
      const raw = input.value.trim();
      if (!raw) continue;
      const values = input.dataset.array ? raw.split("\n").map((v) => v.trim()).filter(Boolean) : [raw];
      if (input.dataset.in === "path") url = url.replace(`{${input.dataset.name}}`, encodeURIComponent(raw));
      else if (input.dataset.in === "query") values.forEach((v) => query.append(input.dataset.name, v));
      else if (input.dataset.in === "header") headers[input.dataset.name] = raw;
    }
    const key = keyInput.value.trim();
    if (key) headers.Authorization = `Bearer ${key}`;
    const init = { method: method.toUpperCase(), headers };
    const bodyInput = section.querySelector("textarea.request-body");
    if (bodyInput && bodyInput.value.trim()) {
      headers["Content-Type"] = "application/json";
      init.body = bodyInput.value;
    }
    const qs = query.toString();
    return { url: BASE + url.replace(/^\//, "") + (qs ? `?${qs}` : ""), init };
  }

  function curlFor(request) {
    const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
    const parts = ["curl", "-sS", "-X", request.init.method, quote(new URL(request.url, location.href).href)];
    for (const [name, value] of Object.entries(request.init.headers)) {
      if (name === "Accept") continue;
      parts.push("-H", quote(`${name}: ${name === "Authorization" ? "Bearer $CLAIMLOOKUP_API_KEY" : value}`));
    }
    if (request.init.body) parts.push("--data", quote(request.init.body));
    return parts.join(" ");
  }

  async function send(path, method, section, output) {
    const request = buildRequest(path, method, section);
    output.replaceChildren(el("p", { class: "hint", text: "Sending…" }));
    const started = performance.now();
    let response;
    try {
      response = await fetch(request.url, request.init);
    } catch (error) {
      output.replaceChildren(el("p", { class: "status err", text: `Network error: ${error}` }));
      return;
    }
    const elapsed = Math.round(performance.now() - started);
    const text = await response.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
    const headerLines = [...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n");
    output.replaceChildren(
      el("p", { class: `status ${response.ok ? "ok" : "err"}`,
        text: `${response.status} ${response.statusText} · ${elapsed} ms` }),
      el("pre", { text: shown || "(no body)" }),
      el("details", {}, el("summary", { text: "Response headers" }), el("pre", { text: headerLines })),
      el("details", {}, el("summary", { text: "As curl" }), el("pre", { text: curlFor(request) })));
  }

  function renderOperation(spec, path, method, operation, pathParams) {
    const id = operation.operationId || `${method}-${path}`;
    const params = [...pathParams, ...(operation.parameters || [])].map((p) => resolve(spec, p));
    const section = el("section", { class: "op", id },
      el("h3", {}, el("span", { class: `method ${method}`, text: method.toUpperCase() }),
        el("span", { class: "path", text: path }),
        el("span", { class: "summary", text: operation.summary || "" })));
    const body = el("div", { class: "body" });
    if (operation.description) body.append(el("p", { class: "description", text: operation.description.trim() }));
    if (params.length) body.append(el("table", { class: "params" }, el("tbody", {}, ...params.map(paramInput))));
    const example = exampleBody(resolve(spec, operation));
    if (example !== null) {
      body.append(el("div", { class: "hint", text: "Request body (application/json)" }),
        el("textarea", { class: "request-body", spellcheck: "false" }));
      body.lastChild.value = JSON.stringify(example, null, 2);
    }
    const statuses = Object.keys(operation.responses || {}).join(", ");
    body.append(el("div", { class: "hint", text: `Responses: ${statuses}` }));
    const output = el("div", { class: "result" });
    const button = el("button", { type: "button", text: "Send" });
    button.addEventListener("click", () => send(path, method, section, output));
    body.append(button, output);
    section.append(body);
    return section;
  }

  function render(spec) {
    document.getElementById("title").textContent = spec.info.title;
    document.getElementById("version").textContent = `version ${spec.info.version} · OpenAPI ${spec.openapi}`;
    const main = document.getElementById("operations");
    const toc = document.getElementById("toc");
    main.replaceChildren();
    const byTag = new Map();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const tag = (item[method].tags || ["other"])[0];
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push([path, method, item[method], item.parameters || []]);
      }
    }
    for (const [tag, operations] of byTag) {
      toc.append(el("h2", { text: tag }));
      main.append(el("h2", { text: tag }));
      for (const [path, method, operation, pathParams] of operations) {
        const section = renderOperation(spec, path, method, operation, pathParams);
        main.append(section);
        toc.append(el("a", { href: `#${section.id}`, text: `${method.toUpperCase()} ${path}` }));
      }
    }
  }

  keyInput.value = sessionStorage.getItem("claimlookup-key") || "";
  keyInput.addEventListener("change", () => sessionStorage.setItem("claimlookup-key", keyInput.value));

  fetch(BASE + "openapi.json")
    .then((r) => { if (!r.ok) throw new Error(`openapi.json: HTTP ${r.status}`); return r.json(); })
    .then(render)
    .catch((error) => {
      document.getElementById("operations").replaceChildren(
        el("p", { class: "status err", text: `Could not load the API description: ${error.message}` }));
    });
})();
