// dataprep review: actions and keyboard shortcuts. No inline scripts (the page's CSP forbids
// them); every mutation is a JSON POST carrying the per-server CSRF token.
"use strict";

(function () {
  const body = document.body;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (sel) => document.querySelector(sel);

  function showMessage(text, isError) {
    const box = $("#message");
    box.textContent = text;
    box.className = isError ? "message error" : "message";
    box.hidden = false;
  }

  async function post(url, payload) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(payload || {}),
        credentials: "same-origin",
      });
    } catch (err) {
      showMessage("The review server is not answering: is `dataprep review` still running?", true);
      throw err;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      showMessage(data.error || "Request failed (" + response.status + ")", true);
      throw new Error(data.error || String(response.status));
    }
    // e.g. "2 secrets were redacted before saving": every text action reloads or moves on,
    // so the note is kept for the next page to show.
    if (data.message) sessionStorage.setItem(NOTE_KEY, data.message);
    return data;
  }

  const NOTE_KEY = "dataprep-review-note";
  const note = sessionStorage.getItem(NOTE_KEY);
  if (note) {
    sessionStorage.removeItem(NOTE_KEY);
    showMessage(note, false);
  }

  function typing(event) {
    const t = event.target;
    const box = t && t.tagName === "INPUT" && t.type === "checkbox"; // picking a row is no typing
    return t && !box && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  function go(url) {
    if (url) window.location.assign(url);
  }

  // ---- pair page ---------------------------------------------------------------------------
  function pairPage() {
    const pairId = body.dataset.pairId;
    const api = (action) => "/api/pairs/" + encodeURIComponent(pairId) + "/" + action;
    const panels = ["#reject-panel", "#flag-panel", "#edit-panel"].map($);
    const afterDecision = () => (body.dataset.nextUrl ? go(body.dataset.nextUrl) : window.location.reload());

    function closePanels() {
      panels.forEach((p) => { if (p) p.hidden = true; });
    }
    function open(panelSel, focusSel) {
      closePanels();
      $(panelSel).hidden = false;
      const field = $(focusSel);
      field.focus();
      if (field.select && field.tagName === "INPUT") field.select();
    }

    const actions = {
      accept: () => post(api("accept")).then(afterDecision),
      reject: () => open("#reject-panel", "#reject-reason"),
      edit: () => open("#edit-panel", "#edit-instruction"),
      flag: () => open("#flag-panel", "#flag-note"),
      unflag: () => post(api("unflag")).then(() => window.location.reload()),
      undo: () => post(api("undo")).then((data) => {
        if (!data.undone.length) showMessage("Nothing to undo for this pair.", false);
        else window.location.reload();
      }),
    };
    const doReject = () => post(api("reject"), { reason: $("#reject-reason").value }).then(afterDecision);
    const doFlag = () => post(api("flag"), { note: $("#flag-note").value }).then(() => window.location.reload());
    const doEdit = () => post(api("edit"), {
      instruction: $("#edit-instruction").value,
      input: $("#edit-input").value,
      output: $("#edit-output").value,
    }).then(() => window.location.reload());

    document.querySelectorAll("[data-action]").forEach((btn) => {
      btn.addEventListener("click", () => actions[btn.dataset.action]());
    });
    document.querySelectorAll(".panel .cancel").forEach((btn) => btn.addEventListener("click", closePanels));
    $("#reject-yes").addEventListener("click", doReject);
    $("#flag-yes").addEventListener("click", doFlag);
    $("#edit-panel").addEventListener("submit", (e) => { e.preventDefault(); doEdit(); });
    $("#reject-reason").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); doReject(); } });
    $("#flag-note").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); doFlag(); } });
    $("#edit-panel").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); doEdit(); }
    });

    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { closePanels(); document.activeElement.blur(); return; }
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      const flagged = Boolean($("#btn-unflag"));
      const keys = {
        a: actions.accept,
        r: actions.reject,
        e: actions.edit,
        f: flagged ? actions.unflag : actions.flag,
        u: actions.undo,
        j: () => go(body.dataset.nextUrl),
        k: () => go(body.dataset.prevUrl),
        q: () => go(body.dataset.queueUrl),
      };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
  }

  // ---- queue page --------------------------------------------------------------------------
  function queuePage() {
    const rows = Array.from(document.querySelectorAll("#queue tbody tr"));
    const picks = rows.map((row) => row.querySelector("input.pick"));
    let current = rows.length ? 0 : -1;
    const select = (i) => {
      if (!rows.length) return;
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach((r, n) => r.classList.toggle("selected", n === current));
      rows[current].scrollIntoView({ block: "nearest" });
    };
    select(0);
    rows.forEach((row, n) => row.addEventListener("click", (e) => { if (e.target.tagName !== "A") select(n); }));

    // Rows picked with their checkbox (or x) for a bulk action on them alone.
    const picked = () => rows.filter((row, n) => picks[n].checked).map((row) => row.dataset.pairId);
    function showPicked() {
      const n = picked().length;
      const bar = $("#picked");
      if (bar) {
        bar.hidden = n === 0;
        $("#picked-n").textContent = String(n);
      }
      const all = $("#pick-page");
      if (all) {
        all.checked = n > 0 && n === rows.length;
        all.indeterminate = n > 0 && n < rows.length;
      }
    }
    picks.forEach((box) => box.addEventListener("change", showPicked));
    const pickPage = $("#pick-page");
    if (pickPage) pickPage.addEventListener("change", () => {
      picks.forEach((box) => { box.checked = pickPage.checked; });
      showPicked();
    });

    function decide(action) {
      const row = rows[current];
      if (!row) return;
      post("/api/pairs/" + encodeURIComponent(row.dataset.pairId) + "/" + action).then((data) => {
        const badge = row.querySelector("[data-status]");
        badge.textContent = data.review.status;
        badge.className = "badge " + data.review.status;
        row.className = "status-" + data.review.status;
        select(current + 1);
      });
    }

    // Submitting the filter form on change keeps the queue in step with the selects.
    document.querySelectorAll("#filters select").forEach((s) => s.addEventListener("change", () => $("#filters").submit()));

    const confirmBox = $("#bulk-confirm");
    let bulk = null; // {action, ids} for the picked rows, {action} for every pair that matches
    function askBulk(action, ids) {
      bulk = { action: action, ids: ids };
      const verb = action === "accept" ? "Accept" : "Reject";
      $("#bulk-text").textContent = ids
        ? verb + " the " + ids.length + " selected pairs? One undo (u) reverts the whole action."
        : verb + " all " + confirmBox.dataset.expected +
          " pairs matching this filter? One undo (u) reverts the whole action.";
      $("#bulk-reason-label").hidden = action !== "reject";
      confirmBox.hidden = false;
      $("#bulk-yes").focus();
    }
    document.querySelectorAll("[data-bulk]").forEach((btn) => btn.addEventListener("click", () => askBulk(btn.dataset.bulk, null)));
    document.querySelectorAll("[data-bulk-picked]").forEach((btn) => btn.addEventListener("click", () => askBulk(btn.dataset.bulkPicked, picked())));
    $("#bulk-no").addEventListener("click", () => { confirmBox.hidden = true; });
    $("#bulk-yes").addEventListener("click", () => {
      const payload = { action: bulk.action, reason: $("#bulk-reason").value };
      if (bulk.ids) payload.ids = bulk.ids;
      else Object.assign(payload, { query: body.dataset.query, expected: Number(confirmBox.dataset.expected) });
      post("/api/bulk", payload).then(() => window.location.reload());
    });

    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { confirmBox.hidden = true; return; }
      if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (!confirmBox.hidden) return;
      const keys = {
        j: () => select(current + 1),
        k: () => select(current - 1),
        Enter: () => rows[current] && go(rows[current].dataset.href),
        o: () => rows[current] && go(rows[current].dataset.href),
        a: () => decide("accept"),
        r: () => decide("reject"),
        x: () => {
          if (!rows[current]) return;
          picks[current].checked = !picks[current].checked;
          showPicked();
        },
        "/": () => $("#search").focus(),
        u: () => post("/api/undo").then((data) => {
          if (!data.undone.length) showMessage("Nothing to undo.", false);
          else window.location.reload();
        }),
        n: () => { const a = $("#next-page"); if (a) go(a.href); },
        p: () => { const a = $("#prev-page"); if (a) go(a.href); },
      };
      if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
    });
  }

  if (body.dataset.page === "pair") pairPage();
  else if (body.dataset.page === "queue") queuePage();
})();
