#define _GNU_SOURCE
#include "wire.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state;

uint32_t wire_random(void) {
  if (rng_state == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rng_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ 0x9e3779b97f4a7c15ULL;
  }
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}

static void base64_16(const unsigned char in[16], char out[25]) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < 15; i += 3) {
    const uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  const uint32_t v = (uint32_t)in[15] << 16;
  out[o++] = alphabet[(v >> 18) & 63];
  out[o++] = alphabet[(v >> 12) & 63];
  out[o++] = '=';
  out[o++] = '=';
  out[o] = '\0';
}

size_t wire_upgrade_request(char* out, size_t cap, const char* host, unsigned port,
                            const char* path) {
  unsigned char nonce[16];
  for (int i = 0; i < 16; i += 4) {
    const uint32_t r = wire_random();
    memcpy(nonce + i, &r, 4);
  }
  char key[25];
  base64_16(nonce, key);
  const int n = snprintf(out, cap,
                         "GET %s?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s:%u\r\n"
                         "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n",
                         path, host, port, key);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static size_t frame(char* out, unsigned opcode, const char* payload, size_t len) {
  size_t h = 0;
  out[h++] = (char)(0x80 | opcode);
  if (len < 126) {
    out[h++] = (char)(0x80 | len);
  } else if (len < 65536) {
    out[h++] = (char)(0x80 | 126);
    out[h++] = (char)(len >> 8);
    out[h++] = (char)(len & 0xff);
  } else {
    out[h++] = (char)(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      out[h++] = (char)(((uint64_t)len >> (8 * i)) & 0xff);
  }
  const uint32_t r = wire_random();
  unsigned char key[4];
  memcpy(key, &r, 4);
  memcpy(out + h, key, 4);
  h += 4;
  unsigned char* dst = (unsigned char*)out + h;
  const unsigned char* src = (const unsigned char*)payload;
  for (size_t i = 0; i < len; ++i)
    dst[i] = src[i] ^ key[i & 3];
  return h + len;
}

size_t wire_text_frame(char* out, const char* payload, size_t len) {
  return frame(out, 1, payload, len);
}

size_t wire_control_frame(char* out, unsigned opcode, const char* payload, size_t len) {
  return frame(out, opcode, payload, len < 126 ? len : 125);
}

int wire_next_frame(const char* data, size_t size, size_t max_len, unsigned* opcode,
                    const char** payload, size_t* payload_len, size_t* frame_size) {
  if (size < 2) return 0;
  const unsigned char* p = (const unsigned char*)data;
  if (p[1] & 0x80) return -1;  // servers never mask (RFC 6455 5.1)
  uint64_t len = p[1] & 0x7f;
  size_t header = 2;
  if (len == 126) {
    if (size < 4) return 0;
    len = ((uint64_t)p[2] << 8) | p[3];
    header = 4;
  } else if (len == 127) {
    if (size < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | p[2 + i];
    header = 10;
  }
  if (len > max_len) return -1;
  if (size - header < len) return 0;
  *opcode = p[0] & 0x0f;
  *payload = data + header;
  *payload_len = (size_t)len;
  *frame_size = header + (size_t)len;
  return 1;
}

static void put_digits(char* at, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    at[i] = (char)('0' + v % 10);
    v /= 10;
  }
}

enum { stamp_size = 1 + 16 + 1 + 10 + 1 };

size_t wire_event_packet(char* out, const char* event, long ack, uint64_t ts_ns, uint64_t seq,
                         unsigned bytes) {
  size_t n = 0;
  out[n++] = '4';
  out[n++] = '2';
  if (ack >= 0) n += (size_t)sprintf(out + n, "%ld", ack);
  n += (size_t)sprintf(out + n, "[\"%s\",\"", event);
  out[n++] = '@';
  put_digits(out + n, ts_ns, 16);
  n += 16;
  out[n++] = ':';
  put_digits(out + n, seq, 10);
  n += 10;
  out[n++] = ':';
  if (bytes > stamp_size) {
    memset(out + n, 'x', bytes - stamp_size);
    n += bytes - stamp_size;
  }
  out[n++] = '"';
  out[n++] = ']';
  return n;
}

static int get_digits(const char* at, int digits, uint64_t* v) {
  uint64_t x = 0;
  for (int i = 0; i < digits; ++i) {
    if (at[i] < '0' || at[i] > '9') return 0;
    x = x * 10 + (uint64_t)(at[i] - '0');
  }
  *v = x;
  return 1;
}

int wire_find_stamp(const char* packet, size_t len, uint64_t* ts_ns, uint64_t* seq) {
  const char* at = memchr(packet, '@', len);
  if (!at || (size_t)(packet + len - at) < stamp_size) return 0;
  return at[17] == ':' && at[28] == ':' && get_digits(at + 1, 16, ts_ns) &&
         get_digits(at + 18, 10, seq);
}
