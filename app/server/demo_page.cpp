// The demo chat page (see demo_service.hpp). Kept in the binary so the program needs no files
// besides the Socket.IO browser client.
#include "demo_service.hpp"

namespace ignis::program {
namespace {

constexpr std::string_view page_template = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ignis-socketio demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 46rem; padding: 1rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .8rem; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 0 0 .8rem; padding: .6rem .8rem; }
  legend { color: #555; }
  input { font: inherit; padding: .25rem .4rem; }
  input[type=text] { width: 16rem; }
  button { font: inherit; padding: .25rem .8rem; }
  #status { display: flex; gap: 1.2rem; margin: 0 0 .8rem; }
  #status b { font-weight: 600; }
  #log { border: 1px solid #ccc; border-radius: 6px; height: 18rem; overflow-y: auto; padding: .4rem .6rem; background: #fafafa; }
  #log div { margin: .1rem 0; }
  .sys { color: #777; }
  .err { color: #b00; }
  .me { color: #064; }
</style>
</head>
<body>
<h1>ignis-socketio demo</h1>
<fieldset>
  <legend>1. Connect</legend>
  <label>Token <input id="token" type="text" autocomplete="off" placeholder="development token"></label>
  <label><input id="ws-only" type="checkbox"> WebSocket only</label>
  <button id="connect">Connect</button>
  <button id="disconnect" disabled>Disconnect</button>
</fieldset>
<div id="status">
  <span>State: <b id="state">disconnected</b></span>
  <span>Transport: <b id="transport">-</b></span>
  <span>Id: <b id="sid">-</b></span>
</div>
<fieldset>
  <legend>2. Join a room</legend>
  <label>Room <input id="room" type="text" value="lobby"></label>
  <button id="join" disabled>Join</button>
  <span id="rooms"></span>
</fieldset>
<fieldset>
  <legend>3. Talk</legend>
  <form id="send-form">
    <input id="message" type="text" autocomplete="off" placeholder="message">
    <button id="send" type="submit" disabled>Send</button>
  </form>
</fieldset>
<div id="log" aria-live="polite"></div>
<script src="/demo/socket.io.min.js"></script>
<script>
"use strict";
const SOCKET_PATH = "@SOCKET_PATH@";
const $ = (id) => document.getElementById(id);
let socket = null;
let joined = [];

function line(text, cls) {
  const div = document.createElement("div");
  if (cls) div.className = cls;
  div.textContent = text;
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
}

function setState(state) {
  $("state").textContent = state;
  document.body.dataset.state = state;
  const authenticated = state === "authenticated";
  $("join").disabled = !authenticated;
  $("send").disabled = !authenticated || joined.length === 0;
  $("connect").disabled = socket !== null;
  $("disconnect").disabled = socket === null;
}

function showTransport() {
  const t = socket && socket.io.engine ? socket.io.engine.transport.name : "-";
  $("transport").textContent = t;
  document.body.dataset.transport = t;
}

$("connect").onclick = () => {
  if (typeof io !== "function") {
    line("The Socket.IO browser client is not installed on the server.", "err");
    return;
  }
  const token = $("token").value.trim();
  const transports = $("ws-only").checked ? ["websocket"] : ["polling", "websocket"];
  socket = io({ path: SOCKET_PATH, auth: { token }, transports, reconnection: false });
  setState("connecting");
  socket.on("connect", () => {
    $("sid").textContent = socket.id;
    setState("authenticating");
    showTransport();
    socket.io.engine.on("upgrade", showTransport);
    socket.emit("authenticate");
  });
  socket.on("authenticated", () => {
    setState("authenticated");
    line("Authenticated.", "sys");
  });
  socket.on("unauthenticated", ({ message }) => line(message, "err"));
  socket.on("connect_error", (e) => line("Connection failed: " + e.message, "err"));
  socket.on("disconnect", (reason) => {
    line("Disconnected: " + reason, "sys");
    socket = null;
    joined = [];
    $("rooms").textContent = "";
    $("sid").textContent = "-";
    setState("disconnected");
    showTransport();
  });
  socket.on("chat", ({ room, from, text }) => {
    const mine = socket && from === socket.id;
    line("[" + room + "] " + (mine ? "me" : from.slice(0, 6)) + ": " + text, mine ? "me" : "");
  });
};

$("disconnect").onclick = () => socket && socket.disconnect();

$("join").onclick = () => {
  const room = $("room").value.trim();
  if (!room) return;
  socket.emit("join", { rooms: [room] }, ({ rooms }) => {
    if (rooms.length === 0) {
      line("Not allowed to join " + room + ".", "err");
      return;
    }
    for (const r of rooms) if (!joined.includes(r)) joined.push(r);
    $("rooms").textContent = "in: " + joined.join(", ");
    document.body.dataset.rooms = joined.join(",");
    line("Joined " + rooms.join(", ") + ".", "sys");
    setState("authenticated");
  });
};

$("send-form").onsubmit = (e) => {
  e.preventDefault();
  const text = $("message").value;
  const room = joined.includes($("room").value.trim()) ? $("room").value.trim() : joined[0];
  if (!text || !room) return;
  socket.emit("chat", { room, text }, ({ ok }) => { if (!ok) line("Not sent.", "err"); });
  $("message").value = "";
};

// "/#token=..." (as ./scripts/run prints it) fills the token in.
if (location.hash.startsWith("#token=")) $("token").value = decodeURIComponent(location.hash.slice(7));
setState("disconnected");
</script>
</body>
</html>
)html";

}  // namespace

std::string demo_page_html(std::string_view socketio_path) {
  std::string page(page_template);
  constexpr std::string_view marker = "@SOCKET_PATH@";
  // The path is a flag value: keep it inside the JavaScript string literal.
  std::string safe;
  for (const char c : socketio_path) {
    if (c == '"' || c == '\\' || c == '<' || c == '>' || static_cast<unsigned char>(c) < 0x20)
      continue;
    safe += c;
  }
  page.replace(page.find(marker), marker.size(), safe);
  return page;
}

}  // namespace ignis::program
