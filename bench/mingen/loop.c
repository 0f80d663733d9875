// The connections, on one epoll loop: open, upgrade, Engine.IO open, Socket.IO CONNECT, optional
// authenticate, then the scenario's traffic. By default every frame is its own write(), as a
// client that sends when it has something to say does; --coalesce gathers a loop turn's frames.
#define _GNU_SOURCE
#include "mingen.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum conn_state {
  st_idle,
  st_tcp,
  st_upgrade,
  st_eio_open,
  st_sio_connect,
  st_auth,
  st_ready,
  st_dead
};

typedef struct conn {
  int fd;
  enum conn_state state;
  int sender;
  int dirty;
  int want_out;
  int counted_ready;
  long next_ack;
  uint64_t started_ns;
  char* in;
  size_t in_len, in_cap;
  char* out;
  size_t out_len, out_cap;
} conn;

enum { max_server_frame = 16 * 1024 * 1024 };
static const uint64_t stall_after_ns = 5000000000ULL;

static run_state* S;
static const options* O;
static conn* conns;
static size_t conn_count;
static size_t next_to_open;
static unsigned pending;
static int ep = -1;
static size_t* dirty;
static size_t dirty_count;
static char* packet_buf;  // one packet being built
static char* frame_buf;   // its frame
static char* read_buf;
// fanout: the sender's progress and each broadcast's deliveries so far
static uint64_t broadcasts_sent, broadcasts_done, last_progress_ns;
static uint32_t deliveries[fanout_ring];

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int append(char** buf, size_t* len, size_t* cap, const char* data, size_t n) {
  if (*len + n > *cap) {
    size_t c = *cap ? *cap : 4096;
    while (c < *len + n)
      c *= 2;
    char* b = realloc(*buf, c);
    if (!b) return 0;
    *buf = b;
    *cap = c;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
  return 1;
}

static void set_events(conn* c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)(c - conns)};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void fail(conn* c) {
  if (c->state == st_dead) return;
  if (c->counted_ready) {
    ++S->count.closed;
  } else {
    ++S->count.failed;
    if (c->state != st_idle && pending > 0) --pending;
  }
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->state = st_dead;
  c->in_len = c->out_len = 0;
}

// Writes what can be written now, keeps the rest for EPOLLOUT.
static void flush(conn* c) {
  c->dirty = 0;
  if (c->state == st_dead || c->out_len == 0) return;
  const ssize_t w = write(c->fd, c->out, c->out_len);
  if (w < 0 && errno != EAGAIN && errno != EINTR) return fail(c);
  if (w > 0) {
    memmove(c->out, c->out + w, c->out_len - (size_t)w);
    c->out_len -= (size_t)w;
  }
  const int blocked = c->out_len > 0;
  if (blocked != c->want_out) {
    c->want_out = blocked;
    set_events(c, blocked ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }
}

static void send_bytes(conn* c, const char* data, size_t n) {
  if (c->state == st_dead) return;
  if (O->coalesce || c->out_len > 0) {
    if (!append(&c->out, &c->out_len, &c->out_cap, data, n)) return fail(c);
    if (O->coalesce && !c->dirty && !c->want_out) {
      c->dirty = 1;
      dirty[dirty_count++] = (size_t)(c - conns);
    }
    return;
  }
  const ssize_t w = write(c->fd, data, n);
  if (w < 0 && errno != EAGAIN && errno != EINTR) return fail(c);
  const size_t done = w > 0 ? (size_t)w : 0;
  if (done == n) return;
  if (!append(&c->out, &c->out_len, &c->out_cap, data + done, n - done)) return fail(c);
  c->want_out = 1;
  set_events(c, EPOLLIN | EPOLLOUT);
}

static void send_text(conn* c, const char* packet, size_t len) {
  send_bytes(c, frame_buf, wire_text_frame(frame_buf, packet, len));
}

static void send_event(conn* c, const char* event, long ack, uint64_t seq) {
  const size_t n = wire_event_packet(packet_buf, event, ack, now_ns(), seq, O->payload);
  send_text(c, packet_buf, n);
  ++S->count.sent;
}

static void send_echo(conn* c) {
  long ack = -1;
  if (O->ack) ack = c->next_ack++;
  send_event(c, "echo", ack, 0);
}

// The sender keeps `window` broadcasts in flight; one is done when every receiver has it.
static void drive_sender(uint64_t now) {
  conn* c = &conns[0];
  if (c->state != st_ready || S->phase == phase_connecting || S->phase == phase_stop) return;
  while (broadcasts_done < broadcasts_sent) {
    if (deliveries[broadcasts_done % fanout_ring] >= S->receivers) {
      ++broadcasts_done;
      last_progress_ns = now;
    } else if (now - last_progress_ns > stall_after_ns) {
      ++S->count.stalls;  // a receiver missed it (or went away): say so, go on
      ++broadcasts_done;
      last_progress_ns = now;
    } else {
      break;
    }
  }
  if (broadcasts_done == broadcasts_sent) last_progress_ns = now;
  while (broadcasts_sent < broadcasts_done + O->window) {
    deliveries[broadcasts_sent % fanout_ring] = 0;
    send_event(c, "broadcast", -1, broadcasts_sent);
    ++broadcasts_sent;
  }
}

static void become_ready(conn* c) {
  c->state = st_ready;
  c->counted_ready = 1;
  if (pending > 0) --pending;
  histogram_record_ns(&S->connect_latency, now_ns() - c->started_ns);
  ++S->count.ready;
  if (O->scenario == scenario_echo)
    for (unsigned k = 0; k < O->window; ++k)
      send_echo(c);
}

static void on_stamped(conn* c, const char* m, size_t len) {
  if (c->sender) return;  // its own copy of a broadcast
  uint64_t ts, seq;
  if (!wire_find_stamp(m, len, &ts, &seq)) return;
  const uint64_t now = now_ns();
  if (S->phase == phase_measure && now >= ts) histogram_record_ns(&S->latency, now - ts);
  ++S->count.received;
  if (O->scenario == scenario_echo) {
    if (S->phase != phase_stop) send_echo(c);
    return;
  }
  if (++deliveries[seq % fanout_ring] == S->receivers) drive_sender(now);
}

static int starts(const char* m, size_t len, const char* prefix) {
  const size_t n = strlen(prefix);
  return len >= n && memcmp(m, prefix, n) == 0;
}

static void on_message(conn* c, const char* m, size_t len) {
  if (len == 1 && m[0] == '2') return send_text(c, "3", 1);  // Engine.IO ping
  switch (c->state) {
    case st_eio_open:
      if (!starts(m, len, "0{")) return fail(c);
      c->state = st_sio_connect;
      return send_text(c, "40", 2);
    case st_sio_connect:
      if (!starts(m, len, "40")) return fail(c);
      if (O->authenticate) {
        static const char auth[] = "42[\"authenticate\",{\"token\":\"mingen\"}]";
        c->state = st_auth;
        return send_text(c, auth, sizeof auth - 1);
      }
      return become_ready(c);
    case st_auth:
      if (starts(m, len, "42[\"authenticated\"")) become_ready(c);
      return;
    case st_ready:
      if (starts(m, len, "42") || starts(m, len, "43")) return on_stamped(c, m, len);
      if (starts(m, len, "41") || starts(m, len, "1")) fail(c);  // disconnected by the server
      return;
    default:
      return;
  }
}

// Consumes what it can of data; returns how much (all of it once the connection failed).
static size_t on_bytes(conn* c, const char* data, size_t size) {
  size_t used = 0;
  if (c->state == st_upgrade) {
    const char* end = memmem(data, size, "\r\n\r\n", 4);
    if (!end) {
      if (size > 8192) fail(c);
      return c->state == st_dead ? size : 0;
    }
    if (!starts(data, size, "HTTP/1.1 101")) {
      fail(c);
      return size;
    }
    c->state = st_eio_open;
    used = (size_t)(end - data) + 4;
  }
  while (c->state != st_dead) {
    unsigned opcode;
    const char* payload;
    size_t plen, fsize;
    const int r = wire_next_frame(data + used, size - used, max_server_frame, &opcode, &payload,
                                  &plen, &fsize);
    if (r == 0) break;
    if (r < 0) {
      fail(c);
      break;
    }
    used += fsize;
    if (opcode == 1) {
      on_message(c, payload, plen);
    } else if (opcode == 9) {
      send_bytes(c, frame_buf, wire_control_frame(frame_buf, 10, payload, plen));
    } else if (opcode == 8) {
      fail(c);
    }
  }
  return c->state == st_dead ? size : used;
}

static void on_readable(conn* c) {
  const ssize_t r = read(c->fd, read_buf, O->read_size);
  if (r == 0) return fail(c);
  if (r < 0) {
    if (errno != EAGAIN && errno != EINTR) fail(c);
    return;
  }
  if (c->in_len == 0) {
    const size_t used = on_bytes(c, read_buf, (size_t)r);
    if (c->state != st_dead && used < (size_t)r)
      if (!append(&c->in, &c->in_len, &c->in_cap, read_buf + used, (size_t)r - used)) fail(c);
    return;
  }
  if (!append(&c->in, &c->in_len, &c->in_cap, read_buf, (size_t)r)) return fail(c);
  const size_t used = on_bytes(c, c->in, c->in_len);
  if (c->state == st_dead) return;
  memmove(c->in, c->in + used, c->in_len - used);
  c->in_len -= used;
}

static void open_conn(size_t i) {
  conn* c = &conns[i];
  c->started_ns = now_ns();
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return fail(c);
  const int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (O->source_count > 0) {
    // Each source address has its own ephemeral ports towards the server's one port.
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in local = {.sin_family = AF_INET};
    inet_pton(AF_INET, O->sources[i % (size_t)O->source_count], &local.sin_addr);
    if (bind(c->fd, (struct sockaddr*)&local, sizeof local) != 0) return fail(c);
  }
  struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons((uint16_t)O->port)};
  inet_pton(AF_INET, O->host, &remote.sin_addr);
  if (connect(c->fd, (struct sockaddr*)&remote, sizeof remote) != 0 && errno != EINPROGRESS)
    return fail(c);
  c->state = st_tcp;
  ++pending;
  struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = i};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void on_event(size_t i, uint32_t events) {
  conn* c = &conns[i];
  if (c->state == st_dead) return;
  if (c->state == st_tcp) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) return fail(c);
    set_events(c, EPOLLIN);
    c->state = st_upgrade;
    char request[512];
    const size_t n = wire_upgrade_request(request, sizeof request, O->host, O->port, O->path);
    if (n == 0) return fail(c);
    return send_bytes(c, request, n);
  }
  if (events & EPOLLIN) {
    on_readable(c);
    if (c->state == st_dead) return;
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    return fail(c);
  }
  if ((events & EPOLLOUT) && c->want_out) flush(c);
}

int loop_run(run_state* s, phase_tick tick) {
  S = s;
  O = s->opts;
  const int fanout = O->scenario == scenario_fanout;
  conn_count = O->connections + (fanout ? 1U : 0U);
  conns = calloc(conn_count, sizeof *conns);
  dirty = calloc(conn_count, sizeof *dirty);
  packet_buf = malloc(O->payload + 256);
  frame_buf = malloc(O->payload + 256 + 14);
  read_buf = malloc(O->read_size);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (!conns || !dirty || !packet_buf || !frame_buf || !read_buf || ep < 0) return 0;
  for (size_t i = 0; i < conn_count; ++i)
    conns[i].fd = -1;
  if (fanout) conns[0].sender = 1;  // opened first: connected before the receivers
  struct epoll_event events[1024];
  while (s->phase != phase_stop) {
    const uint64_t now = now_ns();
    while (next_to_open < conn_count && pending < O->max_pending)
      open_conn(next_to_open++);
    tick(s, now);
    if (fanout) drive_sender(now);
    for (size_t k = 0; k < dirty_count; ++k)
      flush(&conns[dirty[k]]);
    dirty_count = 0;
    const int n = epoll_wait(ep, events, 1024, 10);
    for (int k = 0; k < n; ++k)
      on_event((size_t)events[k].data.u64, events[k].events);
  }
  for (size_t i = 0; i < conn_count; ++i) {
    if (conns[i].fd >= 0) close(conns[i].fd);
    free(conns[i].in);
    free(conns[i].out);
  }
  close(ep);
  return 1;
}
