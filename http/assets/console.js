// PixelCraft operator console (API.md §15). Plain DOM, no libraries.
// - Every piece of server data is hostile text: the DOM is built with textContent / append,
//   never innerHTML.
// - The admin token lives in sessionStorage (this tab only) and goes out as a Bearer header
//   (and as ?token= on the monitor WebSocket, which cannot carry headers from a browser).
// - The live view follows the §8 monitor: it always asks for `?since=<last seq seen>` (0 at
//   first), so the timeline holds every event 1..N exactly once, across reconnects.
//   Frames are queued and applied once per animation frame.
"use strict";
(function () {
  const TOKEN_KEY = "pixelcraft.console.token";
  const TERMINAL = new Set(["completed", "failed", "cancelled"]);
  const MAX_TIMELINE_ROWS = 5000;   // older rows are dropped from the DOM beyond this
  const MAX_OUTPUT_CHARS = 200000;  // per agent
  const MAX_PER_FLUSH = 200;        // events applied per animation frame (a burst spreads out)
  const WF_PAGE = 20;
  const APPR_PAGE = 50;

  const $ = (id) => document.getElementById(id);

  /** Builds an element; attributes are set as text, children appended as text or nodes. */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const k of kids.flat(Infinity)) if (k !== undefined && k !== null) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  const str = (v) => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v));
  const short = (id) => (typeof id === "string" && id.length > 8 ? id.slice(0, 8) : str(id));
  function clip(text, n) { return text.length > n ? text.slice(0, n) + "…" : text; }
  function badge(state, label) {
    return el("span", { class: "badge", "data-state": str(state) }, label === undefined ? str(state) || "–" : label);
  }
  function setBadge(node, state, label) {
    node.dataset.state = str(state);
    node.textContent = label === undefined ? str(state) || "–" : label;
  }
  function when(ts) {
    if (typeof ts !== "string" || !ts) return "–";
    const d = new Date(ts);
    return isNaN(d) ? ts : d.toLocaleString();
  }
  function clock(ts) {
    const d = new Date(ts);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }
  function pretty(v) {
    try { return JSON.stringify(v, null, 2); } catch (e) { return String(v); }
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }
  function say(text) { $("status").textContent = text; }
  /** Copies each column's header into its cells (data-label), for the stacked phone layout. */
  function labelRows(tbody) {
    const table = tbody.closest("table");
    const heads = table ? Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent) : [];
    for (const tr of tbody.rows) {
      Array.from(tr.cells).forEach((c, i) => { if (heads[i] && !c.hasAttribute("colspan")) c.dataset.label = heads[i]; });
    }
  }
  function fillRows(id, rows) {
    const tbody = $(id);
    tbody.replaceChildren(...rows);
    labelRows(tbody);
  }

  // ------------------------------------------------------------------ API and token

  let token = "";
  try { token = sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { token = ""; }

  class ApiError extends Error {
    constructor(status, body) {
      super(describe(status, body));
      this.status = status;
      this.body = body;
    }
  }

  /** A readable message for an error body (422 details: one line per field). */
  function describe(status, body) {
    const d = body && body.detail;
    if (Array.isArray(d)) return "The server rejected some fields (" + status + ").";
    if (typeof d === "string" && d) return d + (status ? " (" + status + ")" : "");
    if (status === 0) return "The server could not be reached.";
    return "Request failed with status " + status + ".";
  }

  /** Shows an error in a container: the message, and for a 422 each field and its problem. */
  function showError(container, err) {
    container.replaceChildren();
    if (!err) return;
    const msg = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
    container.append(el("p", { class: "tight" }, msg));
    const d = err && err.body && err.body.detail;
    if (Array.isArray(d)) {
      container.append(el("ul", {}, d.map((x) => {
        const loc = Array.isArray(x && x.loc) ? x.loc.filter((p) => p !== "body").map(str).join(".") : "";
        return el("li", {}, el("strong", {}, loc || "request"), ": ", str(x && x.msg) || str(x));
      })));
    }
  }

  async function api(method, path, body, extraHeaders) {
    const headers = Object.assign({ Accept: "application/json" }, extraHeaders || {});
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let r;
    try {
      r = await fetch(path, { method, headers, cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, { detail: "The server could not be reached" });
    }
    const text = await r.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = { detail: clip(text, 300) }; }
    }
    if (r.status === 401) askToken("The server refused the token (401: missing, invalid or expired). Enter an admin token again.");
    if (!r.ok) throw new ApiError(r.status, data);
    return data;
  }

  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
    } catch (e) { return null; }
  }

  function showWho() {
    const c = token ? claims(token) : null;
    $("who").textContent = c ? "signed in as " + str(c.sub) + (c.role ? " (" + str(c.role) + ")" : "") : "";
    $("token-forget").hidden = !token;
  }

  let asking = false;
  function askToken(reason) {
    token = "";
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off: memory only */ }
    showWho();
    $("token-reason").textContent = reason;
    $("token-panel").hidden = false;
    $("token-input").value = "";
    if (!asking) {
      asking = true;
      say(reason);
      $("token-input").focus();
    }
  }

  async function useToken(candidate) {
    token = candidate;
    $("token-save").disabled = true;
    showError($("token-error"), null);
    // Only a 401 refuses the token; any other failure (the database away: 503) is shown, and
    // the token is kept.
    let problem = null;
    try {
      await api("GET", "/api/agents/workflows?limit=1");
    } catch (e) {
      if (e.status === 401) {
        $("token-save").disabled = false;
        showError($("token-error"), "This token was refused (401). Check it and try again.");
        $("token-input").focus();
        return;
      }
      problem = e;
    }
    $("token-save").disabled = false;
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* memory only */ }
    asking = false;
    $("token-input").value = "";
    $("token-panel").hidden = true;
    $("app").hidden = false;
    showWho();
    say(problem ? "Token kept, but the server could not check it: " + problem.message : "Token accepted.");
    start();
  }

  // ------------------------------------------------------------------ tabs

  const tabs = ["workflows", "approvals", "cluster", "agents"];
  let currentTab = "workflows";
  function showTab(name, focus) {
    if (!tabs.includes(name)) name = "workflows";
    currentTab = name;
    for (const b of document.querySelectorAll("[data-tab]")) {
      if (b.dataset.tab === name) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
    }
    for (const p of document.querySelectorAll("[data-panel]")) p.hidden = p.dataset.panel !== name;
    if (name === "approvals") loadApprovals();
    if (name === "cluster") loadCluster();
    if (name === "agents") loadAgentsHealth();
    if (name === "workflows") loadWorkflows();
    if (focus) {
      const h = document.querySelector("#tab-" + name + " h2");
      if (h) { h.setAttribute("tabindex", "-1"); h.focus(); }
    }
  }

  function fromHash() {
    if (!token) return;
    const h = decodeURIComponent(location.hash.replace(/^#/, ""));
    const m = /^workflow\/([0-9a-fA-F-]{36})$/.exec(h);
    if (m) {
      showTab("workflows");
      openWorkflow(m[1]);
      return;
    }
    if (tabs.includes(h)) showTab(h);
  }

  // ------------------------------------------------------------------ agents (catalogue)

  let agents = [];          // AgentInfo[]
  let chosenAgents = [];    // in the order they were checked

  async function loadAgents() {
    try {
      const data = await api("GET", "/api/agents");
      agents = Array.isArray(data && data.agents) ? data.agents : [];
    } catch (e) {
      $("wf-agent-checks").replaceChildren(el("span", { class: "error" }, "Agents could not be loaded: " + e.message));
      return;
    }
    const box = $("wf-agent-checks");
    box.replaceChildren(...agents.map((a) => {
      const id = str(a.agent_id);
      const input = el("input", { type: "checkbox", name: "agent", value: id, id: "wf-agent-" + id, "data-agent": id });
      input.checked = chosenAgents.includes(id);
      return el("label", { for: "wf-agent-" + id }, input,
        el("span", {}, str(a.name) || id, el("span", { class: "hint mono" }, id)));
    }));
    chosenAgents = chosenAgents.filter((id) => agents.some((a) => a.agent_id === id));
    showAgentOrder();
  }

  function showAgentOrder() {
    $("wf-agent-order").textContent = chosenAgents.length
      ? "Order: " + chosenAgents.join(" → ")
      : "No agent chosen.";
  }

  // ------------------------------------------------------------------ start a workflow

  function parseJsonField(id, label, errors) {
    const node = $(id);
    const text = node.value.trim();
    node.removeAttribute("aria-invalid");
    if (!text) return undefined;
    try {
      const v = JSON.parse(text);
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("it must be a JSON object");
      return v;
    } catch (e) {
      node.setAttribute("aria-invalid", "true");
      errors.push(label + ": " + (e.message || "not valid JSON"));
      return undefined;
    }
  }

  async function startWorkflow(ev) {
    ev.preventDefault();
    const errorsBox = $("wf-start-errors");
    const errors = [];
    const lead = parseJsonField("wf-lead", "Lead data", errors);
    const more = parseJsonField("wf-input", "More input data", errors);
    const config = parseJsonField("wf-config", "Workflow configuration", errors);
    for (const id of ["wf-agents", "wf-type", "wf-message"]) $(id).removeAttribute("aria-invalid");
    if (chosenAgents.length === 0) {
      errors.push("Choose at least one participating agent.");
      $("wf-agents").setAttribute("aria-invalid", "true");
    }
    if (errors.length) {
      errorsBox.replaceChildren(el("p", { class: "tight" }, "Please fix:"), el("ul", {}, errors.map((e) => el("li", {}, e))));
      if (errors.some((e) => /JSON|object/.test(e))) $("wf-advanced").open = true;
      return;
    }
    const input = Object.assign({}, more || {});
    const message = $("wf-message").value;
    if (message.trim()) input.message = message;
    if (lead) input.lead_data = lead;
    const body = {
      workflow_type: $("wf-type").value,
      participating_agents: chosenAgents.slice(),
      input_data: input,
    };
    if (config) body.workflow_config = config;
    const button = $("wf-start");
    button.disabled = true;
    showError(errorsBox, null);
    say("Starting a " + body.workflow_type + " workflow…");
    try {
      const wf = await api("POST", "/api/agents/workflows/execute", body, { "Idempotency-Key": newKey() });
      say("Workflow " + str(wf.workflow_id) + " started (" + str(wf.current_state) + ").");
      loadWorkflows();
      openWorkflow(wf.workflow_id, wf);
    } catch (e) {
      showError(errorsBox, e);
      say("The workflow was not started.");
      markInvalid(e);
    } finally {
      button.disabled = false;
    }
  }

  /** Marks the form fields a 422 named. */
  function markInvalid(e) {
    const d = e && e.body && e.body.detail;
    if (!Array.isArray(d)) return;
    const map = { workflow_type: "wf-type", participating_agents: "wf-agents", workflow_config: "wf-config",
      message: "wf-message", lead_data: "wf-lead", input_data: "wf-input" };
    for (const x of d) {
      const loc = Array.isArray(x && x.loc) ? x.loc.map(str) : [];
      for (const part of loc.slice().reverse()) {
        if (map[part]) { $(map[part]).setAttribute("aria-invalid", "true"); break; }
      }
    }
  }

  // ------------------------------------------------------------------ workflow list

  let wfOffset = 0;
  let wfTotal = 0;
  let wfLoading = false;

  async function loadWorkflows() {
    if (!token || wfLoading) return;
    wfLoading = true;
    const q = new URLSearchParams({ limit: String(WF_PAGE), offset: String(wfOffset) });
    const state = $("wf-filter-state").value;
    const type = $("wf-filter-type").value;
    const conv = $("wf-filter-conversation").value.trim();
    if (state) q.set("current_state", state);
    if (type) q.set("workflow_type", type);
    if (conv) q.set("conversation_id", conv);
    try {
      const data = await api("GET", "/api/agents/workflows?" + q);
      showError($("wf-list-error"), null);
      const items = Array.isArray(data && data.items) ? data.items : [];
      wfTotal = typeof data.total === "number" ? data.total : items.length;
      renderWorkflowList(items);
    } catch (e) {
      showError($("wf-list-error"), e);
    } finally {
      wfLoading = false;
    }
  }

  function renderWorkflowList(items) {
    const list = $("wf-list");
    const hadFocus = list.contains(document.activeElement) ? document.activeElement.dataset.open : null;
    list.replaceChildren(...items.map((w) => {
      const id = str(w.workflow_id);
      const agentsText = Array.isArray(w.participating_agents) ? w.participating_agents.map(str).join(" → ") : "";
      return el("li", { "data-workflow-id": id, "data-state": str(w.current_state) },
        badge(w.current_state),
        el("span", {}, str(w.workflow_type)),
        el("span", { class: "wf-agents" }, agentsText),
        el("span", { class: "wf-id mono", title: id }, short(id) + " · " + when(w.started_at)),
        el("button", { type: "button", "data-open": id, "aria-label": "Open workflow " + id }, "Open"));
    }));
    if (items.length === 0) list.append(el("li", { class: "hint" }, "No workflows match."));
    if (hadFocus) {
      const b = list.querySelector('[data-open="' + CSS.escape(hadFocus) + '"]');
      if (b) b.focus();
    }
    const from = wfTotal === 0 ? 0 : wfOffset + 1;
    $("wf-page-info").textContent = from + "–" + Math.min(wfOffset + items.length, wfTotal) + " of " + wfTotal;
    $("wf-prev").disabled = wfOffset === 0;
    $("wf-next").disabled = wfOffset + WF_PAGE >= wfTotal;
  }

  // ------------------------------------------------------------------ live view

  const live = {
    id: null,
    ws: null,
    lastSeq: 0,          // the last event applied (or queued), by seq
    queue: [],
    flushPending: false,
    attempts: 0,
    gaps: 0,             // holes seen in the event sequence (each one reconnects)
    retryTimer: null,
    pingTimer: null,
    lastFrameAt: 0,
    terminal: false,
    state: "",
    stateFromEvents: false,
    nodes: new Map(),    // agent -> {li, badge, status, touched}
    outputs: new Map(),  // agent -> Text node
    rows: 0,
    hiddenRows: 0,
    refreshTimers: {},
    execution: null,
  };

  function setConn(state, label) { setBadge($("live-conn"), state, label); }

  function openWorkflow(id, execution) {
    if (typeof id !== "string" || !id) return;
    if (live.id === id && live.ws) { focusLive(); return; }
    closeLive();
    live.id = id;
    live.lastSeq = 0;
    live.queue = [];
    live.terminal = false;
    live.state = "";
    live.stateFromEvents = false;
    live.nodes = new Map();
    live.outputs = new Map();
    live.rows = 0;
    live.hiddenRows = 0;
    live.attempts = 0;
    live.gaps = 0;
    live.execution = null;
    $("live").hidden = false;
    $("live").dataset.workflowId = id;
    $("live").dataset.state = "";
    $("live").dataset.lastSeq = "0";
    $("live-title").textContent = "Workflow " + short(id);
    $("live-id").textContent = id;
    for (const k of ["live-type", "live-conversation", "live-step", "live-started", "live-completed", "live-node", "live-origin", "live-error-message"])
      $(k).textContent = "–";
    setBadge($("live-state"), "", "loading");
    $("live-graph").replaceChildren();
    delete $("live-graph").dataset.type;
    $("live-edges").replaceChildren();
    $("live-timeline").replaceChildren();
    $("live-count").textContent = "0 events";
    $("live-output").replaceChildren(el("p", { class: "hint" }, "Nothing yet."));
    fillRows("live-messages", []);
    fillRows("live-memory", []);
    fillRows("live-journal", []);
    $("live-notice").hidden = true;
    $("live-to-approvals").hidden = true;
    showError($("live-error"), null);
    showError($("live-replay-error"), null);
    $("live-status").textContent = "";
    try { history.replaceState(null, "", "#workflow/" + id); } catch (e) { /* file: or sandboxed */ }
    if (execution) applyExecution(execution, false);
    updateActions();
    connect();
    loadExecution();
    loadVisualization();
    loadMessages();
    loadMemory();
    focusLive();
  }

  function focusLive() {
    $("live").scrollIntoView({ block: "start" });
    $("live-title").focus({ preventScroll: true });
  }

  function closeLive() {
    clearTimeout(live.retryTimer);
    stopPing();
    if (live.ws) {
      const ws = live.ws;
      live.ws = null;
      ws.intentional = true;
      try { ws.close(1000, "view closed"); } catch (e) { /* already closing */ }
    }
    for (const t of Object.values(live.refreshTimers)) clearTimeout(t.id);
    live.refreshTimers = {};
    live.id = null;
    setConn("closed");
  }

  function wsUrl(id, since) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + "/api/ws/workflows/" + encodeURIComponent(id) +
      "?token=" + encodeURIComponent(token) + "&since=" + since;
  }

  function connect() {
    clearTimeout(live.retryTimer);
    live.retryTimer = null;
    if (!live.id || !token) return;
    const id = live.id;
    let ws;
    try {
      ws = new WebSocket(wsUrl(id, live.lastSeq));
    } catch (e) {
      scheduleReconnect("could not open the monitor");
      return;
    }
    ws.opened = false;
    ws.since = live.lastSeq;
    live.ws = ws;
    setConn("connecting", live.attempts ? "reconnecting" : "connecting");
    ws.onopen = () => {
      if (live.ws !== ws) return;
      ws.opened = true;
      live.lastFrameAt = Date.now();
      setConn("connected");
      if (ws.since > 0) $("live-status").textContent = "Monitor reconnected; catching up after event " + ws.since + ".";
      startPing(ws);
    };
    ws.onmessage = (ev) => {
      if (live.ws !== ws) return;
      live.lastFrameAt = Date.now();
      live.attempts = 0;
      onFrame(ev.data, ws);
    };
    ws.onerror = () => { /* onclose follows and decides */ };
    ws.onclose = (ev) => {
      if (live.ws !== ws) return;
      live.ws = null;
      stopPing();
      if (ws.intentional) return;
      onDrop(ws, ev);
    };
  }

  async function onDrop(ws, ev) {
    const id = live.id;
    if (!id) return;
    if (!ws.opened) {
      // Refused at the handshake (401/404) or the network is away: ask over HTTP which.
      try {
        await api("GET", "/api/agents/workflows/" + encodeURIComponent(id));
      } catch (e) {
        if (live.id !== id) return;
        if (e.status === 401) { setConn("closed", "needs a token"); return; }
        if (e.status === 404) {
          setConn("closed");
          showError($("live-error"), "This workflow does not exist or is not yours (404).");
          return;
        }
      }
      if (live.id !== id) return;
      scheduleReconnect("the monitor could not connect");
      return;
    }
    if (ev.code === 1000 && live.terminal) { setConn("closed", "ended"); return; }
    if (ev.code === 1013) live.attempts = 0; // too far behind: catch up at once with since
    scheduleReconnect("the monitor dropped (" + ev.code + (ev.reason ? ": " + ev.reason : "") + ")");
  }

  function scheduleReconnect(why) {
    if (!live.id) return;
    const base = Math.min(10000, 250 * Math.pow(2, live.attempts));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    live.attempts++;
    setConn("reconnecting");
    $("live-status").textContent = why + "; reconnecting in " + (delay / 1000).toFixed(1) + " s from event " + live.lastSeq + ".";
    clearTimeout(live.retryTimer);
    live.retryTimer = setTimeout(connect, delay);
  }

  function startPing(ws) {
    stopPing();
    live.pingTimer = setInterval(() => {
      if (live.ws !== ws) return stopPing();
      if (Date.now() - live.lastFrameAt > 75000) {
        // Nothing heard for longer than two server pings: treat it as a dead connection.
        try { ws.close(4000, "no frames"); } catch (e) { /* closing */ }
        return;
      }
      try { ws.send('{"type":"ping"}'); } catch (e) { /* onclose follows */ }
    }, 25000);
  }
  function stopPing() { clearInterval(live.pingTimer); live.pingTimer = null; }

  function onFrame(text, ws) {
    let f;
    try { f = JSON.parse(text); } catch (e) { return; }
    if (!f || typeof f !== "object" || f.type !== "workflow_update") return; // ping, pong
    const seq = Number(f.seq);
    if (!Number.isSafeInteger(seq)) return;
    if (f.event_type === "initial_state") {
      const data = f.data && typeof f.data === "object" ? f.data : {};
      if (data.replay_truncated) {
        const hidden = Math.max(0, seq - live.lastSeq);
        if (hidden > 0) live.queue.push({ gap: hidden, from: live.lastSeq + 1, to: seq });
        const n = $("live-notice");
        n.hidden = false;
        n.textContent = "Events up to #" + seq + " are no longer kept by the server; the timeline continues after them.";
      }
      if (seq > live.lastSeq) live.lastSeq = seq;
      live.queue.push({ execution: data });
      scheduleFlush();
      return;
    }
    if (seq <= live.lastSeq) return; // seen already (a replay overlapping a live frame)
    if (seq !== live.lastSeq + 1) {
      // A hole: ask again from the last event we have, rather than show it out of order
      // (at once the first time, then with a growing delay should the server keep doing it).
      ws.intentional = true;
      live.ws = null;
      stopPing();
      try { ws.close(1000, "gap"); } catch (e) { /* closing */ }
      live.attempts = live.gaps++;
      if (live.attempts === 0) connect();
      else scheduleReconnect("events " + (live.lastSeq + 1) + "–" + (seq - 1) + " did not arrive");
      return;
    }
    live.lastSeq = seq;
    live.queue.push(f);
    scheduleFlush();
  }

  function scheduleFlush() {
    if (live.flushPending) return;
    live.flushPending = true;
    // One flush per frame; the timeout covers tabs where animation frames are paused.
    const run = () => { if (live.flushPending) flush(); };
    requestAnimationFrame(run);
    setTimeout(run, 250);
  }

  function flush() {
    live.flushPending = false;
    // A bounded slice per frame: a burst (a long replay) never freezes the page.
    const batch = live.queue.splice(0, MAX_PER_FLUSH);
    if (live.queue.length) scheduleFlush();
    if (batch.length === 0) return;
    const tl = $("live-timeline");
    const stick = tl.scrollTop + tl.clientHeight >= tl.scrollHeight - 40;
    const frag = document.createDocumentFragment();
    const outputs = new Map();
    let added = 0;
    for (const f of batch) {
      if (f.execution) { applyExecution(f.execution, true); continue; }
      if (f.gap) {
        frag.append(el("li", { class: "gap" }, "Events " + f.from + "–" + f.to + " are no longer kept."));
        continue;
      }
      frag.append(timelineRow(f));
      added++;
      applyEvent(f, outputs);
    }
    tl.append(frag);
    live.rows += added;
    while (live.rows > MAX_TIMELINE_ROWS && tl.firstChild) {
      const first = tl.firstChild;
      if (first.dataset && first.dataset.seq) { live.rows--; live.hiddenRows++; }
      first.remove();
    }
    if (stick) tl.scrollTop = tl.scrollHeight;
    for (const [agent, text] of outputs) appendOutput(agent, text);
    $("live-count").textContent = live.lastSeq + " events" + (live.hiddenRows ? " (" + live.hiddenRows + " oldest not shown)" : "");
    $("live").dataset.lastSeq = String(live.lastSeq);
  }

  function timelineRow(f) {
    const d = f.data && typeof f.data === "object" ? f.data : {};
    const agent = str(d.agent || d.from_agent);
    let detail = "";
    switch (f.event_type) {
      case "state_changed": detail = str(d.state); break;
      case "output_delta": detail = clip(str(d.text), 120); break;
      case "agent_message": detail = str(d.message_type) + " → " + str(d.to_agent) + (d.status ? " (" + str(d.status) + ")" : ""); break;
      case "memory_updated": detail = str(d.scope) + ":" + str(d.key) + " v" + str(d.version); break;
      case "step_failed": detail = str(d.error); break;
      case "step_completed": detail = d.degraded ? "degraded" : ""; break;
      case "approval_requested": detail = "approval " + short(str(d.approval_id)) + (d.step !== undefined ? " · step " + str(d.step) : ""); break;
      case "approval_resolved": detail = str(d.state) + " · approval " + short(str(d.approval_id)); break;
      case "workflow_failed": detail = str(d.error_message); break;
      default: detail = "";
    }
    return el("li", { "data-seq": String(f.seq), "data-event": str(f.event_type) },
      el("span", { class: "seq" }, String(f.seq)),
      el("span", { class: "time" }, clock(f.timestamp)),
      el("span", { class: "body" },
        el("span", { class: "ev" }, str(f.event_type)),
        agent ? el("span", { class: "agent" }, " · " + agent) : null,
        detail ? el("span", { class: "detail" }, " · " + detail) : null));
  }

  const NODE_LABEL = { pending: "pending", running: "running", awaiting_approval: "awaiting approval", completed: "completed", failed: "failed" };

  function ensureNode(agent) {
    let n = live.nodes.get(agent);
    if (n) return n;
    const graph = $("live-graph");
    if (live.nodes.size > 0) graph.append(el("li", { class: "arrow", "aria-hidden": "true" }, "→"));
    const b = el("span", { class: "status" }, "pending");
    const li = el("li", { class: "node", "data-agent": agent, "data-status": "pending" },
      el("span", { class: "name" }, agent), b);
    graph.append(li);
    n = { li, badge: b, status: "pending", touched: false };
    live.nodes.set(agent, n);
    return n;
  }

  function setNode(agent, status, fromEvent) {
    if (!agent) return;
    const n = ensureNode(agent);
    if (fromEvent) n.touched = true;
    else if (n.touched) return; // events know better than a snapshot
    if (n.status === status) return;
    n.status = status;
    n.li.dataset.status = status;
    n.badge.textContent = NODE_LABEL[status] || status;
  }

  function applyEvent(f, outputs) {
    const d = f.data && typeof f.data === "object" ? f.data : {};
    const agent = typeof d.agent === "string" ? d.agent : "";
    switch (f.event_type) {
      case "state_changed":
        live.stateFromEvents = true;
        setState(str(d.state));
        break;
      case "step_started":
        setNode(agent, "running", true);
        break;
      case "output_delta": {
        const n = agent ? ensureNode(agent) : null;
        if (n && (n.status === "pending" || !n.touched)) setNode(agent, "running", true);
        if (agent && typeof d.text === "string") outputs.set(agent, (outputs.get(agent) || "") + d.text);
        break;
      }
      case "step_completed":
        setNode(agent, "completed", true);
        refreshSoon("viz", loadVisualization, 800);
        break;
      case "step_failed":
        setNode(agent, "failed", true);
        break;
      case "approval_requested":
        setNode(agent, "awaiting_approval", true);
        $("live-to-approvals").hidden = false;
        refreshSoon("approvals", refreshApprovalsFromLive, 300);
        break;
      case "approval_resolved":
        setNode(agent, "running", true);
        refreshSoon("approvals", refreshApprovalsFromLive, 300);
        break;
      case "agent_message":
        refreshSoon("messages", loadMessages, 600);
        refreshSoon("viz", loadVisualization, 800);
        break;
      case "memory_updated":
        refreshSoon("memory", loadMemory, 600);
        break;
      case "workflow_completed":
      case "workflow_failed":
      case "workflow_cancelled":
        live.terminal = true;
        live.stateFromEvents = true;
        setState(f.event_type.slice("workflow_".length));
        if (d.error_message) $("live-error-message").textContent = str(d.error_message);
        refreshSoon("exec", loadExecution, 200);
        refreshSoon("viz", loadVisualization, 300);
        refreshSoon("messages", loadMessages, 300);
        refreshSoon("memory", loadMemory, 300);
        refreshSoon("list", loadWorkflows, 400);
        refreshSoon("approvals", refreshApprovalsFromLive, 400);
        break;
      default:
        break;
    }
  }

  /** Runs `fn` within `ms`, once for all the calls that come meanwhile (a sooner call wins). */
  function refreshSoon(key, fn, ms) {
    const due = Date.now() + ms;
    const t = live.refreshTimers[key];
    if (t && t.due <= due) return;
    if (t) clearTimeout(t.id);
    live.refreshTimers[key] = { due, id: setTimeout(() => { delete live.refreshTimers[key]; fn(); }, ms) };
  }

  function refreshApprovalsFromLive() {
    loadPendingCount();
    if (currentTab === "approvals") loadApprovals();
  }

  function appendOutput(agent, text) {
    let t = live.outputs.get(agent);
    if (!t) {
      const box = $("live-output");
      if (live.outputs.size === 0) box.replaceChildren();
      t = document.createTextNode("");
      box.append(el("section", { class: "output-agent", "data-agent": agent },
        el("h4", {}, agent), el("pre", { "aria-label": "Output of " + agent }, t)));
      live.outputs.set(agent, t);
    }
    t.appendData(text);
    if (t.length > MAX_OUTPUT_CHARS) t.deleteData(0, t.length - MAX_OUTPUT_CHARS);
  }

  function setState(state) {
    if (!state) return;
    live.state = state;
    setBadge($("live-state"), state);
    $("live").dataset.state = state;
    if (TERMINAL.has(state)) live.terminal = true;
    updateActions();
  }

  function updateActions() {
    const s = live.state;
    const ended = TERMINAL.has(s) || live.terminal;
    $("live-pause").disabled = ended || s === "paused" || s === "";
    $("live-resume").disabled = s !== "paused";
    $("live-cancel").disabled = ended || s === "";
    $("live-replay").disabled = !ended;
  }

  /** A WorkflowExecution (from GET, an action, or initial_state) into the view. */
  function applyExecution(w, trusted) {
    if (!w || typeof w !== "object") return;
    live.execution = w;
    $("live-type").textContent = str(w.workflow_type) || "–";
    $("live-graph").dataset.type = str(w.workflow_type); // arrows only where order means something
    $("live-conversation").textContent = str(w.conversation_id) || "–";
    $("live-step").textContent = w.current_step === undefined ? "–" : str(w.current_step) +
      (Array.isArray(w.execution_path) && w.execution_path.length ? " · path " + w.execution_path.map(str).join(" → ") : "");
    $("live-started").textContent = when(w.started_at);
    $("live-completed").textContent = w.completed_at ? when(w.completed_at) +
      (typeof w.execution_time_ms === "number" ? " (" + w.execution_time_ms + " ms)" : "") : "–";
    $("live-node").textContent = str(w.node) || "–";
    const meta = w.metadata && typeof w.metadata === "object" ? w.metadata : {};
    $("live-origin").textContent = meta.replay_of ? "replay of " + str(meta.replay_of)
      : meta.fork_of ? "fork of " + str(meta.fork_of) + " from step " + str(meta.from_step) : "–";
    if (w.error_message) $("live-error-message").textContent = str(w.error_message);
    if (Array.isArray(w.participating_agents)) for (const a of w.participating_agents) ensureNode(str(a));
    if (w.results && typeof w.results === "object") {
      for (const a of Object.keys(w.results)) setNode(a, "completed", false);
    }
    // A snapshot fetched over HTTP may be older than the events already shown: once events
    // have set the state they win, except for a terminal state; nothing leaves a terminal one.
    const state = str(w.current_state);
    if (!state || (live.terminal && !TERMINAL.has(state))) return;
    if (trusted || !live.stateFromEvents || TERMINAL.has(state)) setState(state);
  }

  async function loadExecution() {
    const id = live.id;
    if (!id) return;
    try {
      const w = await api("GET", "/api/agents/workflows/" + encodeURIComponent(id));
      if (live.id === id) applyExecution(w, false);
    } catch (e) {
      if (live.id === id) showError($("live-error"), e);
    }
  }

  async function loadVisualization() {
    const id = live.id;
    if (!id) return;
    let v;
    try {
      v = await api("GET", "/api/agents/workflows/" + encodeURIComponent(id) + "/visualization");
    } catch (e) {
      if (live.id === id && e.status !== 401) showError($("live-error"), e);
      return;
    }
    if (live.id !== id || !v) return;
    const g = v.execution_graph && typeof v.execution_graph === "object" ? v.execution_graph : {};
    for (const n of Array.isArray(g.nodes) ? g.nodes : []) {
      if (n && typeof n.id === "string") setNode(n.id, str(n.status) || "pending", false);
    }
    const edges = Array.isArray(g.edges) ? g.edges : [];
    $("live-edges").replaceChildren(...edges.map((e) => el("li", { "data-from": str(e.from), "data-to": str(e.to), "data-type": str(e.type) },
      str(e.from) + " → " + str(e.to) + " (" + str(e.type) + (e.count > 1 ? " ×" + str(e.count) : "") + ")")));
  }

  async function loadMessages() {
    const id = live.id;
    if (!id) return;
    try {
      const data = await api("GET", "/api/agents/workflows/" + encodeURIComponent(id) + "/messages?limit=100");
      if (live.id !== id) return;
      const items = Array.isArray(data && data.items) ? data.items : [];
      $("live-messages-count").textContent = typeof data.total === "number" ? "(" + data.total + ")" : "";
      fillRows("live-messages", (items.length ? items.map((m) => el("tr", { "data-message-id": str(m.message_id) },
        el("td", {}, clock(m.created_at)),
        el("td", {}, str(m.from_agent) + " → " + str(m.to_agent)),
        el("td", {}, str(m.message_type)),
        el("td", {}, badge(m.status)),
        el("td", {}, el("pre", {}, clip(typeof m.content === "string" ? m.content : pretty(m.content), 2000))))) :
        [el("tr", {}, el("td", { colspan: "5", class: "hint" }, "No agent messages."))]));
    } catch (e) {
      if (live.id === id && e.status !== 401) showError($("live-error"), e);
    }
  }

  async function loadMemory() {
    const id = live.id;
    if (!id) return;
    try {
      const data = await api("GET", "/api/agents/workflows/" + encodeURIComponent(id) + "/memory");
      if (live.id !== id) return;
      const items = Array.isArray(data && data.items) ? data.items : [];
      fillRows("live-memory", (items.length ? items.map((m) => el("tr", { "data-key": str(m.key) },
        el("td", { class: "mono" }, str(m.key)),
        el("td", {}, str(m.scope)),
        el("td", {}, str(m.version)),
        el("td", {}, str(m.created_by_agent)),
        el("td", {}, el("pre", {}, clip(pretty(m.value), 4000))))) :
        [el("tr", {}, el("td", { colspan: "5", class: "hint" }, "No shared memory."))]));
    } catch (e) {
      if (live.id === id && e.status !== 401) showError($("live-error"), e);
    }
  }

  async function loadJournal() {
    const id = live.id;
    if (!id) return;
    const button = $("live-journal-load");
    button.disabled = true;
    try {
      const data = await api("GET", "/api/agents/workflows/" + encodeURIComponent(id) + "/journal");
      if (live.id !== id) return;
      const items = Array.isArray(data && data.items) ? data.items : [];
      fillRows("live-journal", (items.length ? items.map((j) => el("tr", { "data-step": str(j.step), "data-call": str(j.call) },
        el("td", {}, str(j.step)), el("td", {}, str(j.call)), el("td", {}, str(j.agent)),
        el("td", {}, str(j.kind)), el("td", {}, str(j.name)), el("td", {}, badge(j.status)),
        el("td", {}, typeof j.duration_ms === "number" ? j.duration_ms.toFixed(0) : "–"),
        el("td", {}, el("details", {}, el("summary", {}, "show"),
          el("pre", {}, "request: " + clip(pretty(j.request), 4000)),
          el("pre", {}, "result: " + clip(pretty(j.result), 8000)))))) :
        [el("tr", {}, el("td", { colspan: "8", class: "hint" }, "The journal is empty."))]));
      $("live-status").textContent = "Journal loaded: " + items.length + " calls.";
    } catch (e) {
      if (live.id === id) showError($("live-error"), e);
    } finally {
      button.disabled = false;
    }
  }

  async function act(action) {
    const id = live.id;
    if (!id) return;
    if (action === "cancel" && !window.confirm("Cancel this workflow? The step in progress stops.")) return;
    const buttons = ["live-pause", "live-resume", "live-cancel"].map($);
    buttons.forEach((b) => { b.disabled = true; });
    $("live-status").textContent = action + "…";
    try {
      const w = await api("PATCH", "/api/agents/workflows/" + encodeURIComponent(id) + "/state", { action });
      if (live.id !== id) return;
      showError($("live-error"), null);
      $("live-status").textContent = "Workflow " + str(w.current_state) + ".";
      // With the monitor connected its state_changed frame says the same, in order with the
      // other events (the reply may arrive after later ones); without it, the reply is news.
      const monitored = live.ws && live.ws.readyState === WebSocket.OPEN;
      applyExecution(w, !monitored);
      loadWorkflows();
    } catch (e) {
      if (live.id === id) showError($("live-error"), e);
      $("live-status").textContent = "";
    } finally {
      updateActions();
    }
  }

  async function replay(mode) {
    const id = live.id;
    if (!id) return;
    const body = { mode };
    if (mode === "fork") {
      const n = Number($("live-fork-step").value);
      if (!Number.isInteger(n) || n < 1) {
        $("live-fork-step").setAttribute("aria-invalid", "true");
        showError($("live-replay-error"), "The step to fork from must be a whole number of 1 or more.");
        return;
      }
      $("live-fork-step").removeAttribute("aria-invalid");
      body.from_step = n;
    }
    showError($("live-replay-error"), null);
    try {
      const w = await api("POST", "/api/agents/workflows/" + encodeURIComponent(id) + "/replay", body, { "Idempotency-Key": newKey() });
      say((mode === "fork" ? "Fork " : "Replay ") + str(w.workflow_id) + " started.");
      loadWorkflows();
      openWorkflow(w.workflow_id, w);
    } catch (e) {
      showError($("live-replay-error"), e);
    }
  }

  // ------------------------------------------------------------------ approvals

  let apprOffset = 0;
  let apprTotal = 0;
  let apprLoading = false;
  const apprViews = new Map(); // approval_id -> {node, state}
  const decidedHere = new Map(); // approval_id -> its view, decided from this page

  async function loadPendingCount() {
    if (!token) return;
    try {
      const data = await api("GET", "/api/approvals?state=pending&limit=1");
      const n = typeof data.total === "number" ? data.total : 0;
      const b = $("approvals-pending-count");
      b.hidden = n === 0;
      b.textContent = n + " pending";
    } catch (e) { /* shown where the list is */ }
  }

  async function loadApprovals() {
    if (!token || apprLoading) return;
    apprLoading = true;
    const q = new URLSearchParams({ limit: String(APPR_PAGE), offset: String(apprOffset) });
    const state = $("appr-state").value;
    const wf = $("appr-workflow").value.trim();
    if (state) q.set("state", state);
    if (wf) q.set("workflow_id", wf);
    try {
      const data = await api("GET", "/api/approvals?" + q);
      showError($("approvals-error"), null);
      const items = Array.isArray(data && data.items) ? data.items : [];
      apprTotal = typeof data.total === "number" ? data.total : items.length;
      renderApprovals(items);
    } catch (e) {
      showError($("approvals-error"), e);
    } finally {
      apprLoading = false;
    }
    loadPendingCount();
  }

  function renderApprovals(items) {
    const list = $("approvals-list");
    // Pending first; otherwise in the server's order.
    const ordered = items.filter((a) => a.state === "pending").concat(items.filter((a) => a.state !== "pending"));
    const nodes = [];
    const keep = new Set();
    for (const a of ordered) {
      const id = str(a.approval_id);
      keep.add(id);
      if (a.state === "pending" && decidedHere.has(id)) { nodes.push(decidedHere.get(id)); continue; } // a stale read
      const old = apprViews.get(id);
      if (old && old.state === str(a.state) && old.decidedAt === str(a.decided_at)) { nodes.push(old.node); continue; }
      const node = approvalView(a);
      apprViews.set(id, { node, state: str(a.state), decidedAt: str(a.decided_at) });
      nodes.push(node);
    }
    for (const id of Array.from(apprViews.keys())) if (!keep.has(id)) apprViews.delete(id);
    // Only touch the DOM when something changed: a note being typed keeps its focus.
    const same = nodes.length === list.children.length && nodes.every((n, i) => list.children[i] === n);
    if (!same) {
      const focused = list.contains(document.activeElement) ? document.activeElement : null;
      list.replaceChildren(...nodes);
      if (focused && focused.isConnected) focused.focus();
    }
    if (nodes.length === 0) list.replaceChildren(el("p", { class: "hint" }, "No approvals match."));
    $("approvals-total").textContent = apprTotal + " approval" + (apprTotal === 1 ? "" : "s") +
      ($("appr-state").value ? " (" + $("appr-state").value + ")" : "");
    const from = apprTotal === 0 ? 0 : apprOffset + 1;
    $("appr-page-info").textContent = from + "–" + Math.min(apprOffset + items.length, apprTotal) + " of " + apprTotal;
    $("appr-prev").disabled = apprOffset === 0;
    $("appr-next").disabled = apprOffset + APPR_PAGE >= apprTotal;
  }

  function approvalView(a) {
    const id = str(a.approval_id);
    const state = str(a.state);
    const titleId = "appr-title-" + id;
    const art = el("article", { class: "approval", "data-approval-id": id, "data-state": state,
      "data-workflow-id": a.workflow_id ? str(a.workflow_id) : null, "aria-labelledby": titleId });
    art.append(el("h3", { id: titleId },
      el("span", { class: "appr-tool mono" }, str(a.tool)),
      badge(state, state),
      a.effect ? el("span", { class: "badge", "data-state": "" }, "effect: " + str(a.effect)) : null));
    const wfButton = a.workflow_id
      ? el("button", { type: "button", class: "appr-open-workflow", "data-open": str(a.workflow_id), "aria-label": "Open the live view of workflow " + str(a.workflow_id) }, "Open live view")
      : null;
    const rows = [
      ["Agent", el("span", { class: "appr-agent" }, str(a.agent_type))],
      ["Workflow", a.workflow_id ? el("span", { class: "appr-workflow" }, el("span", { class: "mono" }, str(a.workflow_id)), " ", wfButton) : "–"],
    ];
    if (a.conversation_id) rows.push(["Conversation", el("span", { class: "mono appr-conversation" }, str(a.conversation_id))]);
    if (a.step !== undefined && a.step !== null) rows.push(["Step", str(a.step)]);
    rows.push(["Why", el("span", { class: "appr-reason" }, str(a.reason) || "–")]);
    rows.push(["Requested", when(a.requested_at)]);
    if (a.expires_at && state === "pending") rows.push(["Expires", when(a.expires_at)]);
    if (a.decided_at) rows.push(["Decided", when(a.decided_at) + (a.decided_by ? " by " + str(a.decided_by) : "")]);
    if (a.note) rows.push(["Note", el("span", { class: "appr-decided-note" }, str(a.note))]);
    art.append(el("dl", { class: "kv" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
    art.append(el("h4", { class: "sub" }, "Arguments (exactly what will run)"));
    art.append(el("pre", { class: "appr-args", "aria-label": "Arguments of " + str(a.tool) }, pretty(a.arguments)));
    if (a.result !== undefined && a.result !== null) {
      art.append(el("h4", { class: "sub" }, "Result"));
      art.append(el("pre", { class: "appr-result" }, pretty(a.result)));
    }
    if (state === "pending") {
      const noteId = "appr-note-" + id;
      const note = el("input", { type: "text", id: noteId, class: "appr-note", maxlength: "2000", autocomplete: "off" });
      const approve = el("button", { type: "button", class: "primary appr-approve", "data-decision": "approve",
        "aria-label": "Approve " + str(a.tool) + " for " + str(a.agent_type) }, "Approve");
      const deny = el("button", { type: "button", class: "danger appr-deny", "data-decision": "deny",
        "aria-label": "Deny " + str(a.tool) + " for " + str(a.agent_type) }, "Deny");
      const err = el("div", { class: "error appr-error", role: "alert" });
      art.append(el("label", { for: noteId }, "Note (optional)"), note,
        el("div", { class: "actions" }, approve, deny), err);
    }
    return art;
  }

  async function decide(art, decision) {
    const id = art.dataset.approvalId;
    const buttons = art.querySelectorAll("button[data-decision]");
    buttons.forEach((b) => { b.disabled = true; });
    const noteInput = art.querySelector(".appr-note");
    const note = noteInput ? noteInput.value.trim() : "";
    const body = { decision };
    if (note) body.note = note;
    const err = art.querySelector(".appr-error");
    say((decision === "approve" ? "Approving" : "Denying") + " approval " + short(id) + "…");
    try {
      const a = await api("POST", "/api/approvals/" + encodeURIComponent(id), body);
      const node = approvalView(a);
      apprViews.set(id, { node, state: str(a.state), decidedAt: str(a.decided_at) });
      decidedHere.set(id, node);
      const current = $("approvals-list").querySelector('[data-approval-id="' + CSS.escape(id) + '"]') || art;
      current.replaceWith(node);
      say("Approval " + short(id) + " " + str(a.state) + ".");
      node.querySelector("h3").setAttribute("tabindex", "-1");
      node.querySelector("h3").focus();
      loadPendingCount();
    } catch (e) {
      if (err) showError(err, e.status === 403 ? "Only an admin can decide approvals (403)." :
        e.status === 409 ? "This approval was already decided, has expired, or its workflow has ended (409)." : e);
      buttons.forEach((b) => { b.disabled = false; });
      say("The decision was not recorded.");
      if (e.status === 409) setTimeout(loadApprovals, 1500);
    }
  }

  // ------------------------------------------------------------------ cluster and health

  function describeLoad(load) {
    if (!load || typeof load !== "object") return "–";
    return str(load.executions) + " executions · " + str(load.agents) + " agents · " + str(load.llm_in_flight) + " model calls in flight";
  }

  async function loadCluster() {
    let h;
    try {
      const r = await fetch("/health", { headers: { Accept: "application/json" }, cache: "no-store" });
      h = await r.json();
      showError($("cluster-error"), null);
    } catch (e) {
      showError($("cluster-error"), "Could not read /health.");
      return;
    }
    if (!h || typeof h !== "object") return;
    setBadge($("cluster-health"), h.status);
    $("cluster-version").textContent = str(h.version) || "–";
    const node = h.node && typeof h.node === "object" ? h.node : {};
    $("cluster-node-name").textContent = str(node.name || node.id) || "–";
    $("cluster-node-id").textContent = str(node.id) || "–";
    $("cluster-node-role").textContent = str(node.role) || "–";
    $("cluster-node-address").textContent = str(node.address) || "–";
    $("cluster-node-load").textContent = describeLoad(node.load);
    const peers = Array.isArray(node.peers) ? node.peers : [];
    $("cluster-mode").textContent = peers.length === 0
      ? "Standalone: this node has no peers."
      : "Cluster: " + peers.length + " peer" + (peers.length === 1 ? "" : "s") + ".";
    $("cluster-mode").dataset.mode = peers.length === 0 ? "standalone" : "cluster";
    fillRows("cluster-peers", (peers.length ? peers.map((p) => {
      const load = p.load && typeof p.load === "object" ? p.load : {};
      return el("tr", { "data-peer": str(p.name || p.id) },
        el("td", {}, str(p.name || p.id)), el("td", { class: "mono" }, str(p.address)), el("td", {}, str(p.role)),
        el("td", {}, badge(p.status)), el("td", {}, when(p.last_seen)),
        el("td", {}, str(load.executions)), el("td", {}, str(load.agents)), el("td", {}, str(load.llm_in_flight)));
    }) : [el("tr", {}, el("td", { colspan: "8", class: "hint" }, "standalone: no peers"))]));
    const services = h.services && typeof h.services === "object" ? h.services : {};
    fillRows("cluster-services", Object.entries(services).map(([name, s0]) => {
      const s = s0 && typeof s0 === "object" ? s0 : {};
      const detail = [];
      if (Array.isArray(s.models)) detail.push("models: " + (s.models.map(str).join(", ") || "none"));
      if (s.error) detail.push(str(s.error));
      return el("tr", { "data-service": name }, el("th", { scope: "row" }, name), el("td", {}, badge(s.status)),
        el("td", {}, typeof s.latency_ms === "number" ? s.latency_ms.toFixed(1) + " ms" : "–"), el("td", {}, detail.join(" · ")));
    }));
  }

  async function loadAgentsHealth() {
    showError($("agents-error"), null);
    const [health, models] = await Promise.allSettled([api("GET", "/api/agents/health"), api("GET", "/api/models")]);
    if (health.status === "fulfilled" && health.value && typeof health.value === "object") {
      const names = new Map(agents.map((a) => [str(a.agent_id), a]));
      fillRows("agents-health", Object.entries(health.value).map(([id, h0]) => {
        const h = h0 && typeof h0 === "object" ? h0 : {};
        const info = names.get(id);
        const tools = info && Array.isArray(info.tools) ? info.tools.map((t) => str(t.name) + (t.policy ? " (" + str(t.effect) + ", " + str(t.policy) + ")" : "")).join(", ") : "";
        return el("tr", { "data-agent": id }, el("td", { class: "mono" }, id), el("td", {}, info ? str(info.name) : ""),
          el("td", {}, badge(h.status)), el("td", {}, str(h.instances)), el("td", {}, tools || "–"));
      }));
    } else if (health.status === "rejected") {
      showError($("agents-error"), health.reason);
    }
    if (models.status === "fulfilled") {
      const list = Array.isArray(models.value && models.value.models) ? models.value.models : [];
      fillRows("models-table", (list.length ? list.map((m) => {
        const x = m.metrics && typeof m.metrics === "object" ? m.metrics : {};
        return el("tr", { "data-model": str(m.name) }, el("td", { class: "mono" }, str(m.name)), el("td", {}, str(m.provider)),
          el("td", {}, badge(String(!!m.healthy), m.healthy ? "healthy" : "unhealthy")),
          el("td", {}, str(x.total_requests)),
          el("td", {}, typeof x.success_rate === "number" ? (x.success_rate * 100).toFixed(1) + " %" : "–"),
          el("td", {}, typeof x.avg_latency_ms === "number" ? x.avg_latency_ms.toFixed(0) + " ms" : "–"),
          el("td", {}, str(x.tokens_in) + " / " + str(x.tokens_out)));
      }) : [el("tr", {}, el("td", { colspan: "7", class: "hint" }, "No models known."))]));
    } else {
      showError($("agents-error"), models.reason);
    }
  }

  // ------------------------------------------------------------------ wiring

  let started = false;
  function start() {
    if (started) {
      // A new token after a 401: pick up where we were.
      if (live.id && !live.ws) connect();
      showTab(currentTab);
      return;
    }
    started = true;
    loadAgents();
    loadPendingCount();
    fromHash();
    if (!location.hash || location.hash === "#") showTab("workflows");
    setInterval(() => {
      if (!token || document.hidden) return;
      if (currentTab === "workflows" && !$("wf-list").contains(document.activeElement)) loadWorkflows();
      if (currentTab === "approvals") loadApprovals(); else loadPendingCount();
      if (currentTab === "cluster") loadCluster();
      if (currentTab === "agents") loadAgentsHealth();
    }, 5000);
  }

  function wire() {
    $("token-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const t = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
      if (!t) {
        showError($("token-error"), "Enter a token.");
        $("token-input").focus();
        return;
      }
      useToken(t);
    });
    $("token-forget").addEventListener("click", () => {
      closeLive();
      $("live").hidden = true;
      $("app").hidden = true;
      asking = false;
      askToken("Signed out. Enter an admin token to continue.");
    });
    for (const b of document.querySelectorAll("[data-tab]")) {
      b.addEventListener("click", () => {
        showTab(b.dataset.tab, false);
        try { history.replaceState(null, "", "#" + b.dataset.tab); } catch (e) { /* ignore */ }
      });
    }
    window.addEventListener("hashchange", fromHash);
    $("wf-agent-checks").addEventListener("change", (ev) => {
      const t = ev.target;
      if (!(t instanceof HTMLInputElement) || t.name !== "agent") return;
      chosenAgents = chosenAgents.filter((a) => a !== t.value);
      if (t.checked) chosenAgents.push(t.value);
      $("wf-agents").removeAttribute("aria-invalid");
      showAgentOrder();
    });
    $("wf-start-form").addEventListener("submit", startWorkflow);
    $("wf-filters").addEventListener("submit", (ev) => { ev.preventDefault(); wfOffset = 0; loadWorkflows(); });
    $("wf-filter-state").addEventListener("change", () => { wfOffset = 0; loadWorkflows(); });
    $("wf-filter-type").addEventListener("change", () => { wfOffset = 0; loadWorkflows(); });
    $("wf-prev").addEventListener("click", () => { wfOffset = Math.max(0, wfOffset - WF_PAGE); loadWorkflows(); });
    $("wf-next").addEventListener("click", () => { wfOffset += WF_PAGE; loadWorkflows(); });
    document.addEventListener("click", (ev) => {
      const b = ev.target instanceof Element ? ev.target.closest("button[data-open]") : null;
      if (!b) return;
      showTab("workflows");
      openWorkflow(b.dataset.open);
    });
    $("live-close").addEventListener("click", () => {
      closeLive();
      $("live").hidden = true;
      try { history.replaceState(null, "", "#workflows"); } catch (e) { /* ignore */ }
      $("list-title").setAttribute("tabindex", "-1");
      $("list-title").focus();
    });
    $("live-pause").addEventListener("click", () => act("pause"));
    $("live-resume").addEventListener("click", () => act("resume"));
    $("live-cancel").addEventListener("click", () => act("cancel"));
    $("live-journal-load").addEventListener("click", loadJournal);
    $("live-replay").addEventListener("click", () => replay("replay"));
    $("live-fork-form").addEventListener("submit", (ev) => { ev.preventDefault(); replay("fork"); });
    $("live-to-approvals").addEventListener("click", () => {
      $("appr-workflow").value = live.id || "";
      apprOffset = 0;
      showTab("approvals", true);
    });
    $("appr-filters").addEventListener("submit", (ev) => { ev.preventDefault(); apprOffset = 0; loadApprovals(); });
    $("appr-state").addEventListener("change", () => { apprOffset = 0; loadApprovals(); });
    $("appr-prev").addEventListener("click", () => { apprOffset = Math.max(0, apprOffset - APPR_PAGE); loadApprovals(); });
    $("appr-next").addEventListener("click", () => { apprOffset += APPR_PAGE; loadApprovals(); });
    $("approvals-list").addEventListener("click", (ev) => {
      const b = ev.target instanceof Element ? ev.target.closest("button[data-decision]") : null;
      if (!b) return;
      const art = b.closest("article.approval");
      if (art) decide(art, b.dataset.decision);
    });
    $("cluster-refresh").addEventListener("click", loadCluster);
    $("agents-refresh").addEventListener("click", loadAgentsHealth);
  }

  // Test and debugging hook (pages_test.cjs): drop the monitor as a network failure would.
  window.pixelcraftConsole = {
    dropMonitor() {
      const ws = live.ws;
      if (!ws) return false;
      try { ws.close(4001, "dropped for a test"); } catch (e) { return false; }
      return true;
    },
    lastSeq() { return live.lastSeq; },
    workflowId() { return live.id; },
    connected() { return !!(live.ws && live.ws.readyState === WebSocket.OPEN); },
  };

  document.addEventListener("DOMContentLoaded", () => {
    wire();
    if (token) {
      $("token-panel").hidden = true;
      $("app").hidden = false;
      showWho();
      start();
    } else {
      $("token-input").focus();
    }
  });
})();
