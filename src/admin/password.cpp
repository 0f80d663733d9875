// bcrypt through libxcrypt (Debian's libcrypt1, crypt_rn and crypt_gensalt_rn), which checks the
// $2a$, $2b$ and $2y$ forms that bcryptjs and the bcrypt tools write.
#include "admin/protocol.hpp"

#include <ignis/admin/instrument.hpp>
#include <ignis/common/random.hpp>

#include <crypt.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace ignis::admin {
namespace {

constexpr std::string_view bcrypt_alphabet =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// crypt_rn of `password` with `setting` into `out` (a crypt_data, about 32 KiB: kept off the
// stack); nullptr when the setting is refused.
const char* run_crypt(const std::string& password, const std::string& setting, crypt_data& out) {
  std::memset(&out, 0, sizeof out);
  return crypt_rn(password.c_str(), setting.c_str(), &out, sizeof out);
}

}  // namespace

bool is_bcrypt_hash(std::string_view h) noexcept {
  // $2b$12$ + 22 characters of salt + 31 of digest.
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (!digit(h[4]) || !digit(h[5])) return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (std::size_t i = 7; i < h.size(); ++i) {
    if (bcrypt_alphabet.find(h[i]) == std::string_view::npos) return false;
  }
  return true;
}

bool check_password(std::string_view password, std::string_view hash) {
  if (!is_bcrypt_hash(hash) || password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  const char* out = run_crypt(std::string(password), std::string(hash), *data);
  const bool ok = out && detail::constant_time_equal(out, hash);
  std::memset(data.get(), 0, sizeof *data);
  return ok;
}

std::string hash_password(std::string_view password, unsigned cost) {
  if (cost < 4 || cost > 31) throw std::invalid_argument("the bcrypt cost must be from 4 to 31");
  if (password.find('\0') != std::string_view::npos)
    throw std::invalid_argument("a password cannot hold a NUL byte");
  std::array<std::uint8_t, 16> salt{};
  random_bytes(salt);
  auto data = std::make_unique<crypt_data>();
  const char* setting =
      crypt_gensalt_rn("$2b$", cost, reinterpret_cast<const char*>(salt.data()),
                       static_cast<int>(salt.size()), data->setting, sizeof data->setting);
  if (!setting) throw std::runtime_error("crypt_gensalt_rn refused the bcrypt setting");
  const std::string prefix(setting);
  const char* out = run_crypt(std::string(password), prefix, *data);
  if (!out || !is_bcrypt_hash(out)) throw std::runtime_error("crypt_rn could not hash");
  std::string hash(out);
  std::memset(data.get(), 0, sizeof *data);
  return hash;
}

}  // namespace ignis::admin
