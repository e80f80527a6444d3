// Landing page (API.md §15): live health from /health. Server data is text: textContent only.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    for (const k of kids) if (k !== undefined && k !== null) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  const str = (v) => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v));

  function badge(state) {
    return el("span", { class: "badge", "data-state": str(state) }, str(state) || "unknown");
  }

  function render(h) {
    const status = str(h.status) || "unknown";
    $("health-status").textContent = status;
    $("health-status").dataset.state = status;
    $("health-version").textContent = str(h.version) || "–";
    $("header-version").textContent = h.version ? "version " + str(h.version) : "";
    $("health-auth").textContent = h.auth === "ephemeral"
      ? "ephemeral (no secret configured: a one-off admin token was printed at start-up)"
      : str(h.auth) || "–";
    $("health-time").textContent = str(h.timestamp) || "–";
    const node = h.node && typeof h.node === "object" ? h.node : null;
    if (node) {
      const load = node.load && typeof node.load === "object"
        ? str(node.load.executions) + " executions, " + str(node.load.agents) + " agents, " + str(node.load.llm_in_flight) + " model calls"
        : "";
      const parts = [str(node.name || node.id), node.role ? "role " + str(node.role) : "", load].filter(Boolean);
      $("health-node").textContent = parts.join(" · ") || "–";
      const peers = Array.isArray(node.peers) ? node.peers : [];
      $("health-cluster").textContent = peers.length === 0
        ? "standalone (no peers)"
        : peers.length + " peer" + (peers.length === 1 ? "" : "s") + ": " +
          peers.map((p) => str(p.name || p.id) + " (" + str(p.status) + ")").join(", ");
    } else {
      $("health-node").textContent = "–";
      $("health-cluster").textContent = "–";
    }
    const body = $("health-services");
    const rows = [];
    const services = h.services && typeof h.services === "object" ? h.services : {};
    for (const [name, s0] of Object.entries(services)) {
      const s = s0 && typeof s0 === "object" ? s0 : {};
      const detail = [];
      if (Array.isArray(s.models)) detail.push("models: " + (s.models.map(str).join(", ") || "none"));
      if (s.schema_version !== undefined) detail.push("schema " + str(s.schema_version));
      if (s.error) detail.push(str(s.error));
      rows.push(el("tr", { "data-service": name },
        el("th", { scope: "row" }, name),
        el("td", {}, badge(s.status)),
        el("td", {}, typeof s.latency_ms === "number" ? s.latency_ms.toFixed(1) + " ms" : "–"),
        el("td", {}, detail.join(" · "))));
    }
    body.replaceChildren(...rows);
    // Each cell carries its column's name, for the stacked phone layout.
    const heads = Array.from(body.closest("table").querySelectorAll("thead th")).map((th) => th.textContent);
    for (const tr of body.rows) Array.from(tr.cells).forEach((c, i) => { c.dataset.label = heads[i] || ""; });
    if (h.error) $("health-message").textContent = str(h.error);
    else $("health-message").textContent = "Health " + status + " as of " + (str(h.timestamp) || "now") + ".";
  }

  let inFlight = false;
  async function load() {
    if (inFlight) return;
    inFlight = true;
    try {
      const r = await fetch("/health", { headers: { Accept: "application/json" }, cache: "no-store" });
      const h = await r.json();
      render(h && typeof h === "object" ? h : {});
    } catch (e) {
      $("health-status").textContent = "unreachable";
      $("health-status").dataset.state = "unhealthy";
      $("health-message").textContent = "Could not reach /health: " + (e && e.message ? e.message : e);
    } finally {
      inFlight = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("health-refresh").addEventListener("click", load);
    load();
    setInterval(() => { if (!document.hidden) load(); }, 15000);
  });
})();
