// The client's side of the wire, written from RFC 6455 and the Engine.IO v4 / Socket.IO v5
// protocol descriptions: the upgrade request, masked text frames (a fresh random key per frame,
// as a browser or the ws package does), and a reader of the server's frames.
#ifndef MINGEN_WIRE_H
#define MINGEN_WIRE_H

#include <stddef.h>
#include <stdint.h>

// The HTTP upgrade request to /socket.io/?EIO=4&transport=websocket, with a random key.
size_t wire_upgrade_request(char* out, size_t cap, const char* host, unsigned port,
                            const char* path);

// Writes a masked text frame carrying `payload` to `out` (room: len + 14); returns its size.
size_t wire_text_frame(char* out, const char* payload, size_t len);

// A masked frame with another opcode (pong, close); `len` < 126.
size_t wire_control_frame(char* out, unsigned opcode, const char* payload, size_t len);

// One frame of the server's: 1 with opcode, payload and total size set, 0 when incomplete, -1 when
// malformed (a masked server frame, a length past `max_len`).
int wire_next_frame(const char* data, size_t size, size_t max_len, unsigned* opcode,
                    const char** payload, size_t* payload_len, size_t* frame_size);

// The stamp inside an event's string argument: "@<16 digits ns>:<10 digits seq>:" then filler.
// Writes the packet `42<ack>["<event>","@…"]` (ack < 0: none), `bytes` long argument; returns size.
size_t wire_event_packet(char* out, const char* event, long ack, uint64_t ts_ns, uint64_t seq,
                         unsigned bytes);
// Finds the stamp in any packet that carries one; 1 when found.
int wire_find_stamp(const char* packet, size_t len, uint64_t* ts_ns, uint64_t* seq);

// xorshift: masking keys and WebSocket keys (unpredictable enough for a load generator).
uint32_t wire_random(void);

#endif
