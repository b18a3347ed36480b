// The simulator page: sends what a person does to /simulator/api/send (which plays WeChat's
// server toward /wechat) and polls the customer-service messages the bot sends later.
(function () {
  "use strict";

  const T = JSON.parse(document.getElementById("sim-texts").textContent);
  const POLL_MS = 1500;
  const HISTORY_LIMIT = 200;
  const $ = (id) => document.getElementById(id);
  const chat = $("chat");
  const input = $("input");
  const openidInput = $("openid");
  let openid = "";
  let lastSeq = 0;
  let voiceMode = false;
  let polling = false;

  // --- openids and per-openid history (kept in localStorage so a reload keeps the chat) ---

  function randomOpenid() {
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let id = "o_sim_";
    const bytes = crypto.getRandomValues(new Uint8Array(10));
    bytes.forEach((b) => { id += alphabet[b % alphabet.length]; });
    return id;
  }

  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch (e) { return fallback; }
  }

  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  function historyKey() { return "wuye-sim-chat:" + openid; }

  function remember(entry) {
    const history = load(historyKey(), { items: [], lastSeq: 0 });
    history.items.push(entry);
    history.items = history.items.slice(-HISTORY_LIMIT);
    history.lastSeq = lastSeq;
    save(historyKey(), history);
  }

  function knownOpenids() { return load("wuye-sim-openids", []); }

  function refreshDatalist() {
    const list = $("openids");
    list.replaceChildren(...knownOpenids().map((id) => {
      const option = document.createElement("option");
      option.value = id;
      return option;
    }));
  }

  function switchTo(id) {
    openid = id;
    openidInput.value = id;
    save("wuye-sim-openid", id);
    const known = knownOpenids().filter((x) => x !== id);
    save("wuye-sim-openids", [id, ...known].slice(0, 20));
    refreshDatalist();
    const history = load(historyKey(), { items: [], lastSeq: 0 });
    lastSeq = history.lastSeq || 0;
    chat.replaceChildren();
    history.items.forEach((entry) => render(entry));
  }

  // --- rendering: text only through textContent, links only when http(s) ---

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : "";
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function bubbleFor(entry) {
    if (entry.type === "news" && entry.articles && entry.articles.length) {
      const card = el("div", "bubble card");
      entry.articles.forEach((a) => {
        const url = safeUrl(a.url);
        const article = el(url ? "a" : "div", "article");
        if (url) { article.href = url; article.target = "_blank"; article.rel = "noopener"; }
        const pic = safeUrl(a.picurl);
        if (pic) { const img = el("img"); img.src = pic; img.alt = ""; article.append(img); }
        article.append(el("div", "title", a.title || ""), el("div", "desc", a.description || ""));
        card.append(article);
      });
      return card;
    }
    const bubble = el("div", entry.url ? "bubble card" : "bubble");
    const body = el("div", entry.url ? "article" : "", entry.text || "");
    bubble.append(body);
    const url = safeUrl(entry.url);
    if (url) {
      const link = el("a", "link", T.details);
      link.href = url; link.target = "_blank"; link.rel = "noopener";
      bubble.append(link);
    }
    return bubble;
  }

  function render(entry) {
    if (entry.role === "note") {
      chat.append(el("div", "note" + (entry.error ? " error" : ""), entry.text));
    } else {
      const row = el("div", "msg " + entry.role);
      row.dataset.role = entry.role;
      row.append(el("div", "avatar", entry.role === "user" ? T.you : "物"));
      const bubble = bubbleFor(entry);
      if (entry.tag) bubble.prepend(el("span", "tag", entry.tag));
      row.append(bubble);
      chat.append(row);
    }
    chat.scrollTop = chat.scrollHeight;
  }

  function show(entry) { render(entry); remember(entry); }

  // --- talking to the server ---

  async function send(payload, echo) {
    const forOpenid = openid;
    show({ role: "user", type: "text", text: echo });
    const waiting = el("div", "note", T.waiting);
    chat.append(waiting);
    $("send").disabled = true;
    try {
      const response = await fetch("/simulator/api/send", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...payload, openid: forOpenid }),
      });
      const data = await response.json().catch(() => ({ error: "network" }));
      if (forOpenid !== openid) return;
      if (!response.ok) {
        const reason = T.errors[data.error] || T.errors.network;
        show({ role: "note", error: true, text: reason + (data.status ? "（HTTP " + data.status + "）" : "") });
      } else if (!data.replies.length) {
        show({ role: "note", text: T.noReply });
      } else {
        data.replies.forEach((r) => show({ role: "bot", type: r.type, text: r.text, articles: r.articles }));
      }
    } catch (e) {
      if (forOpenid === openid) show({ role: "note", error: true, text: T.errors.network });
    } finally {
      waiting.remove();
      $("send").disabled = false;
    }
  }

  async function poll() {
    if (polling || !openid) return;
    polling = true;
    const forOpenid = openid;
    try {
      const query = new URLSearchParams({ openid: forOpenid, after: String(lastSeq) });
      const response = await fetch("/simulator/api/messages?" + query);
      if (!response.ok || forOpenid !== openid) return;
      const data = await response.json();
      data.messages.forEach((m) => {
        lastSeq = Math.max(lastSeq, m.seq);
        const tag = m.type === "template" ? T.template : T.custom;
        show({ role: "bot", type: m.type, text: m.text, articles: m.articles, url: m.url, tag });
      });
    } catch (e) {
      // The server may be restarting; the next tick tries again.
    } finally {
      polling = false;
    }
  }

  // --- controls ---

  function sendInput() {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (voiceMode) send({ kind: "voice", content: text }, "🎤 " + T.voice + "：" + text);
    else send({ kind: "text", content: text }, text);
  }

  $("send").addEventListener("click", sendInput);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); sendInput(); }
  });
  $("mode").addEventListener("click", () => {
    voiceMode = !voiceMode;
    $("mode").classList.toggle("on", voiceMode);
    input.placeholder = voiceMode ? T.voiceMode : T.textMode;
  });
  $("more").addEventListener("click", () => { $("extras").hidden = !$("extras").hidden; });
  document.querySelectorAll(".menu button[data-key]").forEach((button) => {
    button.addEventListener("click", () => {
      document.querySelectorAll(".submenu").forEach((sub) => { sub.hidden = true; });
      send({ kind: "click", key: button.dataset.key }, T.menu + " " + button.textContent);
    });
  });
  document.querySelectorAll(".menu .menu-top").forEach((top) => {
    top.addEventListener("click", () => {
      const sub = top.nextElementSibling;
      const open = sub.hidden;
      document.querySelectorAll(".submenu").forEach((other) => { other.hidden = true; });
      sub.hidden = !open;
    });
  });
  document.querySelectorAll(".extras button").forEach((button) => {
    button.addEventListener("click", () => {
      $("extras").hidden = true;
      if (button.dataset.action === "image") {
        const url = window.prompt(T.askPic, T.defaultPic);
        if (url) send({ kind: "image", pic_url: url }, T.image);
      } else {
        const label = window.prompt(T.askLabel, T.defaultLabel);
        if (label !== null) {
          send({ kind: "location", x: 30.2741, y: 120.1551, label }, T.location + " " + label);
        }
      }
    });
  });
  $("follow").addEventListener("click", () => send({ kind: "event", event: "subscribe" }, T.subscribe));
  $("unfollow").addEventListener("click", () => send({ kind: "event", event: "unsubscribe" }, T.unsubscribe));
  $("new-openid").addEventListener("click", () => switchTo(randomOpenid()));
  // A demo resident (bound to a home in one community, in two, or none): their openid.
  $("persona").addEventListener("change", (event) => {
    switchTo(event.target.value || randomOpenid());
  });
  openidInput.addEventListener("change", () => {
    const id = openidInput.value.trim();
    if (/^[A-Za-z0-9_-]{1,64}$/.test(id)) switchTo(id);
    else { openidInput.value = openid; show({ role: "note", error: true, text: T.errors.bad_openid }); }
  });

  switchTo(load("wuye-sim-openid", "") || randomOpenid());
  setInterval(poll, POLL_MS);
  poll();
})();
