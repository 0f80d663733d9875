#include <ignis/common/iso_time.hpp>

#include <cstdio>
#include <cstdlib>

namespace ignis {
namespace {

struct civil_date {
  std::int64_t year;
  int month;  // 1-12
  int day;    // 1-31
};

// Proleptic Gregorian date of a day count from 1970-01-01, for any count: the calendar repeats
// every 400 years (146,097 days), so the day is placed in its 400-year era first, with years
// counted from March so that the leap day ends the year.
civil_date civil_from_days(std::int64_t days) {
  const std::int64_t shifted = days + 719'468;  // days from 0000-03-01
  const std::int64_t era = (shifted >= 0 ? shifted : shifted - 146'096) / 146'097;
  const std::int64_t day_of_era = shifted - era * 146'097;  // [0, 146096]
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1'460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365]
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;           // [0, 11]
  const int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  const int month =
      static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  const std::int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

}  // namespace

std::string iso_time_from_ms(std::int64_t ms) {
  constexpr std::int64_t ms_per_day = 86'400'000;
  std::int64_t days = ms / ms_per_day;
  std::int64_t in_day = ms % ms_per_day;
  if (in_day < 0) {  // floor, not truncation, for times before the epoch
    in_day += ms_per_day;
    --days;
  }
  const auto date = civil_from_days(days);
  const auto ms_part = static_cast<int>(in_day % 1000);
  const auto secs = static_cast<int>(in_day / 1000);
  char year[24];
  if (date.year >= 0 && date.year <= 9999) {
    std::snprintf(year, sizeof year, "%04lld", static_cast<long long>(date.year));
  } else {
    std::snprintf(year, sizeof year, "%c%06lld", date.year < 0 ? '-' : '+',
                  static_cast<long long>(std::llabs(date.year)));
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%02d-%02dT%02d:%02d:%02d.%03dZ", year, date.month, date.day,
                secs / 3600, secs / 60 % 60, secs % 60, ms_part);
  return buf;
}

std::string date_string_from_ms(std::int64_t ms) {
  constexpr std::int64_t ms_per_day = 86'400'000;
  std::int64_t days = ms / ms_per_day;
  std::int64_t in_day = ms % ms_per_day;
  if (in_day < 0) {
    in_day += ms_per_day;
    --days;
  }
  const auto date = civil_from_days(days);
  // 1970-01-01 was a Thursday.
  static constexpr const char* weekdays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto weekday = static_cast<std::size_t>(((days % 7) + 7) % 7);
  const auto secs = static_cast<int>(in_day / 1000);
  char buf[96];
  std::snprintf(buf, sizeof buf,
                "%s %s %02d %04lld %02d:%02d:%02d GMT+0000 (Coordinated Universal Time)",
                weekdays[weekday], months[date.month - 1], date.day,
                static_cast<long long>(date.year), secs / 3600, secs / 60 % 60, secs % 60);
  return buf;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  return iso_time_from_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

}  // namespace ignis
