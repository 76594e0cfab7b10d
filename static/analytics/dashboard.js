// The manager dashboard's charts (analytics/templates/analytics/dashboard.html).
// The data comes from the <script type="application/json" id="dashboard-data">
// block the page renders (the CSP forbids inline scripts); every chart also has
// a table on the page, so nothing here is the only way to read a figure.
(function () {
  "use strict";

  // Okabe-Ito: distinguishable with every common colour-vision deficiency.
  var PALETTE = {
    blue: "#0072B2",
    orange: "#E69F00",
    green: "#009E73",
    vermilion: "#D55E00",
    sky: "#56B4E9",
    purple: "#CC79A7",
    yellow: "#F0E442",
    black: "#000000",
  };

  function axisTitle(text) {
    return { display: true, text: text };
  }

  function bar(id, labels, datasets, options) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, options),
    });
  }

  function trendChart(trend) {
    var canvas = document.getElementById("chart-trend");
    if (!canvas) return;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: trend.labels,
        datasets: [
          { label: "Created", data: trend.created, borderColor: PALETTE.blue,
            backgroundColor: PALETTE.blue, tension: 0.2, pointRadius: 2 },
          { label: "Solved", data: trend.solved, borderColor: PALETTE.orange,
            backgroundColor: PALETTE.orange, borderDash: [6, 3], tension: 0.2, pointRadius: 2 },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { title: axisTitle(trend.period + " starting") },
          y: { beginAtZero: true, title: axisTitle("tickets"), ticks: { precision: 0 } },
        },
      },
    });
  }

  // Writes each agent's name beside their point: a scatter of unnamed dots
  // would not say who is fast. A name that would overlap one already written
  // (or leave the chart) is tried on the other side, then left out: the
  // tooltip and the table still have it.
  var pointLabels = {
    id: "pointLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var area = chart.chartArea;
      var taken = [];
      function overlaps(box) {
        return taken.some(function (other) {
          return box.left < other.right && other.left < box.right &&
            box.top < other.bottom && other.top < box.bottom;
        });
      }
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillStyle = "#1d2330";
      chart.data.datasets.forEach(function (dataset, i) {
        chart.getDatasetMeta(i).data.forEach(function (point, j) {
          var label = dataset.data[j] && dataset.data[j].label;
          if (!label) return;
          // Beside the point whatever its size (bubbles carry their radius).
          var radius = (point.options && point.options.radius) || 6;
          var width = ctx.measureText(label).width;
          var top = point.y - 12;
          var places = [point.x + radius + 3, point.x - radius - 3 - width];
          for (var k = 0; k < places.length; k++) {
            var box = { left: places[k], right: places[k] + width, top: top, bottom: top + 14 };
            if (box.left < area.left || box.right > area.right + 60 || overlaps(box)) continue;
            taken.push(box);
            ctx.fillText(label, box.left, point.y);
            return;
          }
        });
      });
      ctx.restore();
    },
  };

  // A dashed horizontal line at a target value on the y axis, e.g. CSAT 85 %.
  function targetLine(value) {
    return {
      id: "targetLine",
      afterDatasetsDraw: function (chart) {
        var y = chart.scales.y;
        if (!y || value < y.min || value > y.max) return;
        var ctx = chart.ctx;
        var position = y.getPixelForValue(value);
        ctx.save();
        ctx.strokeStyle = PALETTE.vermilion;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(chart.chartArea.left, position);
        ctx.lineTo(chart.chartArea.right, position);
        ctx.stroke();
        ctx.fillStyle = "#b34700";
        ctx.font = "12px system-ui, sans-serif";
        ctx.fillText("target " + value + " %", chart.chartArea.left + 4, position - 4);
        ctx.restore();
      },
    };
  }

  // Median resolution time (x) against CSAT (y); the point's area grows with
  // the tickets solved (the radius "r" comes with the data).
  function agentChart(agents) {
    var canvas = document.getElementById("chart-agents");
    if (!canvas) return;
    var points = agents.points;
    var lowest = points.reduce(function (low, p) { return Math.min(low, p.y); }, agents.target);
    lowest = Math.max(0, Math.floor(lowest / 10) * 10 - 10);
    new window.Chart(canvas, {
      type: "bubble",
      data: {
        // clip: false, so an agent at 100 % is drawn whole above the axis' end.
        datasets: [{ label: "Agents", data: points, backgroundColor: "rgba(0, 114, 178, 0.55)",
          borderColor: PALETTE.blue, clip: false }],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        layout: { padding: { right: 70, top: 24 } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) {
            var p = item.raw;
            return p.label + ": median " + p.x + " h, CSAT " + p.y + " % of " + p.answers +
              " answers, " + p.solved + " solved";
          } } },
        },
        scales: {
          // grace: room past the slowest agent for their point and name.
          x: { beginAtZero: true, grace: "8%", title: axisTitle(agents.x_title) },
          // From a round ten below the lowest point (never above the target):
          // agents crowd near the top, and a 0-100 axis would stack them.
          y: { min: lowest, max: 100, title: axisTitle(agents.y_title) },
        },
      },
      plugins: [pointLabels, targetLine(agents.target)],
    });
  }

  function csatMonthChart(months) {
    var canvas = document.getElementById("chart-csat-month");
    if (!canvas) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: months.labels,
        datasets: [{ label: "CSAT", data: months.percent, backgroundColor: PALETTE.blue }],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) {
            return "CSAT " + item.raw + " % of " + months.answers[item.dataIndex] + " answers";
          } } },
        },
        scales: {
          x: { title: axisTitle("month of the answer") },
          y: { min: 0, max: 100, title: axisTitle("% of answers rated 4–5") },
        },
      },
      plugins: [targetLine(months.target)],
    });
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    window.Chart.defaults.font.family = "system-ui, sans-serif";
    window.Chart.defaults.color = "#1d2330";

    trendChart(data.trend);
    bar("chart-categories", data.categories.labels,
      [{ label: "Tickets", data: data.categories.tickets, backgroundColor: PALETTE.blue }],
      { indexAxis: "y", plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, title: axisTitle("tickets"), ticks: { precision: 0 } } } });
    bar("chart-backlog", data.backlog.labels,
      [{ label: "Open tickets", data: data.backlog.tickets, backgroundColor: PALETTE.orange }],
      { plugins: { legend: { display: false } },
        scales: { x: { title: axisTitle("age") },
          y: { beginAtZero: true, title: axisTitle("open tickets"), ticks: { precision: 0 } } } });
    var targetColours = [PALETTE.blue, PALETTE.orange, PALETTE.green];
    bar("chart-sla", data.sla.labels,
      data.sla.targets.map(function (target, i) {
        return { label: target.name, data: target.percent, backgroundColor: targetColours[i] };
      }),
      { scales: { x: { title: axisTitle("customer tier") },
        y: { min: 0, max: 100, title: axisTitle("% of targets met") } } });
    agentChart(data.agents);
    csatMonthChart(data.csat_month);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
