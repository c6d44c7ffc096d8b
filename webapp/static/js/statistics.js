// The statistics page's charts (Chart.js, served from static/vendor): cases month by month,
// and the departments side by side. The figures come from the page, as JSON.
(function () {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#2b6cb0", "#38a169", "#dd6b20", "#805ad5"];
  const trend = document.getElementById("trend-chart");
  if (trend) {
    new Chart(trend, {
      type: "line",
      data: {
        labels: data.months,
        datasets: Object.keys(data.series).map((key, i) => ({
          label: data.labels[key], data: data.series[key], borderColor: colours[i], backgroundColor: colours[i],
          tension: 0.2,
        })),
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false },
    });
  }
  const departments = document.getElementById("department-chart");
  if (departments) {
    new Chart(departments, {
      type: "bar",
      data: {
        labels: data.rows,
        datasets: Object.keys(data.bars).map((key, i) => ({
          label: data.bar_labels[key], data: data.bars[key], backgroundColor: colours[i],
        })),
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false },
    });
  }
})();
