// The board's drag and drop: a card dropped on a column posts the same form as its buttons
// (status, and the card it lands above), then the board is replaced by the answer's board.
// Keyboard and no-JS users move cards with the buttons; this only adds the mouse path.
(function () {
  "use strict";
  var dragged = null;

  function allowed(card, column) {
    var status = column.getAttribute("data-status");
    var current = card.closest("[data-status]").getAttribute("data-status");
    var next = (card.getAttribute("data-next") || "").split(" ");
    return status === current || next.indexOf(status) !== -1;
  }

  function cardBelow(column, y) {
    var cards = column.querySelectorAll(".board-card");
    for (var i = 0; i < cards.length; i++) {
      var box = cards[i].getBoundingClientRect();
      if (cards[i] !== dragged && y < box.top + box.height / 2) { return cards[i]; }
    }
    return null;
  }

  function clearMarks() {
    document.querySelectorAll(".drop-ok, .drop-before").forEach(function (el) {
      el.classList.remove("drop-ok", "drop-before");
    });
  }

  function swapBoard(html) {
    var found = new DOMParser().parseFromString(html, "text/html").getElementById("board");
    var board = document.getElementById("board");
    if (!found || !board) { window.location.reload(); return; }
    board.replaceWith(found);
    if (window.htmx) { window.htmx.process(found); }
    var summary = found.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }

  function post(card, status, before) {
    var form = card.querySelector("form.move-form");
    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("status", status);
    data.append("next", window.location.pathname + window.location.search);
    if (before) { data.append("before", before.getAttribute("data-item")); }
    fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {"X-CSRFToken": data.get("csrfmiddlewaretoken"), "HX-Request": "true"}
    }).then(function (response) {
      return response.text();
    }).then(swapBoard).catch(function () { window.location.reload(); });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card[draggable=true]");
    if (!card) { return; }
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-item"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    clearMarks();
  });

  document.addEventListener("dragover", function (event) {
    var column = dragged && event.target.closest && event.target.closest(".board-column");
    if (!column || !allowed(dragged, column)) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    column.classList.add("drop-ok");
    var below = cardBelow(column, event.clientY);
    if (below) { below.classList.add("drop-before"); }
  });

  document.addEventListener("drop", function (event) {
    var column = dragged && event.target.closest && event.target.closest(".board-column");
    if (!column || !allowed(dragged, column)) { return; }
    event.preventDefault();
    var card = dragged;
    var before = cardBelow(column, event.clientY);
    clearMarks();
    post(card, column.getAttribute("data-status"), before);
  });
})();
