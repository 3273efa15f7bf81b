// "Print this summary" buttons: kept out of the page so the Content-Security-Policy needs no inline script.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
