#pragma once

// The TLS context of --tls-cert / --tls-key.
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace ignis::program {

struct tls_load_result {
  std::shared_ptr<boost::asio::ssl::context> context;  ///< null on failure
  std::string error;                                   ///< names the file and the reason
};

/// A server context (TLS 1.2 and later) with the PEM certificate chain and private key.
tls_load_result load_tls_context(const std::string& cert_file, const std::string& key_file);

}  // namespace ignis::program
