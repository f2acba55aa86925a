// The stream summary page: only the Print button needs a script (the CSP allows no inline one).
document.getElementById("print").addEventListener("click", () => window.print());
