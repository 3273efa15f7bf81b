// Keeps the notification bell (and the notifications page) up to date without a reload, through
// server-sent events from /api/notifications/stream. A static file: no inline script is needed.
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  if (!bell || typeof window.EventSource !== "function") { return; }
  var count = document.getElementById("notification-count");
  var words = document.getElementById("notification-count-words");
  var announcer = document.getElementById("notification-announcer");
  var list = document.getElementById("notification-list");
  var unread = parseInt(count.textContent, 10) || 0;

  function show(n) {
    unread = Math.max(n, 0);
    count.textContent = String(unread);
    count.hidden = unread === 0;
    words.textContent = unread + " unread";
  }

  function addToList(item) {
    if (!list) { return; }
    var row = document.createElement("li");
    row.className = "notification-item unread";
    var text = document.createElement("div");
    var message = document.createElement("div");
    message.className = "notification-message";
    if (item.link) {
      var link = document.createElement("a");
      link.href = item.link;
      link.textContent = item.message;
      message.appendChild(link);
    } else {
      message.textContent = item.message;
    }
    var when = document.createElement("div");
    when.className = "small muted";
    when.textContent = "Just now";
    text.appendChild(message);
    text.appendChild(when);
    row.appendChild(text);
    list.insertBefore(row, list.firstChild);
    var empty = document.getElementById("notification-empty");
    if (empty) { empty.hidden = true; }
  }

  var source = new EventSource(bell.getAttribute("data-stream"));
  source.addEventListener("unread", function (event) {
    show(JSON.parse(event.data).unread);
  });
  source.addEventListener("notification", function (event) {
    var item = JSON.parse(event.data);
    show(unread + 1);
    if (announcer) { announcer.textContent = "New notification: " + item.message; }
    addToList(item);
  });
}());
