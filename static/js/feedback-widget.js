/*
 * Handoff feedback widget: thumbs up or down on one prediction, then an optional correction
 * and comment, sent to Handoff's feedback API. No dependencies, no eval, no inline styles.
 *
 *   <script src="https://handoff.example/static/js/feedback-widget.js"
 *           data-prediction-id="p-123" data-model="churn-risk" data-key="hfk_…"
 *           data-endpoint="https://handoff.example/api/v1/feedback" defer></script>
 *
 * Optional: data-target (the id of the element to fill; else right after the script tag),
 * data-correction="value" (a number instead of a label), data-end-user (a pseudonymous id),
 * data-question (the question shown). The key must list the page's origin: the API refuses
 * browsers on any other origin. Style it through the hf-feedback classes.
 */
(function () {
  "use strict";

  var MAX_LABEL = 200;
  var MAX_COMMENT = 5000;
  var counter = 0;

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) { node.textContent = text; }
    return node;
  }

  function endpointOf(script) {
    if (script.dataset.endpoint) { return script.dataset.endpoint; }
    return new URL("/api/v1/feedback", script.src).href;
  }

  function token() {
    var bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // Why a request failed, in words for the person who clicked.
  function problemOf(response, body) {
    if (body && body.errors && body.errors.length) { return body.errors[0].reason; }
    if (body && typeof body.detail === "string") { return body.detail; }
    if (response.status === 429) { return "Too many requests: please try again in a minute."; }
    return "The feedback service answered " + response.status + ".";
  }

  function Widget(script) {
    this.script = script;
    this.config = {
      predictionId: script.dataset.predictionId || "",
      model: script.dataset.model || "",
      key: script.dataset.key || "",
      endpoint: endpointOf(script),
      correction: script.dataset.correction === "value" ? "value" : "label",
      endUser: script.dataset.endUser || ""
    };
    this.id = "hf-feedback-" + (++counter);
    this.nonce = token();  // one per widget: a retried request is stored once
    this.build(script.dataset.question || "Was this prediction right?");
  }

  Widget.prototype.build = function (question) {
    var id = this.id;
    var root = element("div", { "class": "hf-feedback", role: "group", "aria-labelledby": id + "-question" });
    root.appendChild(element("p", { "class": "hf-question", id: id + "-question" }, question));
    var votes = element("div", { "class": "hf-votes" });
    this.up = this.voteButton("up", "\uD83D\uDC4D", "Yes", "Yes, it was right");
    this.down = this.voteButton("down", "\uD83D\uDC4E", "No", "No, it was wrong");
    votes.appendChild(this.up);
    votes.appendChild(this.down);
    root.appendChild(votes);
    root.appendChild(this.buildForm());
    this.status = element("p", { "class": "hf-status", role: "status", "aria-live": "polite" });
    root.appendChild(this.status);
    this.root = root;
    this.place(root);
  };

  Widget.prototype.voteButton = function (vote, symbol, text, label) {
    var button = element("button", { type: "button", "class": "hf-vote hf-vote-" + vote, "aria-pressed": "false", "aria-label": label, title: label });
    button.appendChild(element("span", { "aria-hidden": "true" }, symbol + " "));
    button.appendChild(document.createTextNode(text));
    var self = this;
    button.addEventListener("click", function () { self.vote(vote); });
    return button;
  };

  Widget.prototype.buildForm = function () {
    var id = this.id;
    var form = element("form", { "class": "hf-details", novalidate: "" });
    form.hidden = true;
    var isValue = this.config.correction === "value";
    form.appendChild(element("label", { "for": id + "-correction" }, isValue ? "The right value (optional)" : "The right answer (optional)"));
    this.correction = element("input", isValue
      ? { id: id + "-correction", name: "correction", type: "number", step: "any", inputmode: "decimal" }
      : { id: id + "-correction", name: "correction", type: "text", maxlength: String(MAX_LABEL), autocomplete: "off" });
    form.appendChild(this.correction);
    form.appendChild(element("label", { "for": id + "-comment" }, "Comment (optional)"));
    this.comment = element("textarea", { id: id + "-comment", name: "comment", rows: "3", maxlength: String(MAX_COMMENT) });
    form.appendChild(this.comment);
    this.send = element("button", { type: "submit", "class": "hf-send" }, "Send");
    form.appendChild(this.send);
    var self = this;
    form.addEventListener("submit", function (event) { event.preventDefault(); self.sendDetails(); });
    this.form = form;
    return form;
  };

  Widget.prototype.place = function (root) {
    var script = this.script;
    var targetId = script.dataset.target;
    var target = targetId && document.getElementById(targetId);
    if (target) {
      target.appendChild(root);
    } else if (targetId && document.readyState === "loading") {
      // A script without defer may run before its target is parsed.
      document.addEventListener("DOMContentLoaded", function () {
        var later = document.getElementById(targetId);
        if (later) { later.appendChild(root); } else { script.parentNode.insertBefore(root, script.nextSibling); }
      });
    } else {
      script.parentNode.insertBefore(root, script.nextSibling);
    }
  };

  Widget.prototype.record = function (kind, value, extra) {
    var record = { prediction_id: this.config.predictionId, kind: kind, value: value, idempotency_key: "widget-" + this.nonce + "-" + kind };
    if (this.config.model) { record.model = this.config.model; }
    if (this.config.endUser) { record.end_user = this.config.endUser; }
    return Object.assign(record, extra || {});
  };

  Widget.prototype.post = function (records) {
    var config = this.config;
    return fetch(config.endpoint, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Authorization: "ApiKey " + config.key },
      body: JSON.stringify(records)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok || !body || body.rejected) { throw new Error(problemOf(response, body)); }
        return body;
      });
    }, function () {
      throw new Error("Your feedback could not be sent: the feedback service is out of reach from this page.");
    });
  };

  Widget.prototype.say = function (text, failed) {
    this.status.textContent = text;
    this.status.className = "hf-status" + (failed ? " hf-error" : " hf-thanks");
  };

  Widget.prototype.vote = function (vote) {
    if (this.voted) { return; }
    var self = this;
    var chosen = vote === "up" ? this.up : this.down;
    this.voted = vote;
    chosen.setAttribute("aria-pressed", "true");
    [this.up, this.down].forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
    this.say("Sending…", false);
    this.post([this.record("thumbs", vote)]).then(function () {
      self.say("Thank you for your feedback." + (vote === "down" ? " Tell us what it should have been, if you like." : ""), false);
      self.form.hidden = false;
      if (vote === "down") { self.correction.focus(); }
    }, function (error) {
      self.voted = null;
      chosen.setAttribute("aria-pressed", "false");
      [self.up, self.down].forEach(function (b) { b.removeAttribute("aria-disabled"); });
      self.say(error.message, true);
    });
  };

  Widget.prototype.sendDetails = function () {
    var self = this;
    var records = [];
    var correction = this.correction.value.trim();
    var comment = this.comment.value.trim();
    if (correction) {
      if (this.config.correction === "value") {
        var number = Number(correction);
        if (!isFinite(number)) { this.say("The right value is a number.", true); this.correction.focus(); return; }
        records.push(this.record("value", number));
      } else {
        records.push(this.record("label", correction.slice(0, MAX_LABEL)));
      }
    }
    if (comment) { records.push(this.record("comment", comment.slice(0, MAX_COMMENT))); }
    if (!records.length) { this.say("Type a correction or a comment first.", true); this.correction.focus(); return; }
    this.send.disabled = true;
    this.say("Sending…", false);
    this.post(records).then(function () {
      self.form.hidden = true;
      self.say("Thank you: your correction was sent.", false);
    }, function (error) {
      self.send.disabled = false;
      self.say(error.message, true);
    });
  };

  function start(script) {
    if (!script || script.dataset.hfStarted) { return; }
    script.dataset.hfStarted = "1";
    if (!script.dataset.predictionId || !script.dataset.key) {
      if (window.console) { window.console.error("Handoff feedback widget: data-prediction-id and data-key are required."); }
      return;
    }
    new Widget(script);
  }

  function startAll() {
    var current = document.currentScript;
    if (current) { start(current); return; }
    // Loaded some other way (inserted by another script): start every widget tag not yet started.
    Array.prototype.forEach.call(document.querySelectorAll("script[data-prediction-id]"), start);
  }

  startAll();
})();
