#pragma once

// JSON as JavaScript writes it. Socket.IO payloads are produced by JSON.stringify on the Node side;
// writing the same bytes keeps captures, tests and the Redis adapters' messages comparable.
#include <ignis/common/result.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace ignis::socketio {

/// Appends `v` as JavaScript's JSON.stringify would write it:
/// * int64/uint64 as exact integers (a JavaScript reader rounds them to the nearest double, which
///   is what it would have held anyway);
/// * doubles in the shortest form that reads back to the same double, with JavaScript's choice of
///   notation: plain decimals for magnitudes in [1e-7, 1e21) ("0.1", "123456789012345680000"),
///   otherwise "1e+21" / "1.5e-7"; -0 as "0"; NaN and ±Infinity as "null";
/// * strings with \" \\ \b \f \n \r \t escaped, other control characters as \u00XX (lowercase hex),
///   everything else (including non-ASCII UTF-8 and U+2028/U+2029) copied as is;
/// * objects in their stored key order, without any whitespace.
/// Boost.JSON's own serializer writes doubles as "1.5E0", which JavaScript reads fine but which
/// differs from what Node sends.
void serialize_js(const boost::json::value& v, std::string& out);

/// Convenience form of the above.
std::string serialize_js(const boost::json::value& v);

/// Parses one JSON text (surrounding whitespace allowed, anything else after it an error) as
/// JavaScript's JSON.parse reads it, within `max_depth` levels of arrays/objects. Errors are
/// Boost.JSON's (error::syntax, error::extra_data, error::too_deep, ...); never throws on bad
/// input.
///
/// Unlike boost::json::parse in Boost 1.81, doubles are correctly rounded (about one in ten
/// Math.random() values comes out one ulp off otherwise, and would be relayed with different
/// digits than Node's). Integers that fit int64/uint64 stay exact, as Boost.JSON keeps them; a
/// JavaScript peer cannot tell, since it writes big numbers with their shortest digits.
/// Differences from JSON.parse: "\ud800" (a lone surrogate escape) is an error, since Boost.JSON
/// holds UTF-8; and, as everywhere in the codec, the text must be valid UTF-8.
result<boost::json::value> parse_js(std::string_view text, std::size_t max_depth = 32);

}  // namespace ignis::socketio
