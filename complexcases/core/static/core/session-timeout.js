// Session timeout warning (WCAG 2.2.1 Timing Adjustable).
//
// The server signs the user out after a period of inactivity and after a maximum session length;
// this script only warns before that happens, lets the user extend the session, and leaves the
// page when time is up so that personal data is not left on screen. The partial
// core/_session_timeout.html gives the seconds remaining and the URLs as data attributes.
// A file, not an inline script: the content security policy allows no inline script.

const root = document.querySelector('[data-module="cc-session-timeout"]');

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function describe(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  if (minutes === 0) return plural(rest, "second");
  if (rest === 0) return plural(minutes, "minute");
  return `${plural(minutes, "minute")} ${plural(rest, "second")}`;
}

function start(element) {
  const data = element.dataset;
  const dialog = element.querySelector("dialog");
  const extendButton = element.querySelector("[data-cc-extend]");
  const canExtendText = element.querySelector("[data-cc-can-extend]");
  const cannotExtendText = element.querySelector("[data-cc-cannot-extend]");
  const failedText = element.querySelector("[data-cc-extend-failed]");
  const announcer = element.querySelector("[data-cc-announcer]");
  const countdowns = element.querySelectorAll("[data-cc-countdown]");
  const warningSeconds = Number(data.warningSeconds) || 120;
  const initialSeconds = Number(data.secondsRemaining);
  const initialAbsolute = Number(data.absoluteSecondsRemaining);
  if (!dialog || typeof dialog.showModal !== "function" || !Number.isFinite(initialSeconds)) {
    return; // no warning possible; the server still enforces the timeout
  }

  let deadline = 0; // when the server will sign the user out (ms since the epoch)
  let absoluteDeadline = 0;
  let warnTimer = 0;
  let leaveTimer = 0;
  let tickTimer = 0;
  let lastAnnounced = 0;

  const secondsLeft = () => (deadline - Date.now()) / 1000;
  const canExtend = () => (absoluteDeadline - Date.now()) / 1000 > warningSeconds;

  function leave() {
    // The server has signed the user out by now; the next page explains why.
    window.location.assign(data.timedOutUrl);
  }

  function schedule(seconds, absoluteSeconds) {
    const now = Date.now();
    deadline = now + seconds * 1000;
    absoluteDeadline = now + (Number.isFinite(absoluteSeconds) ? absoluteSeconds : seconds) * 1000;
    window.clearTimeout(warnTimer);
    window.clearTimeout(leaveTimer);
    warnTimer = window.setTimeout(checkThenWarn, Math.max(0, (seconds - warningSeconds) * 1000));
    leaveTimer = window.setTimeout(leave, seconds * 1000 + 1000);
  }

  async function fetchJson(url, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": data.csrfToken },
      ...options,
    });
    if (response.status === 401 || response.status === 403) return { signedOut: true };
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  function show(part, visible) {
    if (part) part.hidden = !visible;
  }

  function tick() {
    const left = secondsLeft();
    countdowns.forEach((node) => {
      node.textContent = describe(left);
    });
    // Screen readers hear the time at the start and then every 30 seconds, not every second.
    const now = Date.now();
    if (announcer && now - lastAnnounced >= 30000) {
      lastAnnounced = now;
      announcer.textContent = `You will be signed out in ${describe(left)}.`;
    }
  }

  function warn() {
    const extendable = canExtend();
    show(canExtendText, extendable);
    show(cannotExtendText, !extendable);
    show(failedText, false);
    // A style property rather than `hidden`: .govuk-button's display would win over [hidden].
    // (Setting a property through the CSSOM is allowed by the content security policy.)
    if (extendButton) extendButton.style.display = extendable ? "" : "none";
    lastAnnounced = 0;
    tick();
    window.clearInterval(tickTimer);
    tickTimer = window.setInterval(tick, 1000);
    if (!dialog.open) dialog.showModal();
    (extendable ? extendButton : dialog.querySelector("h2"))?.focus();
  }

  function close() {
    window.clearInterval(tickTimer);
    if (dialog.open) dialog.close();
  }

  async function checkThenWarn() {
    // Another tab may have extended the session. Asking does not count as activity.
    try {
      const status = await fetchJson(data.statusUrl, { method: "GET" });
      if (status.signedOut) return leave();
      if (status.seconds_remaining > warningSeconds) {
        return schedule(status.seconds_remaining, status.absolute_seconds_remaining);
      }
      schedule(status.seconds_remaining, status.absolute_seconds_remaining);
      window.clearTimeout(warnTimer);
    } catch {
      // Could not ask: warn on the page's own clock.
    }
    warn();
  }

  async function extend() {
    try {
      const result = await fetchJson(data.extendUrl, { method: "POST" });
      if (result.signedOut) return leave();
      schedule(result.seconds_remaining, result.absolute_seconds_remaining);
      if (result.seconds_remaining > warningSeconds) {
        close();
        if (announcer) announcer.textContent = "Your session has been extended.";
      } else {
        window.clearTimeout(warnTimer);
        warn();
      }
    } catch {
      show(canExtendText, false);
      show(failedText, true);
    }
  }

  extendButton?.addEventListener("click", extend);
  // Escape means "stay signed in", as in the GOV.UK timeout warning pattern.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (canExtend()) extend();
  });

  schedule(initialSeconds, initialAbsolute);
}

if (root) start(root);
