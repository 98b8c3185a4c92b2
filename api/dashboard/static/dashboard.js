/* The programme dashboard: asks for a token once (sessionStorage), reads the programme report and the
 * next steps from this server's API, and shows each figure as a chart and as a table with the same numbers.
 * Every number shown sits in a cell with data-metric (its path in the report, "/"-separated; a list item is
 * named by its month, slug or code) and data-value (the raw value), so tests and screen readers get the
 * exact figures. */
(function () {
  "use strict";

  var TOKEN_KEY = "boardroom.dashboard.token";
  var main = document.getElementById("main");
  var form = document.getElementById("token-form");
  var status = document.getElementById("status");
  var figures = document.getElementById("figures");
  var forget = document.getElementById("forget");
  var charts = [];
  var BLUE = "#005eb8", ORANGE = "#b35900", GREEN = "#007f3b", RED = "#d4351c";

  function setStatus(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function humanise(key) {
    var words = String(key).split("_").join(" ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function isRatio(metric) { return metric === "coverage"; }

  function format(metric, value) {
    if (value === null || value === undefined) return "–";
    if (isRatio(metric)) return (value * 100).toFixed(1) + "%";
    return String(value);
  }

  function cell(row, text, path, metric, value) {
    var td = document.createElement("td");
    td.className = "num";
    td.textContent = format(metric, value);
    td.setAttribute("data-metric", path);
    td.setAttribute("data-value", value === null || value === undefined ? "" : String(value));
    row.appendChild(td);
  }

  /* A table: a caption, column headings, and rows of [label, [path, metric, value]...]. */
  function table(id, caption, headings, rows) {
    var t = document.getElementById(id);
    t.textContent = "";
    var cap = document.createElement("caption");
    cap.textContent = caption;
    t.appendChild(cap);
    var head = t.createTHead().insertRow();
    headings.forEach(function (h, i) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = h;
      if (i > 0) th.className = "num";
      head.appendChild(th);
    });
    var body = t.createTBody();
    rows.forEach(function (r) {
      var tr = body.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = r[0];
      tr.appendChild(th);
      r[1].forEach(function (c) { cell(tr, null, c[0], c[1], c[2]); });
    });
    if (!rows.length) {
      var tr = body.insertRow();
      var td = tr.insertCell();
      td.colSpan = headings.length;
      td.textContent = "Nothing to show for this period.";
    }
  }

  function chart(id, type, labels, datasets, options) {
    var canvas = document.getElementById(id);
    charts.push(new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
                               plugins: { legend: { display: datasets.length > 1 } } }, options || {})
    }));
  }

  function percentAxis(axis) {
    var scales = {};
    scales[axis] = { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } };
    return { scales: scales };
  }

  function coverage(section, data, tableId, chartId, caption, horizontal) {
    var rows = [], labels = [], values = [];
    entries(data).forEach(function (e) {
      var key = e[0], f = e[1];
      var label = f.name || humanise(key);
      labels.push(label);
      values.push(f.coverage === null || f.coverage === undefined ? 0 : Math.round(f.coverage * 1000) / 10);
      var base = section + "/" + key + "/";
      rows.push([label, [[base + "trusts_engaged", "trusts_engaged", f.trusts_engaged],
                         [base + "trusts_total", "trusts_total", f.trusts_total],
                         [base + "coverage", "coverage", f.coverage]]]);
    });
    table(tableId, caption, ["", "Trusts engaged", "Trusts", "Coverage"], rows);
    chart(chartId, "bar", labels, [{ label: "Coverage (%)", data: values, backgroundColor: BLUE }],
          Object.assign({ indexAxis: horizontal ? "y" : "x" }, percentAxis(horizontal ? "x" : "y")));
  }

  /* [key, figures] pairs of an object, or of a list whose items carry their key (code, ics_code, slug). */
  function entries(data) {
    if (Array.isArray(data)) {
      return data.map(function (item) { return [item.code || item.ics_code || item.slug || item.name, item]; });
    }
    return Object.keys(data || {}).map(function (k) { return [k, data[k]]; });
  }

  function render(report, steps) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];

    var summary = document.getElementById("summary-body");
    summary.textContent = "";
    [["Trusts engaged", "trusts_engaged"], ["Trusts", "trusts_total"], ["Coverage", "coverage"]].forEach(function (m) {
      var tr = summary.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = m[0];
      tr.appendChild(th);
      cell(tr, null, m[1], m[1], report[m[1]]);
    });
    Object.keys(report.bookings_by_status).forEach(function (s) {
      var tr = summary.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = "Bookings " + s;
      tr.appendChild(th);
      cell(tr, null, "bookings_by_status/" + s, "bookings", report.bookings_by_status[s]);
    });

    coverage("by_region", report.by_region, "table-region", "chart-region", "Coverage by region", false);

    var hasIcs = report.by_ics !== undefined && report.by_ics !== null;
    document.getElementById("ics-missing").hidden = hasIcs;
    document.getElementById("ics-figure").hidden = !hasIcs;
    document.getElementById("table-ics").hidden = !hasIcs;
    if (hasIcs) {
      coverage("by_ics", report.by_ics, "table-ics", "chart-ics", "Coverage by integrated care system", true);
    }

    var months = report.by_month;
    table("table-month", "Sessions delivered by month", ["Month", "Sessions"],
          months.map(function (m) { return [m.month, [["by_month/" + m.month + "/sessions", "sessions", m.sessions]]]; }));
    chart("chart-month", "bar", months.map(function (m) { return m.month; }),
          [{ label: "Sessions", data: months.map(function (m) { return m.sessions; }), backgroundColor: BLUE }],
          { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } });

    var c = report.confidence;
    var f = report.attendee_feedback || null;
    var rows = [["Outcomes", [["confidence/responses", "responses", c.responses],
                              ["confidence/mean_before", "mean", c.mean_before],
                              ["confidence/mean_after", "mean", c.mean_after],
                              ["confidence/mean_change", "mean", c.mean_change]]]];
    if (f) {
      rows.push(["Attendee surveys", [["attendee_feedback/responses", "responses", f.responses],
                                      ["attendee_feedback/mean_confidence_before", "mean", f.mean_confidence_before],
                                      ["attendee_feedback/mean_confidence_after", "mean", f.mean_confidence_after],
                                      ["attendee_feedback/mean_confidence_change", "mean", f.mean_confidence_change]]]);
    }
    table("table-confidence", "Mean confidence (1 to 5)", ["Source", "Responses", "Before", "After", "Change"], rows);
    var confidence = [{ label: "Outcomes", data: [c.mean_before, c.mean_after], backgroundColor: BLUE }];
    if (f) {
      confidence.push({ label: "Attendee surveys", data: [f.mean_confidence_before, f.mean_confidence_after],
                        backgroundColor: ORANGE });
    }
    chart("chart-confidence", "bar", ["Before", "After"], confidence, {
      plugins: { legend: { display: true } }, scales: { y: { min: 0, max: 5 } } });
    document.getElementById("table-usefulness").hidden = !f;
    if (f) {
      table("table-usefulness", "Attendee surveys: usefulness", ["", "Attendee surveys"],
            [["Mean usefulness (0 to 10)", [["attendee_feedback/mean_usefulness", "mean", f.mean_usefulness]]],
             ["Net promoter score (-100 to 100)", [["attendee_feedback/net_promoter_score", "score",
                                                    f.net_promoter_score]]]]);
    }

    var themes = report.themes;
    table("table-themes", "Outcomes naming each theme", ["Theme", "Outcomes"],
          themes.map(function (t) { return [t.name, [["themes/" + t.slug + "/count", "count", t.count]]]; }));
    chart("chart-themes", "bar", themes.map(function (t) { return t.name; }),
          [{ label: "Outcomes", data: themes.map(function (t) { return t.count; }), backgroundColor: GREEN }],
          { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });

    table("table-steps", "Next steps", ["", "Next steps"],
          [["Open", [["next_steps/open", "count", steps.open]]],
           ["Overdue (open, due before today)", [["next_steps/overdue", "count", steps.overdue]]]]);
    chart("chart-steps", "bar", ["Open", "Overdue"],
          [{ label: "Next steps", data: [steps.open, steps.overdue], backgroundColor: [BLUE, RED] }],
          { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
  }

  function get(path, token) {
    return fetch(path, { headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
                         cache: "no-store" }).then(function (response) {
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response;
    });
  }

  function total(response) {
    var meta = JSON.parse(response.headers.get("X-Pagination") || "{}");
    return meta.total || 0;
  }

  function londonToday() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit",
                                              day: "2-digit" }).format(new Date());
  }

  function load(token) {
    form.hidden = true;
    forget.hidden = false;
    main.setAttribute("aria-busy", "true");
    main.setAttribute("data-state", "loading");
    setStatus("Loading the programme figures…");
    Promise.all([
      get("/api/v1/reports/programme", token).then(function (r) { return r.json(); }),
      get("/api/v1/next-steps?done=false&page=1&page_size=1", token).then(total),
      get("/api/v1/next-steps?done=false&due_before=" + londonToday() + "&page=1&page_size=1", token).then(total)
    ]).then(function (results) {
      figures.hidden = false;
      render(results[0], { open: results[1], overdue: results[2] });
      setStatus("");
      main.setAttribute("aria-busy", "false");
      main.setAttribute("data-state", "ready");
    }).catch(function (error) {
      main.setAttribute("aria-busy", "false");
      main.setAttribute("data-state", "error");
      if (error.status === 401 || error.status === 403) {
        sessionStorage.removeItem(TOKEN_KEY);
        askForToken(error.status === 401 ? "That token was not accepted. Paste a valid token."
                                         : "That token may not read the report. Use a coordinator or viewer token.");
      } else {
        setStatus("The figures could not be loaded (" + error.message + "). Reload to try again.", true);
      }
    });
  }

  function askForToken(message) {
    figures.hidden = true;
    forget.hidden = true;
    form.hidden = false;
    main.setAttribute("data-state", "token");
    main.setAttribute("aria-busy", "false");
    setStatus(message || "", Boolean(message));
    document.getElementById("token").focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = document.getElementById("token").value.trim();
    if (!token) {
      setStatus("Paste a token first.", true);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    document.getElementById("token").value = "";
    load(token);
  });

  forget.addEventListener("click", function () {
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken("Your token has been forgotten in this tab.");
  });

  window.Chart.defaults.font.size = 14;
  var saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    load(saved);
  } else {
    askForToken();
  }
})();
