#pragma once

// Unpredictable bytes from the kernel's generator, the one source of the project's session and
// socket ids, adapter ids, WebSocket masking keys and handshake nonces.
#include <cstdint>
#include <span>

namespace ignis {

/// Fills `out` from the kernel's CSPRNG (getrandom(2), which blocks only until the kernel has
/// seeded it once after boot). A call interrupted by a signal is repeated. Any other failure
/// throws std::system_error: it does not go away by retrying (a kernel without getrandom, a
/// seccomp filter that refuses it), and bytes from a weaker source would make ids and masks
/// guessable.
void random_bytes(std::span<std::uint8_t> out);

}  // namespace ignis
