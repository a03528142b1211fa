// Draws the figures page's charts with chart.js (served by the app) from the JSON the page carries.
const data = JSON.parse(document.getElementById('figures-data')?.textContent ?? 'null');
const COLOURS = ['#0b4f6c', '#c98a00', '#1f7a35', '#b3261e', '#6b4c9a', '#555'];
if (data && window.Chart) {
  new window.Chart(document.getElementById('chart-penetration'), {
    type: 'line',
    data: {
      labels: data.trendDays,
      datasets: data.penetration.map((d, i) => ({ label: d.label, data: d.rates, borderColor: COLOURS[i % COLOURS.length], tension: 0.2 })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, title: { display: true, text: '% de la population cible' } } },
    },
  });
  new window.Chart(document.getElementById('chart-contributions'), {
    type: 'bar',
    data: {
      labels: data.months,
      datasets: data.channels.map((c, i) => ({ label: c.label, data: c.amounts, backgroundColor: COLOURS[i % COLOURS.length] })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'FCFA' } } },
    },
  });
}
