#include <ignis/engineio/error.hpp>

#include <string>

namespace ignis::engineio {
namespace {

class codec_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ignis.engineio.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<codec_error>(ev)) {
      case codec_error::empty_packet:
        return "empty Engine.IO packet";
      case codec_error::unknown_packet_type:
        return "unknown Engine.IO packet type";
      case codec_error::invalid_base64:
        return "invalid base64 in a binary Engine.IO packet";
      case codec_error::too_many_packets:
        return "too many packets in one polling payload";
      case codec_error::invalid_handshake:
        return "invalid Engine.IO handshake";
    }
    return "unknown Engine.IO codec error";
  }
};

}  // namespace

const boost::system::error_category& codec_category() noexcept {
  static const codec_category_impl instance;
  return instance;
}

}  // namespace ignis::engineio
