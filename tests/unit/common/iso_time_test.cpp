#include <ignis/common/iso_time.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace {

// Expected strings are what Node writes for new Date(ms).toISOString().
TEST(IsoTime, MatchesJavaScriptOverTheWholeDateRange) {
  struct sample {
    std::int64_t ms;
    const char* iso;
  };
  const sample samples[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {1'764'115'200'123, "2025-11-26T00:00:00.123Z"},
      {951'782'400'000, "2000-02-29T00:00:00.000Z"},
      {8'640'000'000'000'000, "+275760-09-13T00:00:00.000Z"},
      {-8'640'000'000'000'000, "-271821-04-20T00:00:00.000Z"},
      {253'402'300'800'000, "+010000-01-01T00:00:00.000Z"},
      {-62'167'219'200'000, "0000-01-01T00:00:00.000Z"},
      {-62'198'755'200'000, "-000001-01-01T00:00:00.000Z"},
  };
  for (const auto& s : samples)
    EXPECT_EQ(ignis::iso_time_from_ms(s.ms), s.iso) << s.ms;
}

TEST(IsoTime, TimePointsUseMilliseconds) {
  const auto t =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'000'000'000'123));
  EXPECT_EQ(ignis::iso_time(t), "2001-09-09T01:46:40.123Z");
}

// Expected strings are what Node writes for new Date(ms).toString() with TZ=UTC.
TEST(IsoTime, DateStringsAreJavaScriptsToStringInUtc) {
  EXPECT_EQ(ignis::date_string_from_ms(1'796'584'997'357),
            "Sun Dec 06 2026 19:23:17 GMT+0000 (Coordinated Universal Time)");
  EXPECT_EQ(ignis::date_string_from_ms(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)");
  EXPECT_EQ(ignis::date_string_from_ms(-259'200'000),
            "Mon Dec 29 1969 00:00:00 GMT+0000 (Coordinated Universal Time)");
  EXPECT_EQ(ignis::date_string_from_ms(951'782'400'999),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)");
}

}  // namespace
