/* Autosave of dossier sections: a few seconds after typing stops, and when the page is left.
 * The server refuses a stale save (409); the text stays on screen and in localStorage. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave-url]");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave-url");
  var storageKey = form.getAttribute("data-storage-key");
  var status = form.querySelector(".autosave-status");
  var versionInput = form.querySelector("input[name=_version]");
  var timer = null;
  var dirty = false;
  var DELAY = 3000;

  function say(text) { if (status) { status.textContent = text; } }

  function backup() {
    try {
      var values = {};
      new FormData(form).forEach(function (value, key) {
        if (key !== "csrfmiddlewaretoken") { values[key] = value; }
      });
      window.localStorage.setItem(storageKey, JSON.stringify(values));
    } catch (e) { /* storage may be unavailable: the server copy is what counts */ }
  }

  function save(keepalive) {
    if (!dirty) { return; }
    dirty = false;
    var body = new FormData(form);
    var request = fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "X-Autosave": "1", "X-CSRFToken": body.get("csrfmiddlewaretoken") }
    });
    if (keepalive) { return; }
    say("Enregistrement…");
    request.then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      if (result.status === 200) {
        versionInput.value = result.data.version;
        say("Brouillon enregistré automatiquement à " + result.data.saved_at + ".");
        try { window.localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
      } else {
        dirty = false;
        say(result.data.message || "Enregistrement automatique impossible.");
        if (status) { status.classList.add("text-danger"); }
      }
    }).catch(function () {
      dirty = true;
      say("Connexion perdue : votre saisie est conservée sur cet appareil et sera enregistrée dès que possible.");
    });
  }

  function changed() {
    dirty = true;
    backup();
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { save(false); }, DELAY);
  }

  // Restore what was typed but never reached the server (closed tab, lost connection).
  try {
    var saved = window.localStorage.getItem(storageKey);
    if (saved) {
      var values = JSON.parse(saved);
      Object.keys(values).forEach(function (name) {
        var field = form.elements.namedItem(name);
        if (field && field.type !== "hidden" && field.type !== "checkbox" && field.value !== values[name]) {
          field.value = values[name];
          dirty = true;
        }
      });
      if (dirty) { say("Une saisie non enregistrée a été restaurée depuis cet appareil."); changed(); }
    }
  } catch (e) { /* ignore */ }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () { dirty = false; window.clearTimeout(timer); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(true); }
  });
  window.addEventListener("pagehide", function () { save(true); });
})();
