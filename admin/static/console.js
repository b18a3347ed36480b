// The agent console: queue, conversation, reply box; live through Server-Sent Events.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const ME = JSON.parse(document.getElementById("console-user").textContent);
const LABELS = JSON.parse(document.getElementById("console-labels").textContent);
const HEARTBEAT_MS = 30000;  // presence: the server treats 90 s of silence as offline
const REASONS = {
  human: "主动转人工", fallback: "多次未识别", anger: "情绪激动", low_confidence: "澄清后仍未理解",
  emergency: "紧急求助", agent: "客服主动接入",
};
const OWNERS = { bot: "机器人", waiting: "等待接入", agent: "人工服务中" };
const STATUS = { queued: "发送中", sent: "已送达", failed: "发送失败", passive: "已回复",
  undeliverable: "未发送（超出48小时）" };
let current = null;      // openid on screen
let detail = null;
let canned = [];
let unseen = 0;

const $ = (sel) => document.querySelector(sel);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 401) { location.href = "/console/login"; throw new Error("login"); }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || `请求失败（${response.status}）`);
  return data;
}

function waited(seconds) {
  if (seconds < 60) return `${seconds}秒`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}分钟`;
  return `${Math.floor(seconds / 3600)}小时${Math.floor((seconds % 3600) / 60)}分`;
}

function queueItem(item) {
  const li = el("li", { class: "item" + (item.emergency ? " emergency" : "") +
    (item.openid === current ? " active" : ""), "data-openid": item.openid },
    el("div", {}, el("strong", {}, item.nickname || item.openid),
      el("span", { class: "tag" }, REASONS[item.reason] || item.reason)),
    el("div", { class: "meta" }, (item.community_name ? `${item.community_name} · ` : "") +
      `等待 ${waited(item.wait_seconds)}` +
      (item.agent_name ? ` · ${item.agent_name}` : "") + (item.off_hours ? " · 非工作时间" : "")),
    el("div", { class: "preview" }, item.last_text || ""));
  if (item.unread) li.prepend(el("span", { class: "unread", title: "未读消息" }, String(item.unread)));
  li.addEventListener("click", () => open(item.openid));
  return li;
}

async function refreshQueue() {
  const data = await api("GET", "/console/api/queue");
  for (const name of ["waiting", "mine", "others"]) {
    $(`#queue-${name}`).replaceChildren(...data[name].map(queueItem));
  }
  $("#count-waiting").textContent = data.waiting.length;
  const select = $("#transfer-to");
  select.replaceChildren(el("option", { value: "" }, "转接给…"),
    ...data.agents.filter((a) => a.id !== ME.id).map((a) =>
      el("option", { value: a.id }, `${a.name}（${a.presence === "online" ? "在线" :
        a.presence === "away" ? "离开" : "离线"}）`)));
}

function nluTag(nlu) {
  if (!nlu || !nlu.intent) return null;
  const name = nlu.intent_name || LABELS.intents[nlu.intent] || nlu.intent;
  const parts = [`${name} ${Math.round((nlu.confidence || 0) * 100)}%`];
  if (nlu.faq_id) parts.push(`FAQ ${nlu.faq_id}`);
  if (nlu.entities && nlu.entities.length) parts.push(nlu.entities.join(" "));
  return el("span", { class: "nlu", title: "机器人识别结果" }, parts.join(" · "));
}

function messageItem(m) {
  const who = m.direction === "in" ? "业主" : m.sender === "agent" ? (m.agent_name || "客服") : "机器人";
  const status = m.direction === "out" ? el("span", { class: `status ${m.status}` },
    STATUS[m.status] || m.status) : null;
  const li = el("li", { class: `msg ${m.direction} ${m.sender}`, "data-id": m.id, "data-status": m.status },
    el("div", { class: "who" }, who, " ", el("time", {}, new Date(m.created_at).toLocaleString("zh-CN"))),
    el("div", { class: "bubble" }, m.text || `[${m.type}]`),
    m.image ? el("img", { src: m.image, alt: "业主发送的图片", class: "photo" }) : null,
    el("div", { class: "foot" }, nluTag(m.nlu), status));
  if (m.sender === "agent" && document.body.dataset.admin === "1") {
    // A good reply can become a knowledge-base answer (admin/knowledge.py).
    li.append(el("a", { class: "save-answer", href: `/admin/replies/${m.id}`, target: "_blank" },
      "存为知识库答案"));
  }
  if (m.error && m.status !== "sent") {
    const failed = el("div", { class: "delivery-error" },
      m.status === "failed" ? `发送失败：${m.error_text || "请稍后重试"}` :
        `发送失败（第${m.attempts}次），系统正在自动重试：${m.error_text || ""}`);
    if (m.status === "failed") {
      const retry = el("button", { type: "button", class: "link retry" }, "重新发送");
      retry.addEventListener("click", () => act("POST", `/console/api/messages/${m.id}/retry`));
      failed.append(" ", retry);
    }
    li.append(failed);
  }
  return li;
}

function renderWindow(win) {
  const banner = $("#window-banner");
  if (win.open) {
    const hours = Math.floor(win.remaining_seconds / 3600);
    const minutes = Math.floor((win.remaining_seconds % 3600) / 60);
    banner.className = "banner ok";
    banner.textContent = `48小时客服消息窗口：还剩 ${hours} 小时 ${minutes} 分钟`;
  } else {
    banner.className = "banner closed";
    banner.textContent = "业主最后一条消息已超过48小时，微信不允许再发送客服消息。请等待业主再次留言，或电话联系业主。";
  }
}

function render(d) {
  detail = d;
  $("#empty").classList.add("hidden");
  $("#conversation").classList.remove("hidden");
  $("#side").classList.remove("hidden");
  $("#conv-title").textContent = d.nickname || d.openid;
  $("#conv-owner").textContent = OWNERS[d.owner] + (d.agent_name ? `（${d.agent_name}）` : "");
  const mine = d.owner === "agent" && d.agent_id === ME.id;
  $("#btn-take").disabled = mine;
  $("#btn-handback").disabled = !mine;
  $("#btn-close").disabled = !(mine || d.owner === "waiting");
  $("#btn-transfer").disabled = !mine;
  $("#btn-send").disabled = !mine || !d.window.open;
  $("#reply-text").disabled = !mine || !d.window.open;
  renderWindow(d.window);
  const history = $("#history");
  history.replaceChildren(...d.history.map(messageItem));
  history.scrollTop = history.scrollHeight;
  $("#rooms").replaceChildren(...(d.resident.rooms.length ? d.resident.rooms.map((r) =>
    el("li", {}, `${r.room} · 电话 `, el("span", { class: "phone" }, r.phone || "无"))) :
    [el("li", { class: "hint" }, "未绑定房屋")]));
  $("#tickets").replaceChildren(...(d.resident.tickets.length ? d.resident.tickets.map((t) =>
    el("li", {}, el("a", { href: `/console/tickets/${encodeURIComponent(t.number)}`, target: "_blank" },
      el("strong", {}, t.number)),
      ` ${t.type_name || LABELS.types[t.type] || t.type} · ${t.state_name || LABELS.states[t.state] || t.state}` +
      ` · ${t.department} · ${LABELS.priorities[t.priority] || t.priority}`,
      el("div", { class: "hint" }, t.summary || ""))) : [el("li", { class: "hint" }, "暂无工单")]));
  $("#notes").replaceChildren(...d.notes.map((n) =>
    el("li", {}, el("strong", {}, n.author), `：${n.text}`)));
}

async function open(openid) {
  current = openid;
  try {
    render(await api("GET", `/console/api/conversations/${encodeURIComponent(openid)}`));
  } catch (err) { showError(err); }
  document.querySelectorAll(".queue .item").forEach((li) =>
    li.classList.toggle("active", li.dataset.openid === openid));
}

function showError(err) { $("#send-error").textContent = err.message; }

async function act(method, path, body) {
  $("#send-error").textContent = "";
  try {
    const result = await api(method, path, body);
    await Promise.all([refreshQueue(), current ? open(current) : null]);
    return result;
  } catch (err) { showError(err); return null; }
}

function conv(path) { return `/console/api/conversations/${encodeURIComponent(current)}/${path}`; }

async function send() {
  const text = $("#reply-text").value.trim();
  if (!text) return;
  if (await act("POST", conv("reply"), { text })) $("#reply-text").value = "";
}

function expandShortcut(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); return; }
  if (event.key !== "Tab") return;
  const box = event.target;
  const before = box.value.slice(0, box.selectionStart);
  const match = before.match(/(\/\S+)$/);
  const found = match && canned.find((c) => c.shortcut === match[1]);
  if (!found) return;
  event.preventDefault();
  box.value = before.slice(0, -match[1].length) + found.text + box.value.slice(box.selectionStart);
}

async function loadCanned() {
  canned = (await api("GET", "/console/api/canned")).canned;
  $("#canned").replaceChildren(el("option", { value: "" }, "快捷回复…"),
    ...canned.map((c) => el("option", { value: c.shortcut }, `${c.shortcut} ${c.title}`)));
}

function beep() {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
  } catch (err) { /* sound is a bonus; the badge is the alert */ }
}

function alertAgent(event, what) {
  unseen += 1;
  const badge = $("#badge");
  badge.textContent = unseen;
  badge.title = what;
  badge.classList.remove("hidden");
  badge.classList.toggle("emergency", Boolean(event.emergency));
  document.title = `(${unseen}) ${event.emergency ? "紧急！" : what} · 客服工作台`;
  beep();
}

// What deserves a sound and the badge: a new request for a person, a message in one of my
// conversations that is not on screen, a conversation transferred to me, an alert for me.
function alertFor(event) {
  if (event.type === "handover") return "新转人工";
  const mine = event.agent_id === ME.id;
  if (event.type === "message" && mine && (event.openid !== current || document.hidden)) return "新消息";
  if (event.type === "transferred" && mine) return "会话转给您";
  if (event.type === "alert" && (event.user_ids || []).includes(ME.id)) return event.text || "新提醒";
  return null;
}

function clearAlert() {
  unseen = 0;
  $("#badge").classList.add("hidden");
  document.title = "会话 · 物业客服";
}

function onEvent(message) {
  let event;
  try { event = JSON.parse(message.data); } catch (err) { return; }
  const what = alertFor(event);
  if (what) alertAgent(event, what);
  refreshQueue().catch(showError);
  if (current && event.openid === current) open(current);
}

function connect() {
  const source = new EventSource("/console/api/events");
  source.onopen = () => { $("#live").className = "live on"; refreshQueue().catch(showError); };
  source.onerror = () => { $("#live").className = "live off"; };
  source.onmessage = onEvent;
}

function formData(form) { return Object.fromEntries(new FormData(form).entries()); }

function wire() {
  $("#btn-take").addEventListener("click", () => act("POST", conv("take")));
  $("#btn-handback").addEventListener("click", () => act("POST", conv("handback")));
  $("#btn-close").addEventListener("click", () => {
    const answered = detail && detail.history.some((m) => m.sender === "agent");
    const question = answered ? "结束会话后将邀请业主评价，确定结束？" : "您尚未回复业主，结束后不会邀请评价，确定结束？";
    if (confirm(question)) act("POST", conv("close"));
  });
  $("#btn-transfer").addEventListener("click", () => {
    const to = $("#transfer-to").value;
    if (to) act("POST", conv("transfer"), { agent_id: Number(to) });
  });
  $("#btn-send").addEventListener("click", send);
  $("#reply-text").addEventListener("keydown", expandShortcut);
  $("#canned").addEventListener("change", (event) => {
    const found = canned.find((c) => c.shortcut === event.target.value);
    if (found) { const box = $("#reply-text"); box.value += found.text; box.focus(); }
    event.target.value = "";
  });
  $("#btn-reveal").addEventListener("click", async () => {
    const data = await act("POST", conv("reveal"));
    if (data) $("#rooms").replaceChildren(...data.phones.map((p) => el("li", {}, `${p.room} · 电话 ${p.phone || "无"}`)));
  });
  $("#note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await act("POST", conv("notes"), formData(event.target))) event.target.reset();
  });
  $("#ticket-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = await act("POST", conv("tickets"), formData(event.target));
    if (data) { $("#ticket-result").textContent = `已创建工单 ${data.ticket.number}（${data.ticket.department}）`; event.target.reset(); }
  });
  $("#ticket-update").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = formData(event.target);
    const data = await act("POST", `/console/api/tickets/${encodeURIComponent(body.number)}/state`, body);
    if (data) $("#ticket-result").textContent = `工单 ${data.ticket.number} 已更新`;
  });
  $("#presence").addEventListener("change", (event) =>
    act("POST", "/console/api/presence", { presence: event.target.value }));
  $("#badge").addEventListener("click", clearAlert);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) clearAlert(); });
  setInterval(() => refreshQueue().catch(() => {}), 30000);  // wait times keep counting
  setInterval(() => api("POST", "/console/api/presence", { presence: $("#presence").value })
    .catch(() => {}), HEARTBEAT_MS);
  window.addEventListener("pagehide", () => {
    const form = new FormData();
    form.append("csrf_token", CSRF);
    navigator.sendBeacon("/console/api/presence/offline", form);
  });
}

wire();
loadCanned().catch(showError);
refreshQueue().catch(showError);
connect();
