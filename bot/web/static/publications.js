// Publiseringer: live recipient counts while picking a segment, and delivery progress
// that updates itself. The pages work without this file; it only saves a click.
"use strict";

(function () {
  function setText(root, name, value) {
    var node = root.querySelector('[data-felt="' + name + '"]');
    if (node) { node.textContent = String(value); }
  }

  // --- the segment picker -----------------------------------------------------------------
  function picker(form) {
    var url = form.getAttribute("data-mottakere-url");
    var box = document.getElementById("mottakervalg");
    var out = document.getElementById("mottakertall");
    var button = document.getElementById("beregn");
    if (!url || !box || !out) { return; }
    // Counts follow every change now: the no-script button would only be the form's
    // default (Enter in a field would press it), so it goes.
    if (button) { button.remove(); }
    var timer = null;
    var asked = 0;

    function show(sentence, details, error) {
      out.replaceChildren();
      var first = document.createElement("p");
      if (error) {
        first.className = "error";
        first.textContent = error;
        out.appendChild(first);
        return;
      }
      var strong = document.createElement("strong");
      strong.textContent = sentence;
      first.appendChild(strong);
      out.appendChild(first);
      var second = document.createElement("p");
      second.textContent = details;
      out.appendChild(second);
    }

    function ask() {
      var params = new URLSearchParams();
      box.querySelectorAll("input, select").forEach(function (field) {
        if (!field.name || (field.type === "radio" && !field.checked)) { return; }
        params.append(field.name, field.value);
      });
      var mine = ++asked;
      fetch(url + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return body; });
      }).then(function (body) {
        if (mine !== asked) { return; } // an older answer arriving late
        if (body.error) { show("", "", body.error); } else { show(body.sentence, body.details, ""); }
      }).catch(function () {
        if (mine === asked) { show("", "", "Kunne ikke beregne mottakerne nå."); }
      });
    }

    function soon() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(ask, 250);
    }

    box.addEventListener("change", function (event) {
      // Choosing a county, a type, a role or codes also chooses that kind of segment.
      var kind = event.target.getAttribute && event.target.getAttribute("data-kind");
      var radio = kind && document.getElementById("m-" + kind);
      if (radio) { radio.checked = true; }
      soon();
    });
    box.addEventListener("input", function (event) {
      if (event.target.id === "organisasjoner") {
        var radio = document.getElementById("m-orgs");
        if (radio) { radio.checked = true; }
        soon();
      }
    });
  }

  // --- delivery progress ------------------------------------------------------------------
  function progress(section) {
    var url = section.getAttribute("data-levering-url");
    var seconds = Number(section.getAttribute("data-poll-seconds")) || 2;
    var bar = document.getElementById("fremdriftslinje");
    if (!url) { return; }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          if (bar) { bar.value = body.percent; bar.textContent = body.percent + " %"; }
          ["percent", "summary", "delivered", "pending", "unreachable", "failed", "uncertain"]
            .forEach(function (name) { setText(section, name, body[name]); });
          if (body.done) {
            window.location.reload(); // the finished report, with every name
          } else {
            setTimeout(poll, seconds * 1000);
          }
        })
        .catch(function () { setTimeout(poll, seconds * 2000); });
    }
    setTimeout(poll, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-mottakere-url]");
    if (form) { picker(form); }
    var section = document.querySelector("[data-levering-url]");
    if (section) { progress(section); }
  });
})();
