#pragma once

// The project's error vocabulary: codecs return result<T>, asynchronous operations complete with
// an error_code. Peer input never throws.
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace ignis {

using boost::system::error_code;

template <class T>
using result = boost::system::result<T, error_code>;

}  // namespace ignis
