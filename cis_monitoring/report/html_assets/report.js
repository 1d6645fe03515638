// cis-monitoring's HTML report: filtering by status and account without a server.
// The filter lives in the address (#status=FAIL,ERROR&q=payments), so a filtered view can be shared
// as a link to the same file. Everything works on the static page; this only hides and shows.
(function () {
  "use strict";
  var root = document.documentElement;
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-filter-status]"));
  var search = document.getElementById("filter-text");
  var cells = document.querySelectorAll("td.c[data-status]");
  var rows = document.querySelectorAll("tr.acct-row");
  var groups = document.querySelectorAll("tbody.ou-group");
  var targets = document.querySelectorAll("details.target");
  var accounts = document.querySelectorAll("section.account");
  var shown = document.getElementById("shown-count");

  function readHash() {
    var wanted = { status: null, q: "" };
    var hash = window.location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (part) {
      var kv = part.split("=");
      if (kv[0] === "status" && kv.length > 1) {
        wanted.status = decodeURIComponent(kv[1]).split(",").filter(Boolean);
      } else if (kv[0] === "q" && kv.length > 1) {
        wanted.q = decodeURIComponent(kv[1]);
      }
    });
    return wanted;
  }

  function writeHash(statuses, text) {
    var all = statuses.length === boxes.length;
    var parts = [];
    if (!all) parts.push("status=" + encodeURIComponent(statuses.join(",")));
    if (text) parts.push("q=" + encodeURIComponent(text));
    var next = parts.length ? "#" + parts.join("&") : " ";
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", next === " " ? window.location.pathname : next);
    }
  }

  function matches(element, text) {
    if (!text) return true;
    return (element.getAttribute("data-search") || "").indexOf(text) !== -1;
  }

  function apply(fromUser) {
    var on = {};
    var statuses = [];
    boxes.forEach(function (box) {
      if (box.checked) {
        on[box.value] = true;
        statuses.push(box.value);
      }
    });
    var text = search ? search.value.trim().toLowerCase() : "";
    var i;
    for (i = 0; i < cells.length; i++) {
      cells[i].classList.toggle("off", !on[cells[i].getAttribute("data-status")]);
    }
    for (i = 0; i < rows.length; i++) {
      var present = (rows[i].getAttribute("data-statuses") || "").split(" ");
      var any = present.some(function (s) { return on[s]; });
      rows[i].classList.toggle("hidden", !any || !matches(rows[i], text));
    }
    for (i = 0; i < groups.length; i++) {
      groups[i].classList.toggle("hidden", !groups[i].querySelector("tr.acct-row:not(.hidden)"));
    }
    var count = 0;
    for (i = 0; i < targets.length; i++) {
      var visible = on[targets[i].getAttribute("data-status")] && matches(targets[i], text);
      targets[i].classList.toggle("hidden", !visible);
      if (visible) count++;
    }
    for (i = 0; i < accounts.length; i++) {
      accounts[i].classList.toggle("hidden", !accounts[i].querySelector("details.target:not(.hidden)"));
    }
    if (shown) shown.textContent = String(count);
    root.setAttribute("data-shown", String(count));
    root.setAttribute("data-filter", statuses.join(","));
    if (fromUser === true) writeHash(statuses, text);
  }

  function openTarget() {
    var id = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    if (!id || id.indexOf("=") !== -1) return;
    var element = document.getElementById(id);
    while (element) {
      if (element.tagName === "DETAILS") element.open = true;
      element = element.parentElement;
    }
  }

  var wanted = readHash();
  boxes.forEach(function (box) {
    if (wanted.status !== null) box.checked = wanted.status.indexOf(box.value) !== -1;
    box.addEventListener("change", function () { apply(true); });
  });
  if (search) {
    search.value = wanted.q;
    search.addEventListener("input", function () { apply(true); });
  }
  window.addEventListener("hashchange", openTarget);
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  apply(false);
  openTarget();
  root.setAttribute("data-ready", "1");
})();
